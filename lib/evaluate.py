"""Does it talk like me? Scores a tuned adapter against my real replies to the same validation prompts.
Owns generation and loss on those prompts and the tidy metric table, for all prompts and for the new
replies (lib.scores); lib.report turns it into eval.md and figures, lib.blind into the blind test.

`tuned_no_time` is the same adapter prompted without lib.template's time line: how much the line is
worth for replies that fit the moment (time group, lib.timefit).

    python -m lib.evaluate run --profile sample-cpu            # table + report + blind test
    python -m lib.evaluate blind --n 12 --out outputs/report/blind_test.html
"""
from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lib import blind, config, dataset, guards, models, report, runs, scores, tiny
from lib.chat import build_prompt, cut_at_markers, turn_markers
from lib.report import STYLE_SYSTEMS, SYSTEMS
from lib.template import is_time_line

GENERATE_KEYS = ("max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "no_repeat_ngram_size")


# ----------------------------------------------------------------------------- prompts

def load_prompts(dataset_dir: str | Path, n: int | None = 200, seed: int = 0,
                 context_turns: int | None = None) -> list[dict]:
    """Validation rows as prompts: `history` (messages before my reply, the time line last when the dataset
    has it), `her` (her last turn), `real`, `hour` and `gap_hours` (her time fields; None in a dataset
    built before them).

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
            system = [m for m in history[:1] if m["role"] == "system" and not is_time_line(m)]
            history = system + [m for m in history if m["role"] != "system"][-context_turns:] + \
                [m for m in history[-1:] if is_time_line(m)]
        her = next((m["content"] for m in reversed(history) if m["role"] == "user"), "")
        her_time = rows[i].get("her_time")
        out.append({"id": i, "history": history, "her": her, "real": msgs[-1]["content"],
                    "hour": int(her_time[11:13]) if her_time else None, "gap_hours": rows[i].get("gap_hours")})
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


def time_line_of(history: list[dict]) -> str | None:
    return next((m["content"] for m in history if is_time_line(m)), None)


def _prompt_texts(tok, prompts: list[dict], max_prompt_tokens: int, time_line: bool = True) -> list[str]:
    texts = []
    for p in prompts:  # the dataset's system lines go to build_prompt, the history holds turns only
        system = next((m["content"] for m in p["history"] if m["role"] == "system" and not is_time_line(m)), None)
        turns = [m for m in p["history"] if m["role"] != "system"]
        texts.append(build_prompt(tok, turns, max_prompt_tokens=max_prompt_tokens, system=system,
                                  time_line=time_line_of(p["history"]) if time_line else None))
    return texts


def generate(model, tok, prompts: list[dict], *, generation: dict | None = None, batch_size: int = 32,
             max_prompt_tokens: int = 192, seed: int = 0, progress: bool = True, desc: str = "generate",
             time_line: bool = True) -> list[str]:
    """One reply per prompt, batched with left padding; raw model output cut at the turn's end;
    `time_line=False` drops the time line from the prompts' system line.

    The app's filters and regeneration are deliberately not applied: evaluation reports how often the
    model itself fails, which they would hide. Its privacy guard is: a phone, card or account number or an
    e-mail the model writes is masked (guards.mask_reply) before any reply is scored or shown (eval.md, the
    blind test), like the real replies, which the build masked.
    """
    import torch
    from tqdm.auto import tqdm

    gen = {**models.GENERATION, **(generation or {})}
    gen = {k: v for k, v in gen.items() if k in GENERATE_KEYS}  # the app's keys (n_candidates, ...) are not HF's
    do_sample = gen.get("temperature", 0) > 0
    if not do_sample:
        gen.pop("temperature", None), gen.pop("top_p", None)
    texts = _prompt_texts(tok, prompts, max_prompt_tokens, time_line)
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
        out.extend(guards.mask_reply(cut_at_markers(t, markers)[0].strip())
                   for t in tok.batch_decode(new, skip_special_tokens=False))
    return out


def reply_nll(model, tok, prompts: list[dict], *, batch_size: int = 16, max_length: int = 256,
              progress: bool = True, desc: str = "loss") -> tuple[np.ndarray, np.ndarray]:
    """Per prompt: (summed NLL, token count) of my real reply given its context, as in training; their
    ratio over a set of prompts is its loss.

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
    sums, counts = np.zeros(len(seqs)), np.zeros(len(seqs), dtype=np.int64)
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
                                                 ignore_index=-100, reduction="none").view(lab.shape)
        sums[start:start + len(batch)] = loss.sum(dim=1).double().cpu().numpy()
        counts[start:start + len(batch)] = (lab != -100).sum(dim=1).cpu().numpy()
    if counts.sum() == 0:
        raise ValueError("no reply tokens to score: is the chat template's final assistant turn empty?")
    return sums, counts


# ----------------------------------------------------------------------------- the table

def evaluate(adapter_dir: str | Path | None, dataset_dir: str | Path, n_prompts: int = 200, *,
             generation: dict | None = None, batch_size: int = 32, max_prompt_tokens: int = 192,
             max_length: int = 256, context_turns: int | None = None, seed: int = 0, device: str = "cpu",
             progress: bool = True) -> pd.DataFrame:
    """Tidy table (`slice, group, metric, system, value`) comparing base and tuned replies with my real
    ones, on all prompts (slice `all`) and on those whose real reply never occurs in training (`new`).

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
    timed = any(time_line_of(p["history"]) for p in prompts)
    for system in ("tuned", "base"):
        t = time.perf_counter()
        ctx = model.disable_adapter() if system == "base" else _merged(model)
        with ctx:
            kw = dict(generation=generation, batch_size=batch_size, max_prompt_tokens=max_prompt_tokens, seed=seed,
                      progress=progress)
            replies[system] = generate(model, tok, prompts, desc=f"{system} replies", **kw)
            if system == "tuned" and timed:
                replies["tuned_no_time"] = generate(model, tok, prompts, desc="tuned replies, no time line",
                                                    time_line=False, **kw)
            nll[system] = reply_nll(model, tok, prompts, batch_size=max(1, batch_size // 2),
                                    max_length=max_length, progress=progress, desc=f"{system} loss")
        timing[system] = time.perf_counter() - t

    t = time.perf_counter()
    texts = {**replies, "her": [p["her"] for p in prompts]}
    train_mine, train_hers = _turns(train_rows)
    val_mine, val_hers = _turns(dsd["validation"])
    clf = scores.SpeakerClassifier().fit(train_mine, train_hers)
    p_me = {s: clf.p_me(texts[s]) for s in STYLE_SYSTEMS}
    memory = scores.MemoryIndex([r["messages"][-1]["content"] for r in train_rows])
    flags = {s: pd.DataFrame([scores.failure_flags(r, p, memory) for r, p in zip(replies[s], prompts)])
             for s in SYSTEMS}
    known = all(p["hour"] is not None for p in prompts)
    shared = dict(p_me=p_me, flags=flags, nll=nll, heldout_accuracy=clf.accuracy(val_mine, val_hers),
                  style_systems=STYLE_SYSTEMS, systems=SYSTEMS, hours=[p["hour"] for p in prompts] if known else None,
                  gaps=[p["gap_hours"] for p in prompts])
    new = np.array([not memory.seen(r) for r in replies["real"]], dtype=bool)
    rows = [(name, *r) for name, idx in (("all", np.arange(len(prompts))), ("new", np.flatnonzero(new)))
            for r in scores.slice_rows(idx, texts, **shared)]
    timing["metrics"] = time.perf_counter() - t
    timing["total"] = time.perf_counter() - t0

    table = pd.DataFrame(rows, columns=["slice", "group", "metric", "system", "value"])
    samples = []
    for i, p in enumerate(prompts):
        sample = {"id": p["id"], "history": p["history"], "her": p["her"], "time_line": time_line_of(p["history"]),
                  "new": bool(new[i])}
        for s in SYSTEMS:
            sample[s] = replies[s][i]
            sample[f"p_me_{s}"] = round(float(p_me[s][i]), 3)
            sample[f"fail_{s}"] = [k for k, v in flags[s].iloc[i].items() if v and k != "any_failure"]
        if "tuned_no_time" in replies:
            sample["tuned_no_time"] = replies["tuned_no_time"][i]
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
