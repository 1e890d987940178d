"""Does it talk like me? Scores a tuned adapter against my real replies to the same validation prompts.
Owns the tidy metric table (loss, surface style, speaker classifier, failures, diversity); lib.report
turns it into eval.md and figures, lib.blind into the blind test.

    python -m lib.evaluate run --profile sample-cpu            # table + report + blind test
    python -m lib.evaluate blind --n 12 --out outputs/report/blind_test.html
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import math
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from lib import blind, config, dataset, models, report, runs, style, tiny
from lib.chat import build_prompt, cut_at_markers, turn_markers
from lib.guards import is_echo, is_empty, is_loop, is_self_repeat, split_bubbles
from lib.report import STYLE_SYSTEMS, SYSTEMS

MEMO_MIN_CHARS = 8        # shorter replies ("ㅇㅇ", "ㅋㅋㅋ") recur naturally; copying them is not memorising
MEMO_RATIO = 0.9          # difflib ratio above this against one training target = near-verbatim copy
MEMO_NGRAM = 5            # char n-grams used to find candidate targets before difflib
GENERATE_KEYS = ("max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "no_repeat_ngram_size")


# ----------------------------------------------------------------------------- prompts

def load_prompts(dataset_dir: str | Path, n: int | None = 200, seed: int = 0,
                 context_turns: int | None = None) -> list[dict]:
    """Validation rows as prompts: `history` (messages before my reply), `her` (her last turn), `real`.

    Takes a seeded subset when there are more than `n` rows, so the same prompts are used every run
    and the base and tuned systems always answer the same questions. `context_turns` keeps only the
    last k turns of history (1 = her message alone: the model cannot copy my style from the context).
    """
    dsd = dataset.load(dataset_dir)
    if "validation" not in dsd or len(dsd["validation"]) == 0:
        raise ValueError(f"{dataset_dir}: expected a 'validation' split with rows (lib.dataset.build writes it)")
    rows = list(dsd["validation"])
    idx = list(range(len(rows)))
    if n is not None and len(idx) > n:
        idx = sorted(random.Random(seed).sample(idx, n))
    out = []
    for i in idx:
        msgs = rows[i]["messages"]
        if not msgs or msgs[-1]["role"] != "assistant":
            raise ValueError(f"{dataset_dir} validation row {i}: last message must be the assistant reply")
        history = [dict(role=m["role"], content=m["content"]) for m in msgs[:-1]]
        if context_turns:
            system = [m for m in history[:1] if m["role"] == "system"]
            history = system + [m for m in history if m["role"] != "system"][-context_turns:]
        her = next((m["content"] for m in reversed(history) if m["role"] == "user"), "")
        out.append({"id": i, "history": history, "her": her, "real": msgs[-1]["content"]})
    return out


def _turns(rows) -> tuple[list[str], list[str]]:
    """Distinct (my turns, her turns) over dataset rows; context turns repeat across rows, so dedupe."""
    mine, hers = {}, {}
    for row in rows:
        for m in row["messages"]:
            if m["role"] == "assistant":
                mine.setdefault(m["content"], None)
            elif m["role"] == "user":
                hers.setdefault(m["content"], None)
    return list(mine), list(hers)


# ----------------------------------------------------------------------------- model side

def load_model(adapter_dir: str | Path, device: str = "cpu"):
    """(peft model, tokenizer) for an adapter run dir; the base is read from its malbeot.json.

    One copy of the weights serves both systems: `model.disable_adapter()` gives the base.
    """
    from peft import PeftModel

    adapter_dir = Path(adapter_dir).resolve()
    base = runs.base_of(adapter_dir)
    bnb = None if device == "cpu" else runs.read_meta(adapter_dir).get("bnb")
    model, _ = models.load(base, bnb=bnb, device=device)
    model = PeftModel.from_pretrained(model, str(adapter_dir))
    model.eval()
    tok = models.load_tokenizer(str(adapter_dir))
    return model, tok


def _prompt_texts(tok, prompts: list[dict], max_prompt_tokens: int) -> list[str]:
    texts = []
    for p in prompts:  # a dataset system line goes to build_prompt's `system`, the history holds turns only
        system = next((m["content"] for m in p["history"] if m["role"] == "system"), None)
        turns = [m for m in p["history"] if m["role"] != "system"]
        texts.append(build_prompt(tok, turns, max_prompt_tokens=max_prompt_tokens, system=system))
    return texts


def generate(model, tok, prompts: list[dict], *, generation: dict | None = None, batch_size: int = 32,
             max_prompt_tokens: int = 192, seed: int = 0, progress: bool = True, desc: str = "generate") -> list[str]:
    """One reply per prompt, batched with left padding; raw model output cut at the turn's end.

    The app's guards and regeneration are deliberately not applied: evaluation reports how often the
    model itself fails, which the guards would hide.
    """
    import torch
    from tqdm.auto import tqdm

    gen = {**models.GENERATION, **(generation or {})}
    gen = {k: v for k, v in gen.items() if k in GENERATE_KEYS}  # the app's keys (n_candidates, ...) are not HF's
    do_sample = gen.get("temperature", 0) > 0
    if not do_sample:
        gen.pop("temperature", None), gen.pop("top_p", None)
    texts = _prompt_texts(tok, prompts, max_prompt_tokens)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    markers = turn_markers(tok)
    torch.manual_seed(seed)
    out: list[str] = []
    device = next(model.parameters()).device
    for start in tqdm(range(0, len(texts), batch_size), desc=desc, disable=not progress, unit="batch"):
        enc = tok(texts[start:start + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        with torch.no_grad():
            ids = model.generate(**enc, do_sample=do_sample, pad_token_id=tok.pad_token_id,
                                 eos_token_id=tok.eos_token_id, **gen)
        new = ids[:, enc["input_ids"].shape[1]:]
        # keep special tokens so the EOS (and any next-speaker tag) marks where the turn ended
        out.extend(cut_at_markers(t, markers)[0].strip() for t in tok.batch_decode(new, skip_special_tokens=False))
    return out


def reply_nll(model, tok, prompts: list[dict], *, batch_size: int = 16, max_length: int = 256,
              progress: bool = True, desc: str = "loss") -> tuple[float, int]:
    """(mean NLL per token, token count) of my real replies given their context, as in training.

    The chat template marks only the final assistant turn with `{% generation %}`, so its assistant
    mask selects exactly the tokens training scored; long contexts are cut from the left.
    """
    import torch
    from tqdm.auto import tqdm

    seqs: list[tuple[list[int], list[int]]] = []
    for p in prompts:
        msgs = p["history"] + [{"role": "assistant", "content": p["real"]}]
        enc = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
        ids, mask = list(enc["input_ids"]), list(enc["assistant_masks"])
        if not any(mask):  # template without {% generation %}: score everything after the prompt
            n_prompt = len(tok(tok.apply_chat_template(p["history"], tokenize=False, add_generation_prompt=True),
                               add_special_tokens=False)["input_ids"])
            mask = [0] * n_prompt + [1] * (len(ids) - n_prompt)
        seqs.append((ids[-max_length:], mask[-max_length:]))
    total, count = 0.0, 0
    device = next(model.parameters()).device
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    for start in tqdm(range(0, len(seqs), batch_size), desc=desc, disable=not progress, unit="batch"):
        batch = seqs[start:start + batch_size]
        width = max(len(s[0]) for s in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        att = torch.zeros((len(batch), width), dtype=torch.long)
        lab = torch.full((len(batch), width), -100, dtype=torch.long)
        for r, (s, m) in enumerate(batch):
            ids[r, :len(s)] = torch.tensor(s)
            att[r, :len(s)] = 1
            lab[r, :len(s)] = torch.tensor([t if k else -100 for t, k in zip(s, m)])
        with torch.no_grad():
            logits = model(input_ids=ids.to(device), attention_mask=att.to(device)).logits.float()
        logits, lab = logits[:, :-1], lab[:, 1:].to(device)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), lab.reshape(-1),
                                                 ignore_index=-100, reduction="sum")
        total += float(loss)
        count += int((lab != -100).sum())
    if count == 0:
        raise ValueError("no reply tokens to score: is the chat template's final assistant turn empty?")
    return total / count, count


# ----------------------------------------------------------------------------- speaker classifier

class SpeakerClassifier:
    """Char n-gram TF-IDF + logistic regression telling my turns (1) from hers (0).

    Character n-grams need no Korean tokenizer and catch exactly what style is made of: ㅋㅋ, 요, ?!,
    emoji, spacing habits. Trained on the train split only; scored on held-out real turns.
    """

    def __init__(self, ngram_range=(1, 3), C: float = 2.0):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self.pipe = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, min_df=2, sublinear_tf=True),
            LogisticRegression(C=C, max_iter=2000, class_weight="balanced"),
        )

    def fit(self, mine: list[str], hers: list[str]) -> "SpeakerClassifier":
        if len(mine) < 5 or len(hers) < 5:
            raise ValueError(f"speaker classifier needs at least 5 turns per speaker, got {len(mine)} mine / {len(hers)} hers")
        self.pipe.fit(mine + hers, [1] * len(mine) + [0] * len(hers))
        return self

    def p_me(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.pipe.predict_proba([t if t.strip() else " " for t in texts])[:, 1]

    def accuracy(self, mine: list[str], hers: list[str]) -> float:
        p = self.p_me(mine + hers)
        y = np.array([1] * len(mine) + [0] * len(hers))
        return float(((p > 0.5) == y).mean())


# ----------------------------------------------------------------------------- failures, memorisation, diversity

class MemoryIndex:
    """Training targets, searchable for verbatim and near-verbatim copies (char 5-grams, then difflib)."""

    def __init__(self, targets: list[str], n: int = MEMO_NGRAM):
        self.n = n
        self.targets = list(dict.fromkeys(_norm(t) for t in targets))
        self.exact = set(self.targets)
        self.grams: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(self.targets):
            for g in set(_ngrams(t, n)):
                self.grams[g].append(i)

    def best_match(self, text: str) -> tuple[float, str]:
        """(difflib ratio, target) of the closest training target among those sharing char n-grams."""
        t = _norm(text)
        if t in self.exact:
            return 1.0, t
        hits = Counter(i for g in set(_ngrams(t, self.n)) for i in self.grams.get(g, ()))
        best = (0.0, "")
        for i, _ in hits.most_common(8):
            r = difflib.SequenceMatcher(None, t, self.targets[i], autojunk=False).ratio()
            if r > best[0]:
                best = (r, self.targets[i])
        return best

    def is_copy(self, text: str) -> bool:
        t = _norm(text)
        return len(t) >= MEMO_MIN_CHARS and self.best_match(t)[0] > MEMO_RATIO


def _norm(text: str) -> str:
    return " ".join(text.split())


def _ngrams(text: str, n: int) -> list[str]:
    return [text[i:i + n] for i in range(len(text) - n + 1)]


BROKEN_MARKS = ("\ufffd", "<|", "|>", "</s>", "<s>", "[UNK]", "<unk>", "<pad>")


def failure_flags(reply: str, prompt: dict, memory: MemoryIndex) -> dict[str, bool]:
    """Which failures a raw reply shows: the app's guards (whole turn or any bubble, as the app checks
    bubbles), plus memorisation and broken output (template or byte-fallback debris)."""
    parts = [reply, *split_bubbles(reply)]
    bot_turns = [m["content"] for m in prompt["history"] if m["role"] == "assistant"]
    flags = {
        "echo": any(is_echo(p, prompt["her"]) for p in parts),
        "self_repeat": any(is_self_repeat(p, bot_turns) for p in parts),
        "loop": bool(is_loop(reply)),
        "empty_or_broken": bool(is_empty(reply)) or any(m in reply for m in BROKEN_MARKS),
        "memorised": memory.is_copy(reply),
    }
    flags["any_failure"] = any(flags.values())
    return flags


def distinct_n(texts: list[str], n: int) -> float:
    """Unique word n-grams / all word n-grams over a set of replies (higher = more varied)."""
    grams = [tuple(w[i:i + n]) for t in texts for w in [t.split()] for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


# ----------------------------------------------------------------------------- the table

def evaluate(adapter_dir: str | Path | None, dataset_dir: str | Path, n_prompts: int = 200, *,
             generation: dict | None = None, batch_size: int = 32, max_prompt_tokens: int = 192,
             max_length: int = 256, context_turns: int | None = None, seed: int = 0, device: str = "cpu",
             progress: bool = True) -> pd.DataFrame:
    """Tidy table (`group, metric, system, value`) comparing base and tuned replies with my real ones.

    `table.attrs["samples"]` holds the prompts with the real, base and tuned replies (masked text, as
    in the dataset) for the report and the blind test; `table.attrs["timing"]` the seconds per stage.
    """
    adapter_dir = Path(adapter_dir) if adapter_dir else runs.latest()
    t0 = time.perf_counter()
    prompts = load_prompts(dataset_dir, n_prompts, seed, context_turns)
    dsd = dataset.load(dataset_dir)
    train_rows = list(dsd["train"])
    model, tok = load_model(adapter_dir, device)
    timing = {"load": time.perf_counter() - t0}

    replies, nll = {"real": [p["real"] for p in prompts]}, {}
    for system in ("tuned", "base"):
        t = time.perf_counter()
        ctx = model.disable_adapter() if system == "base" else _merged(model)
        with ctx:
            replies[system] = generate(model, tok, prompts, generation=generation, batch_size=batch_size,
                                       max_prompt_tokens=max_prompt_tokens, seed=seed, progress=progress,
                                       desc=f"{system} replies")
            nll[system] = reply_nll(model, tok, prompts, batch_size=max(1, batch_size // 2),
                                    max_length=max_length, progress=progress, desc=f"{system} loss")
        timing[system] = time.perf_counter() - t

    t = time.perf_counter()
    rows: list[tuple[str, str, str, float]] = []
    for system, (loss, ntok) in nll.items():
        rows += [("loss", "val_loss", system, loss), ("loss", "perplexity", system, math.exp(min(loss, 50)))]
    rows.append(("loss", "reply_tokens", "real", float(nll["tuned"][1])))

    texts = {**replies, "her": [p["her"] for p in prompts]}
    feats = {s: style.features(texts[s]) for s in STYLE_SYSTEMS}
    for s in STYLE_SYSTEMS:
        rows += [("style", k, s, v) for k, v in style.rates(texts[s]).items()]
        if s != "real":
            rows += [("style distance", k, s, v) for k, v in style.distances(feats["real"], feats[s]).items()]

    train_mine, train_hers = _turns(train_rows)
    val_mine, val_hers = _turns(dsd["validation"])
    clf = SpeakerClassifier().fit(train_mine, train_hers)
    rows.append(("classifier", "heldout_accuracy", "real", clf.accuracy(val_mine, val_hers)))
    p_me = {s: clf.p_me(texts[s]) for s in STYLE_SYSTEMS}
    for s in STYLE_SYSTEMS:
        rows.append(("classifier", "share_attributed_to_me", s, float((p_me[s] > 0.5).mean())))
        rows.append(("classifier", "mean_p_me", s, float(p_me[s].mean())))

    memory = MemoryIndex([r["messages"][-1]["content"] for r in train_rows])
    flags = {s: pd.DataFrame([failure_flags(r, p, memory) for r, p in zip(replies[s], prompts)]) for s in SYSTEMS}
    for s in SYSTEMS:
        rows += [("failure", k, s, float(v)) for k, v in flags[s].mean().items()]
    for s in SYSTEMS:
        rows += [("diversity", "distinct_1", s, distinct_n(replies[s], 1)),
                 ("diversity", "distinct_2", s, distinct_n(replies[s], 2))]
    timing["metrics"] = time.perf_counter() - t
    timing["total"] = time.perf_counter() - t0

    table = pd.DataFrame(rows, columns=["group", "metric", "system", "value"])
    samples = []
    for i, p in enumerate(prompts):
        sample = {"id": p["id"], "history": p["history"], "her": p["her"]}
        for s in SYSTEMS:
            sample[s] = replies[s][i]
            sample[f"p_me_{s}"] = round(float(p_me[s][i]), 3)
            sample[f"fail_{s}"] = [k for k, v in flags[s].iloc[i].items() if v and k != "any_failure"]
        samples.append(sample)
    table.attrs.update(samples=samples, timing=timing, n_prompts=len(prompts), adapter=str(adapter_dir),
                       dataset=str(dataset_dir))
    return table


@contextlib.contextmanager
def _merged(model):
    """LoRA folded into the weights while the tuned system runs: on CPU the separate adapter matmuls
    cost about as much as the tiny model itself. Quantized bases keep the adapter separate (exact)."""
    quantized = getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False)
    if quantized:
        yield model
        return
    model.merge_adapter()
    try:
        yield model
    finally:
        model.unmerge_adapter()


# ----------------------------------------------------------------------------- profile, CLI

def settings(prof: dict) -> dict:
    """evaluate()'s keyword arguments from a profile (`eval:`, `generation:`, `sft.max_length`, device)."""
    ev = prof.get("eval") or {}
    return {"n_prompts": ev.get("n_prompts", 200), "generation": prof.get("generation"),
            "batch_size": ev.get("batch_size", 32), "max_length": (prof.get("sft") or {}).get("max_length", 256),
            "seed": ev.get("seed", 0), "device": "cpu" if prof.get("device") == "cpu" else "auto"}


def run(profile: str | dict, *, adapter: str | Path | None = None, dataset_dir: str | Path | None = None,
        n_prompts: int | None = None, out_dir: str | Path | None = None, progress: bool = True) -> pd.DataFrame:
    """Notebook 05 and the CLI: evaluate() with the profile's settings, then the report and the blind test."""
    prof = config.profile(profile)
    adapter = Path(adapter) if adapter else runs.latest()
    tiny.ensure_for([runs.base_of(adapter)])
    out_dir = Path(out_dir) if out_dir is not None else config.report()
    kw = settings(prof) | ({"n_prompts": n_prompts} if n_prompts else {})
    table = evaluate(adapter, dataset_dir or config.dataset_dir(prof), progress=progress, **kw)
    report.write(table, out_dir=out_dir)
    blind.write_page(table.attrs["samples"], out_dir / "blind_test.html", n=(prof.get("eval") or {}).get("blind_pairs", 12))
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.evaluate", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="evaluate base vs tuned on validation prompts; write outputs/report/eval.md")
    b = sub.add_parser("blind", help="write the blind-test page (reuses the last run's replies if there are any)")
    for p in (r, b):
        p.add_argument("--profile", default="sample-cpu")
        p.add_argument("--adapter", help="adapter run dir (default: outputs/adapters/latest)")
        p.add_argument("--dataset", help="dataset dir (default: data/processed/<profile dataset name>)")
        p.add_argument("--n-prompts", type=int)
    b.add_argument("--n", type=int, help="number of pairs (default: the profile's eval.blind_pairs, 12)")
    b.add_argument("--out", help="default: outputs/report/blind_test.html")
    b.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    prof = config.load_profile(args.profile)
    if args.cmd == "run":
        table = run(prof, adapter=args.adapter, dataset_dir=args.dataset, n_prompts=args.n_prompts)
        print("\n".join(report.verdict(table)))
        print(f"\nreport: {config.report() / 'eval.md'} ({table.attrs['timing']['total']:.0f}s)")
        return 0
    n = args.n or (prof.get("eval") or {}).get("blind_pairs", 12)
    cached = config.report() / "samples.jsonl"
    if cached.is_file() and not (args.adapter or args.dataset):
        samples = [json.loads(line) for line in cached.read_text(encoding="utf-8").splitlines() if line.strip()]
        print(f"using the replies of the last evaluation ({cached})")
    else:
        adapter = Path(args.adapter) if args.adapter else runs.latest()
        tiny.ensure_for([runs.base_of(adapter)])
        prompts = load_prompts(args.dataset or config.dataset_dir(prof), args.n_prompts or max(4 * n, 50), args.seed)
        model, tok = load_model(adapter, settings(prof)["device"])
        gen = generate(model, tok, prompts, generation=prof.get("generation"), seed=args.seed)
        samples = [{**p, "tuned": g} for p, g in zip(prompts, gen)]
    out = blind.write_page(samples, args.out, n=n, seed=args.seed)
    print(f"blind test: {out} ({n} pairs; open it on the phone, it works offline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
