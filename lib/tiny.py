"""The tiny stand-ins (tiny-neox, tiny-phi): the real model classes at a few million parameters, with a
byte-level BPE tokenizer trained on the chat and a brief pre-training, so the whole pipeline runs on a CPU.

    python -m lib.tiny tiny-neox tiny-phi        # build (once; cached in outputs/models/<name>/)

The model is pre-trained on BOTH speakers' turns with the roles assigned at random per window, so it
writes chat-like Korean in nobody's style in particular and the fine-tune has a persona to add. Building
is an explicit step (the stages' run() call `ensure_for`); lib.models only finds the folder.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import random
import sys
import time
from pathlib import Path

from lib import config, fileio, kakao, models, pairs, privacy

log = logging.getLogger(__name__)


def chat_sessions(chat=None) -> list[list[tuple[str, str]]]:
    """Sessions of (speaker, turn text) from a chat DataFrame (lib.kakao columns; default the sample chat),
    text bubbles only, turns and sessions as lib.pairs defines them (a turn's bubbles "\n"-joined)."""
    if chat is None:
        chat = _sample_chat()
    df = chat[chat["speaker"].notna() & (chat["kind"] == "text")].sort_values("time", kind="stable")
    text = df["text"].astype(str).str.strip()
    df = df.assign(text=text)[text.ne("")]
    session, turn = pairs.segment(df["time"], df["speaker"].astype(str).to_numpy())
    sessions: list[list[tuple[str, str]]] = []
    last_session, last_turn = -1, -1
    for s, t, who, bubble in zip(session, turn, df["speaker"].astype(str), df["text"]):
        if s != last_session:
            sessions.append([])
        if t == last_turn:
            sessions[-1][-1] = (who, sessions[-1][-1][1] + "\n" + bubble)
        else:
            sessions[-1].append((who, bubble))
        last_session, last_turn = s, t
    return sessions


def chat_documents(chat=None, *, window_turns: int = 10, seed: int = 0) -> list[list[dict]]:
    """Pre-training conversations for a base model that writes chat Korean in nobody's style: turns of
    BOTH speakers, shuffled across the whole chat, in windows with 상대/나 alternating. Keeping the real
    order would let the model infer "나 = the other one" from context and pre-learn the persona, leaving
    the fine-tune nothing to show."""
    rng = random.Random(seed)
    turns = [t for session in chat_sessions(chat) for t in session]
    rng.shuffle(turns)
    docs = []
    for start in range(0, len(turns), window_turns):
        first = rng.choice(["user", "assistant"])
        other = "assistant" if first == "user" else "user"
        docs.append([{"role": first if i % 2 == 0 else other, "content": x}
                     for i, (_, x) in enumerate(turns[start:start + window_turns])])
    return docs


def _sample_chat():
    """The bundled fictional chat (data/sample/pc_ko.txt, committed), masked as the dataset build masks it
    (speakers and detected names become pseudonyms, numbers and IDs tokens): nothing is trained on a
    personal value, the stand-ins' own pre-training included; 05_eval shows what the base model writes."""
    df = kakao.read_chat(config.SAMPLE / "pc_ko.txt")
    anon = privacy.Anonymizer(known_names=privacy.auto_names(df), key=privacy.chat_key(df))
    text = df["kind"].eq("text")
    df.loc[text, "text"] = anon.mask_many(df.loc[text, "text"].tolist())
    return df


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()[:16]


_VERIFIED: dict[str, int] = {}


def ensure(name: str, texts=None, *, force: bool = False) -> Path:
    """Build (once) and return outputs/models/<name>/: tokenizer + briefly pre-trained base model.
    `texts`: a chat DataFrame, a list of conversations (message lists) or plain strings; default the sample
    chat. Rebuilt when the recipe, architecture, template or text changes (hash in malbeot-tiny.json)."""
    s = models.REGISTRY.get(name)
    if s is None or not s.tiny:
        raise ValueError(f"{name!r} is not a tiny stand-in: expected one of "
                         f"{[n for n, v in models.REGISTRY.items() if v.tiny]}")
    out = config.MODELS / name
    stamp = out / "malbeot-tiny.json"
    recipe = s.tiny
    if texts is None and not force and stamp.is_file() and _VERIFIED.get(name) == stamp.stat().st_mtime_ns:
        return out  # already checked against the sample text in this process
    if texts is None or hasattr(texts, "columns"):
        docs = chat_documents(texts, window_turns=recipe["window_turns"], seed=recipe["seed"])
    else:
        docs = list(texts)
    key = _digest([s.arch, recipe, s.chat_template, docs])
    if stamp.is_file() and not force:
        meta = json.loads(stamp.read_text(encoding="utf-8"))
        if meta.get("hash") == key:
            if texts is None:
                _VERIFIED[name] = stamp.stat().st_mtime_ns
            return out
    import fcntl

    config.MODELS.mkdir(parents=True, exist_ok=True)
    with open(config.MODELS / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test workers / a notebook must not build it twice at once
        if stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")).get("hash") == key and not force:
            return out
        t0 = time.perf_counter()
        with fileio.atomic_path(out) as tmp:
            info = _build(s, docs, tmp)
            info.update(hash=key, recipe_hash=_digest([s.arch, recipe, s.chat_template]),
                        default_text=texts is None, build_seconds=round(time.perf_counter() - t0, 1))
            fileio.write_json(tmp / "malbeot-tiny.json", info)
        log.info("built %s in %.0fs", name, time.perf_counter() - t0)
    if texts is None:
        _VERIFIED[name] = stamp.stat().st_mtime_ns
    return out


def _build(s: "models.ModelSpec", docs: list, out: Path) -> dict:
    import torch
    from tokenizers import Tokenizer, decoders, pre_tokenizers, trainers
    from tokenizers.models import BPE
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    r = s.tiny
    eos = "<|endoftext|>"
    plain = [d if isinstance(d, str) else "\n".join(m["content"] for m in d) for d in docs]
    tags = list(s.tags.values())
    # byte-level BPE like polyglot's: every byte is in the alphabet, so unseen emoji still encode
    bpe = Tokenizer(BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=r["vocab_size"], special_tokens=[eos], min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(plain + tags * 50, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=eos, bos_token=eos, pad_token=eos,
                                  model_max_length=s.arch["max_position_embeddings"])
    tok.chat_template = s.chat_template
    tok.save_pretrained(out)

    rendered = [d if isinstance(d, str) else tok.apply_chat_template(d, tokenize=False) for d in docs]
    ids: list[int] = []
    for text in rendered:
        ids.extend(tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id])
    L = r["seq_len"]
    blocks = torch.tensor(ids[: len(ids) // L * L]).view(-1, L)
    if len(blocks) < 4:
        raise ValueError(f"only {len(ids)} tokens of text for {s.name}: need at least {4 * L} to pre-train")
    n_val = max(2, len(blocks) // 20)
    g = torch.Generator().manual_seed(r["seed"])
    blocks = blocks[torch.randperm(len(blocks), generator=g)]
    val, train = blocks[:n_val], blocks[n_val:]

    torch.manual_seed(r["seed"])
    cfg = models.make_config(s.name)
    cfg.vocab_size = len(tok)
    cfg.bos_token_id = cfg.eos_token_id = cfg.pad_token_id = tok.eos_token_id
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    opt = torch.optim.AdamW(model.parameters(), lr=r["lr"], weight_decay=0.01, betas=(0.9, 0.98))
    steps, warm = r["steps"], r["warmup"]
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps)))

    def val_loss():
        model.eval()
        with torch.no_grad():
            loss = sum(model(input_ids=b, labels=b).loss.item() for b in val.split(r["batch"])) / len(val.split(r["batch"]))
        model.train()
        return loss

    start = val_loss()
    model.train()
    bar = tqdm(range(steps), desc=f"pre-training {s.name}", leave=False)
    for i in bar:
        idx = torch.randint(0, len(train), (r["batch"],), generator=g)
        x = train[idx]
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(), sched.step(), opt.zero_grad(set_to_none=True)
        if i % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    end = val_loss()
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.eos_token_id
    model.save_pretrained(out)
    return {"name": s.name, "params": models.param_count(model), "vocab": len(tok), "tokens": len(ids),
            "documents": len(docs), "val_loss_start": round(start, 3), "val_loss_end": round(end, 3),
            "recipe": r}


def ensure_for(names) -> list[Path]:
    """Build the tiny stand-ins among `names` (registry names, hub ids, folders); others are left alone."""
    return [ensure(n) for n in dict.fromkeys(map(str, names)) if n in models.REGISTRY and models.REGISTRY[n].tiny]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.tiny", description=__doc__.splitlines()[0])
    tiny = [n for n, s in models.REGISTRY.items() if s.tiny]
    ap.add_argument("names", nargs="*", default=tiny, help=f"which to build (default: {' '.join(tiny)})")
    ap.add_argument("--force", action="store_true", help="rebuild even if the cached one is current")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in args.names:
        print(ensure(name, force=args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
