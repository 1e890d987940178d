"""Does it talk like me? Scores a tuned adapter against my real replies to the same prompts.

Owns the tidy metric table (loss, surface style, speaker classifier, failures, diversity), the report
(outputs/report/eval.md + PNGs) and the blind test (one self-contained HTML page she can take offline).

    python -m lib.evaluate run --profile sample-cpu            # table + report
    python -m lib.evaluate blind --n 12 --out outputs/report/blind_test.html
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import difflib
import html
import json
import math
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from lib import config, fileio

SYSTEMS = ("real", "base", "tuned")
# "her" is only a reference column in the style tables: how far apart the two real speakers are.
STYLE_SYSTEMS = ("real", "base", "tuned", "her")
COLORS = {"real": "#3a3a3a", "base": "#9aa5b1", "tuned": "#f2a900", "her": "#6fa8dc"}
MEMO_MIN_CHARS = 8        # shorter replies ("ㅇㅇ", "ㅋㅋㅋ") recur naturally; copying them is not memorising
MEMO_RATIO = 0.9          # difflib ratio above this against one training target = near-verbatim copy
MEMO_NGRAM = 5            # char n-grams used to find candidate targets before difflib


# ----------------------------------------------------------------------------- prompts

def load_prompts(dataset_dir: str | Path, n: int | None = 200, seed: int = 0,
                 context_turns: int | None = None) -> list[dict]:
    """Validation rows as prompts: `history` (messages before my reply), `her` (her last turn), `real`.

    Takes a seeded subset when there are more than `n` rows, so the same prompts are used every run
    and the base and tuned systems always answer the same questions. `context_turns` keeps only the
    last k turns of history (1 = her message alone: the model cannot copy my style from the context).
    """
    from lib import dataset as ds_mod

    dsd = ds_mod.load(dataset_dir)
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

    from lib import models

    adapter_dir = Path(adapter_dir).resolve()
    meta_path = adapter_dir / "malbeot.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    base = meta.get("base") or meta.get("base_model") or meta.get("base_path")
    if not base:
        cfg = adapter_dir / "adapter_config.json"
        if not cfg.is_file():
            raise FileNotFoundError(f"{adapter_dir}: expected an adapter run dir (malbeot.json or adapter_config.json)")
        base = json.loads(cfg.read_text(encoding="utf-8"))["base_model_name_or_path"]
    quant = None if device == "cpu" else meta.get("quant")
    model, _ = models.load(str(base), quant=quant, device=device)
    model = PeftModel.from_pretrained(model, str(adapter_dir))
    model.eval()
    tok = models.load_tokenizer(str(adapter_dir))
    return model, tok


def _prompt_texts(tok, prompts: list[dict], max_prompt_tokens: int) -> list[str]:
    from lib.chat import build_prompt

    texts = []
    for p in prompts:  # a dataset system line goes to build_prompt's `system`, the history holds turns only
        system = next((m["content"] for m in p["history"] if m["role"] == "system"), None)
        turns = [m for m in p["history"] if m["role"] != "system"]
        texts.append(build_prompt(tok, turns, max_prompt_tokens=max_prompt_tokens, system=system))
    return texts


GENERATE_KEYS = ("max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "no_repeat_ngram_size")


def generate(model, tok, prompts: list[dict], *, generation: dict | None = None, batch_size: int = 32,
             max_prompt_tokens: int = 192, seed: int = 0, progress: bool = True, desc: str = "generate") -> list[str]:
    """One reply per prompt, batched with left padding; raw model output cut at the turn's end.

    The app's guards and regeneration are deliberately not applied: evaluation reports how often the
    model itself fails, which the guards would hide.
    """
    import torch
    from tqdm.auto import tqdm

    from lib.chat import cut_at_markers, turn_markers

    gen = {"max_new_tokens": 48, "temperature": 0.8, "top_p": 0.9, "repetition_penalty": 1.1, **(generation or {})}
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


# ----------------------------------------------------------------------------- style

def style_table(texts: list[str]) -> pd.DataFrame:
    """One row per reply: the surface features of lib.style, the unit every distance below compares."""
    from lib import style

    return style.features(texts)


def _js(p: np.ndarray, q: np.ndarray) -> float:
    from scipy.spatial.distance import jensenshannon

    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    return float(jensenshannon(p, q, base=2))


def style_distances(real: pd.DataFrame, other: pd.DataFrame) -> dict[str, float]:
    """Per-feature distance of `other` to the real replies: Wasserstein for lengths, JS for the rest."""
    from scipy.stats import wasserstein_distance

    from lib import style

    out = {}
    for name, kind in style.FEATURE_KINDS.items():
        a, b = real[name].dropna(), other[name].dropna()
        if a.empty or b.empty:
            out[name] = float("nan")
        elif kind == "length":
            out[name] = float(wasserstein_distance(a, b))
        elif kind == "rate":  # presence per reply -> Bernoulli distributions
            pa, pb = float((a > 0).mean()), float((b > 0).mean())
            out[name] = _js(np.array([pa, 1 - pa]), np.array([pb, 1 - pb]))
        else:  # categorical
            cats = sorted(set(a) | set(b))
            ca, cb = Counter(a), Counter(b)
            out[name] = _js(np.array([ca[c] for c in cats], float), np.array([cb[c] for c in cats], float))
    return out


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
    from lib.chat import is_echo, is_empty, is_loop, is_self_repeat, split_bubbles

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
    from lib import dataset as ds_mod
    from lib import style

    adapter_dir = Path(adapter_dir) if adapter_dir else _latest_adapter()
    t0 = time.perf_counter()
    prompts = load_prompts(dataset_dir, n_prompts, seed, context_turns)
    dsd = ds_mod.load(dataset_dir)
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
    feats = {s: style_table(texts[s]) for s in STYLE_SYSTEMS}
    for s in STYLE_SYSTEMS:
        rows += [("style", k, s, v) for k, v in style.rates(texts[s]).items()]
        if s != "real":
            rows += [("style distance", k, s, v) for k, v in style_distances(feats["real"], feats[s]).items()]

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


def _latest_adapter() -> Path:
    from lib.train import latest_adapter

    return latest_adapter()


# ----------------------------------------------------------------------------- report

LABELS = {
    "val_loss": "validation loss of my real replies", "perplexity": "perplexity of my real replies",
    "share_attributed_to_me": "share the classifier attributes to me", "heldout_accuracy": "classifier accuracy on held-out real turns",
    "distinct_1": "distinct-1 (unique words / words)", "distinct_2": "distinct-2 (unique word pairs / pairs)",
}


def _get(table: pd.DataFrame, group: str, metric: str, system: str) -> float:
    hit = table[(table.group == group) & (table.metric == metric) & (table.system == system)]["value"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def pivot(table: pd.DataFrame, group: str) -> pd.DataFrame:
    """One group of the tidy table as metric x system (columns in the order real, base, tuned, her)."""
    sub = table[table.group == group].pivot_table(index="metric", columns="system", values="value", sort=False)
    return sub[[s for s in STYLE_SYSTEMS if s in sub.columns]]


def verdict(table: pd.DataFrame) -> list[str]:
    """A few plain sentences on whether the tuned bot sounds like me; says so when it does not."""
    lines = []
    share = {s: _get(table, "classifier", "share_attributed_to_me", s) for s in STYLE_SYSTEMS}
    acc = _get(table, "classifier", "heldout_accuracy", "real")
    lines.append(
        f"A classifier that tells your turns from hers ({acc:.0%} right on held-out real turns) takes "
        f"{share['tuned']:.0%} of the tuned bot's replies for yours, against {share['base']:.0%} for the untuned "
        f"model and {share['real']:.0%} for your real replies.")
    dist = pivot(table, "style distance").dropna(subset=["base", "tuned"])
    closer = int((dist["tuned"] < dist["base"]).sum()) if len(dist) else 0
    if len(dist):
        lines.append(f"On {closer} of {len(dist)} style features the tuned bot is closer to your real replies "
                     f"than the untuned model is.")
    loss_b, loss_t = _get(table, "loss", "val_loss", "base"), _get(table, "loss", "val_loss", "tuned")
    if loss_t < loss_b:
        lines.append(f"Your real replies are less surprising to the tuned model (perplexity "
                     f"{math.exp(loss_t):.1f} vs {math.exp(loss_b):.1f}).")
    else:
        lines.append(f"Training did not lower the loss on your held-out replies ({loss_t:.2f} vs {loss_b:.2f}): "
                     "it has not learned your replies, only perhaps their look.")
    memo, fail = _get(table, "failure", "memorised", "tuned"), _get(table, "failure", "any_failure", "tuned")
    memo_real = _get(table, "failure", "memorised", "real")
    if memo > max(0.05, 2 * memo_real):
        lines.append(f"Warning: {memo:.0%} of its replies copy a training reply (near) word for word "
                     f"(your own new replies do that {memo_real:.0%} of the time) — it is parroting.")
    lines.append(f"{fail:.0%} of its raw replies show a failure (echo, repetition, loop, empty, or a copied "
                 f"training reply; your real replies: {_get(table, 'failure', 'any_failure', 'real'):.0%}); "
                 "the app's guards regenerate all but the copies.")
    moved = share["tuned"] - share["base"]
    close = share["tuned"] >= 0.85 * share["real"] and closer >= len(dist) / 2
    if close:
        lines.append("Verdict: on these surface measures the bot is close to your style. The blind test says "
                     "whether it fools the person who knows you best.")
        if share["base"] >= 0.85 * share["real"]:
            lines.append(f"Note that the untuned model already gets {share['base']:.0%}: much of the likeness comes "
                         f"from the conversation it is shown (it continues the pattern); tuning added "
                         f"{moved * 100:+.0f} points.")
    elif moved >= 0.1:
        lines.append(f"Verdict: it moved clearly toward your style ({moved * 100:+.0f} points) but is not close yet "
                     f"({(share['real'] - share['tuned']) * 100:.0f} points short of your real replies on the classifier). "
                     "More data or epochs, or a larger base model, should help.")
    else:
        lines.append("Verdict: the bot does not sound like you yet, and tuning barely moved it. Check the training "
                     "loss curve, the dataset card (is `me` the right person?) and the chat template.")
    return lines


def plot_distributions(table: pd.DataFrame, samples: list[dict] | None = None):
    """Figure: reply length real vs base vs tuned (and her), style rates, endings, classifier share."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lib import style

    samples = samples if samples is not None else table.attrs.get("samples", [])
    texts = {s: [x[s] for x in samples] for s in SYSTEMS}
    texts["her"] = [x["her"] for x in samples]
    feats = {s: style_table(t) for s, t in texts.items()}
    lengths = [k for k, v in style.FEATURE_KINDS.items() if v == "length"]
    rates = [k for k, v in style.FEATURE_KINDS.items() if v == "rate"]
    cats = [k for k, v in style.FEATURE_KINDS.items() if v == "category"]
    panels = len(lengths) + 2 + len(cats)
    cols = 3
    fig, axes = plt.subplots(math.ceil(panels / cols), cols, figsize=(5 * cols, 3.6 * math.ceil(panels / cols)))
    axes = list(np.ravel(axes))
    for ax, name in zip(axes, lengths):
        if name == "bubbles":  # few discrete values: share of turns with 1, 2, 3, 4+ bubbles
            levels = np.arange(1, 5)
            for j, s in enumerate(STYLE_SYSTEMS):
                counts = feats[s][name].clip(upper=4).value_counts(normalize=True)
                ax.bar(levels + (j - 1.5) * 0.2, [counts.get(k, 0.0) for k in levels], 0.2, color=COLORS[s], label=s)
            ax.set_xticks(levels, ["1", "2", "3", "4+"])
        else:
            hi = max(float(f[name].quantile(0.98)) for f in feats.values() if len(f))
            bins = np.linspace(0, max(hi, 1), 25)
            for s in STYLE_SYSTEMS:
                ax.hist(feats[s][name].clip(upper=bins[-1]), bins=bins, histtype="step", lw=2, density=True,
                        color=COLORS[s], label=s)
        ax.set_title(f"{name} per turn"), ax.legend()
    ax = axes[len(lengths)]
    x = np.arange(len(rates))
    for j, s in enumerate(STYLE_SYSTEMS):
        ax.bar(x + (j - 1.5) * 0.2, [_get(table, "style", r, s) for r in rates], 0.2, color=COLORS[s], label=s)
    ax.set_xticks(x, rates, rotation=30, ha="right"), ax.set_title("share of replies showing…"), ax.legend()
    ax = axes[len(lengths) + 1]
    shares = [_get(table, "classifier", "share_attributed_to_me", s) for s in STYLE_SYSTEMS]
    ax.bar(STYLE_SYSTEMS, shares, color=[COLORS[s] for s in STYLE_SYSTEMS])
    ax.set_ylim(0, 1), ax.set_title("classifier: share attributed to me")
    for k, name in enumerate(cats):
        ax = axes[len(lengths) + 2 + k]
        levels = style.CATEGORIES.get(name) or sorted({c for f in feats.values() for c in f[name].dropna()})
        bottom = np.zeros(len(STYLE_SYSTEMS))
        cmap = plt.get_cmap("tab10")
        for li, lev in enumerate(levels):
            vals = np.array([_get(table, "style", f"{name}={lev}", s) for s in STYLE_SYSTEMS])
            vals = np.nan_to_num(vals)
            ax.bar(STYLE_SYSTEMS, vals, bottom=bottom, color=cmap(li), label=str(lev))
            bottom += vals
        ax.set_title(f"{name}"), ax.legend(fontsize=8)
    if len(axes) > panels:  # a spare panel: failure rates of the raw replies
        ax = axes[panels]
        kinds = ["echo", "self_repeat", "loop", "empty_or_broken", "memorised"]
        x = np.arange(len(kinds))
        for j, s in enumerate(SYSTEMS):
            ax.bar(x + (j - 1) * 0.27, [_get(table, "failure", k, s) for k in kinds], 0.27, color=COLORS[s], label=s)
        ax.set_xticks(x, kinds, rotation=30, ha="right"), ax.set_title("failures (share of raw replies)"), ax.legend()
    for ax in axes[panels + 1:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def _md_table(df: pd.DataFrame, fmt: str = "{:.3f}") -> str:
    cols = list(df.columns)
    lines = ["| metric | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        cells = ["" if pd.isna(v) else fmt.format(v) for v in row]
        lines.append(f"| {LABELS.get(idx, idx)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _bubble_md(text: str) -> str:
    return " / ".join(html.escape(b) for b in text.split("\n") if b.strip()) or "*(empty)*"


def side_by_side(samples: list[dict], n: int = 5, seed: int = 0) -> pd.DataFrame:
    """A few prompts with her last turn and the real, base and tuned replies (masked dataset text)."""
    pick = random.Random(seed).sample(samples, min(n, len(samples)))
    return pd.DataFrame([{"her": s["her"], "real": s["real"], "base": s["base"], "tuned": s["tuned"]} for s in pick])


def write_report(table: pd.DataFrame, samples: list[dict] | None = None, out_dir: str | Path = config.REPORT) -> Path:
    """outputs/report/eval.md + eval_style.png + eval.csv + samples.jsonl; returns the .md path."""
    out_dir = Path(out_dir)
    samples = samples if samples is not None else table.attrs.get("samples", [])
    fig = plot_distributions(table, samples)
    with fileio.atomic_path(out_dir / "eval_style.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    with fileio.atomic_path(out_dir / "eval.csv") as tmp:
        table.to_csv(tmp, index=False)
    fileio.write_text(out_dir / "samples.jsonl", "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples))

    timing = table.attrs.get("timing", {})
    parts = [
        "# Does it talk like me?\n",
        f"{table.attrs.get('n_prompts', len(samples))} validation prompts; adapter `{table.attrs.get('adapter', '?')}`. "
        "`real` = my real replies, `base` = the untuned model, `tuned` = with the adapter, `her` = her turns "
        "(how far apart the two real speakers are).\n",
        "## Verdict\n", "\n".join(f"- {line}" for line in verdict(table)) + "\n",
        "## Loss on my real held-out replies\n", _md_table(pivot(table, "loss")) + "\n",
        "## Speaker classifier (char n-grams, trained on the train split)\n", _md_table(pivot(table, "classifier")) + "\n",
        "## Surface style (mean chars/bubbles per turn; otherwise share of replies)\n",
        _md_table(pivot(table, "style")) + "\n",
        "## Distance to my real replies (Wasserstein for lengths, Jensen-Shannon otherwise; 0 = same)\n",
        _md_table(pivot(table, "style distance")) + "\n",
        "![style distributions](eval_style.png)\n",
        "## Failures (share of raw replies, before the app's guards)\n", _md_table(pivot(table, "failure")) + "\n",
        "## Diversity\n", _md_table(pivot(table, "diversity")) + "\n",
        "## Side by side\n",
    ]
    for s in side_by_side(samples).to_dict("records"):
        parts.append(f"- **her:** {_bubble_md(s['her'])}  \n  **real:** {_bubble_md(s['real'])}  \n"
                     f"  **base:** {_bubble_md(s['base'])}  \n  **tuned:** {_bubble_md(s['tuned'])}\n")
    if timing:
        parts.append("\n## Time\n" + ", ".join(f"{k} {v:.1f}s" for k, v in timing.items()) + "\n")
    return fileio.write_text(out_dir / "eval.md", "\n".join(parts))


# ----------------------------------------------------------------------------- blind test

def blind_pairs(samples: list[dict], n: int = 12, seed: int = 0, system: str = "tuned",
                context_turns: int = 3) -> list[dict]:
    """n prompts with the real and the generated reply as `a`/`b` in seeded random order.

    `real` ("a" or "b") is the answer key: the Streamlit page keeps it on the server, the HTML page
    carries it only obfuscated (see `blind_test`). Pairs where the bot said nothing or repeated the
    real reply are skipped, they would not be a fair question.
    """
    ok = [s for s in samples if s[system].strip() and s["real"].strip() and _norm(s[system]) != _norm(s["real"])]
    if not ok:
        raise ValueError(f"no usable pairs: every {system!r} reply is empty or equal to the real one")
    rng = random.Random(seed)
    pick = sorted(rng.sample(range(len(ok)), min(n, len(ok))))
    pairs = []
    for i in pick:
        s = ok[i]
        ctx = [m for m in s["history"] if m["role"] in ("user", "assistant")][-context_turns:]
        real_first = rng.random() < 0.5
        a, b = (s["real"], s[system]) if real_first else (s[system], s["real"])
        pairs.append({"context": ctx, "a": a, "b": b, "real": "a" if real_first else "b"})
    return pairs


def blind_score(pairs: list[dict], picks: list[str]) -> tuple[int, int]:
    """(right, total) for her picks ("a"/"b" per pair, in order)."""
    if len(picks) != len(pairs):
        raise ValueError(f"expected {len(pairs)} picks, got {len(picks)}")
    return sum(p == q["real"] for p, q in zip(picks, pairs)), len(pairs)


def _fnv1a(text: str) -> int:
    h = 0x811C9DC5
    for ch in text.encode("ascii"):
        h = ((h ^ ch) * 0x01000193) & 0xFFFFFFFF
    return h or 1


def _keystream(salt: str, n: int) -> list[int]:
    """xorshift32 seeded by FNV-1a(salt); the page's JS runs the same generator to decode."""
    x, out = _fnv1a(salt), []
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append(x & 0xFF)
    return out


def encode_key(answers: list[str], salt: str, seed: int = 0) -> str:
    """Answer key as base64 bytes: a random byte whose low bit says "b is real", XORed with the keystream."""
    rng = random.Random(f"{salt}:{seed}")
    raw = [(rng.randrange(256) & 0xFE) | (a == "b") for a in answers]
    return base64.b64encode(bytes(r ^ k for r, k in zip(raw, _keystream(salt, len(raw))))).decode()


def decode_key(key: str, salt: str) -> list[str]:
    data = base64.b64decode(key)
    return ["b" if (d ^ k) & 1 else "a" for d, k in zip(data, _keystream(salt, len(data)))]


def blind_test(samples: list[dict], out: str | Path = config.REPORT / "blind_test.html", *, n: int = 12,
               seed: int = 0, system: str = "tuned") -> Path:
    """Write the self-contained blind-test page (Korean UI, inline CSS/JS, works offline on a phone).

    The answer key is not in the page as readable text: the question data holds no hint of which reply
    is real, and the key is an XOR-obfuscated byte string decoded only after the last pick. That keeps
    the answers out of view-source, text search and a glance at the DOM; it is not encryption — anyone
    who reads the script can decode it (nothing that works offline in one file could stop that). The
    Streamlit page keeps the key on the server instead. Also writes blind_pairs.json (with the key)
    beside it, for that page.
    """
    out = Path(out)
    pairs = blind_pairs(samples, n=n, seed=seed, system=system)
    salt = random.Random(f"salt:{seed}:{len(pairs)}").getrandbits(64).to_bytes(8, "big").hex()
    public = [{"context": p["context"], "a": p["a"], "b": p["b"]} for p in pairs]
    page = (_BLIND_HTML
            .replace("__DATA__", json.dumps(public, ensure_ascii=False).replace("</", "<\\/"))
            .replace("__KEY__", encode_key([p["real"] for p in pairs], salt, seed))
            .replace("__SALT__", salt))
    fileio.write_json(out.with_name("blind_pairs.json"), {"pairs": pairs, "system": system, "seed": seed})
    return fileio.write_text(out, page)


def load_blind_pairs(path: str | Path = config.REPORT / "blind_pairs.json") -> list[dict]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    pairs = data.get("pairs") if isinstance(data, dict) else None
    if not pairs or not all({"context", "a", "b", "real"} <= set(p) for p in pairs):
        raise ValueError(f"{path}: expected {{'pairs': [{{context, a, b, real}}, ...]}} as written by `python -m lib.evaluate blind`")
    return pairs


BLIND_VERDICTS = [  # (minimum share right, message) — 50% is what guessing gets
    (0.9, "역시! 진짜 말투를 정확히 알아보네요 🎉"),
    (0.7, "대부분 알아봤어요. 그래도 AI가 몇 번은 속였네요 😏"),
    (0.5, "반반이에요 — 찍은 것과 비슷해요. AI가 꽤 그럴듯했나 봐요 🤖"),
    (0.0, "AI 쪽을 더 진짜 같다고 골랐어요! 말투 흉내가 제법인가 봐요 😳"),
]


def blind_verdict(right: int, total: int) -> str:
    share = right / total if total else 0.0
    return next(msg for lo, msg in BLIND_VERDICTS if share >= lo)


_BLIND_HTML = r"""<!doctype html>
<html lang="ko"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>진짜 답장 찾기</title>
<style>
*{box-sizing:border-box}body{margin:0;font-family:-apple-system,"Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR",sans-serif;background:#b2c7d9;color:#222}
main{max-width:480px;margin:0 auto;padding:16px 12px 40px}
h1{font-size:1.3rem;margin:.2rem 0}.sub{font-size:.9rem;color:#333;margin:0 0 12px}
.card{background:#b2c7d9}.progress{font-size:.85rem;color:#345;margin:6px 0}
.row{display:flex;margin:4px 0}.row.me{justify-content:flex-end}
.bubble{max-width:78%;padding:8px 11px;border-radius:14px;background:#fff;white-space:pre-wrap;word-break:break-word;line-height:1.35}
.row.me .bubble{background:#fee500}
.who{font-size:.75rem;color:#456;margin:8px 0 2px}
.q{margin:14px 0 8px;font-weight:600}
button.opt{display:block;width:100%;text-align:left;border:2px solid transparent;background:#eef3f7;border-radius:14px;padding:10px;margin:8px 0;font:inherit;cursor:pointer}
button.opt:active{border-color:#f2a900}.opt .tag{font-weight:700;color:#f2a900;margin-right:6px}
.opt .bubble{display:inline-block;margin:3px 0;max-width:100%}
.score{background:#fff;border-radius:14px;padding:14px;margin:10px 0;text-align:center}
.score b{font-size:2rem}.rev{background:#fff;border-radius:12px;padding:10px;margin:8px 0;font-size:.9rem}
.ok{color:#1a7f37}.bad{color:#c0392b}.again{margin-top:12px;padding:10px 16px;border:0;border-radius:10px;background:#fee500;font:inherit}
</style></head>
<body><main>
<h1>진짜 답장 찾기 🕵️</h1>
<p class="sub">내 메시지에 온 답장 두 개 중 하나는 진짜, 하나는 AI가 쓴 거예요. 진짜 답장을 골라 주세요. 정답은 마지막에 공개돼요.</p>
<div id="app"></div>
<noscript>이 페이지는 자바스크립트가 필요해요.</noscript>
</main>
<script>
"use strict";
var DATA = __DATA__;
var KEY = "__KEY__", SALT = "__SALT__";
var picks = [];
function el(tag, cls, text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!=null)e.textContent=text;return e;}
function bubbles(text, mine){var box=el("div");String(text).split("\n").forEach(function(b){if(!b.trim())return;var r=el("div","row"+(mine?" me":""));r.appendChild(el("div","bubble",b));box.appendChild(r);});return box;}
// decoded only after the last pick: xorshift32 keystream seeded by FNV-1a(SALT), low bit = "b is real"
function answers(){var h=0x811c9dc5;for(var i=0;i<SALT.length;i++){h^=SALT.charCodeAt(i);h=Math.imul(h,0x01000193)>>>0;}
  var x=h||1,raw=atob(KEY),out=[];for(var j=0;j<raw.length;j++){x^=x<<13;x^=x>>>17;x^=x<<5;x>>>=0;out.push(((raw.charCodeAt(j)^(x&255))&1)?"b":"a");}return out;}
function verdict(r,t){var s=t?r/t:0;if(s>=0.9)return "역시! 진짜 말투를 정확히 알아보네요 🎉";if(s>=0.7)return "대부분 알아봤어요. 그래도 AI가 몇 번은 속였네요 😏";
  if(s>=0.5)return "반반이에요 — 찍은 것과 비슷해요. AI가 꽤 그럴듯했나 봐요 🤖";return "AI 쪽을 더 진짜 같다고 골랐어요! 말투 흉내가 제법인가 봐요 😳";}
function show(i){var app=document.getElementById("app");app.innerHTML="";if(i>=DATA.length)return finish();
  var d=DATA[i],card=el("div","card");card.appendChild(el("div","progress",(i+1)+" / "+DATA.length));
  d.context.forEach(function(m){var mine=m.role==="user";if(!mine)card.appendChild(el("div","who","그"));card.appendChild(bubbles(m.content,mine));});
  card.appendChild(el("div","q","어느 쪽이 진짜 답장일까요?"));
  ["a","b"].forEach(function(k){var b=el("button","opt");b.type="button";b.appendChild(el("span","tag",k.toUpperCase()));b.appendChild(bubbles(d[k],false));
    b.addEventListener("click",function(){picks.push(k);show(i+1);window.scrollTo(0,0);});card.appendChild(b);});
  app.appendChild(card);}
function finish(){var key=answers(),right=0,app=document.getElementById("app");picks.forEach(function(p,i){if(p===key[i])right++;});
  var s=el("div","score");s.appendChild(el("div",null,DATA.length+"문제 중"));s.appendChild(el("b",null,right+"개"));s.appendChild(el("div",null,"맞혔어요 (찍으면 평균 절반)"));
  s.appendChild(el("p",null,verdict(right,DATA.length)));app.appendChild(s);
  DATA.forEach(function(d,i){var r=el("div","rev"),ok=picks[i]===key[i];r.appendChild(el("div",ok?"ok":"bad",(i+1)+". "+(ok?"정답 ✓":"오답 ✗")+" — 진짜는 "+key[i].toUpperCase()));
    r.appendChild(el("div",null,"진짜: "+d[key[i]].split("\n").join(" / ")));r.appendChild(el("div",null,"AI: "+d[key[i]==="a"?"b":"a"].split("\n").join(" / ")));app.appendChild(r);});
  var again=el("button","again","다시 하기");again.addEventListener("click",function(){picks=[];show(0);});app.appendChild(again);}
show(0);
</script>
</body></html>
"""


# ----------------------------------------------------------------------------- CLI

def _profile_args(profile: dict, adapter: str | None, dataset_dir: str | None) -> tuple[Path, Path]:
    ds = Path(dataset_dir) if dataset_dir else config.PROCESSED / profile.get("dataset", {}).get("name", "sample") / ""
    return (Path(adapter) if adapter else _latest_adapter()), ds


def run(profile: dict, *, adapter: str | Path | None = None, dataset_dir: str | Path | None = None,
        n_prompts: int | None = None, out_dir: str | Path = config.REPORT, progress: bool = True) -> pd.DataFrame:
    """evaluate() with the profile's settings, then write_report() and the blind-test page."""
    ad, ds = _profile_args(profile, adapter, dataset_dir)
    ev = profile.get("eval", {})
    sft = profile.get("sft", {})
    table = evaluate(ad, ds, n_prompts=n_prompts or ev.get("n_prompts", 200), generation=profile.get("generation"),
                     batch_size=ev.get("batch_size", 32), max_length=sft.get("max_length", 256),
                     seed=ev.get("seed", 0), device="cpu" if profile.get("device") == "cpu" else "auto",
                     progress=progress)
    write_report(table, out_dir=out_dir)
    blind_test(table.attrs["samples"], Path(out_dir) / "blind_test.html", n=ev.get("blind_pairs", 12))
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="evaluate base vs tuned on validation prompts; write outputs/report/eval.md")
    b = sub.add_parser("blind", help="write the blind-test page (reuses the last run's replies if there are any)")
    for p in (r, b):
        p.add_argument("--profile", default="sample-cpu")
        p.add_argument("--adapter", help="adapter run dir (default: outputs/adapters/latest)")
        p.add_argument("--dataset", help="dataset dir (default: data/processed/<profile dataset name>)")
        p.add_argument("--n-prompts", type=int)
    b.add_argument("--n", type=int, help="number of pairs (default: the profile's eval.blind_pairs, 12)")
    b.add_argument("--out", default=str(config.REPORT / "blind_test.html"))
    b.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    profile = config.load_profile(args.profile)
    if args.cmd == "run":
        table = run(profile, adapter=args.adapter, dataset_dir=args.dataset, n_prompts=args.n_prompts)
        print("\n".join(verdict(table)))
        print(f"\nreport: {config.REPORT / 'eval.md'} ({table.attrs['timing']['total']:.0f}s)")
        return 0
    n = args.n or profile.get("eval", {}).get("blind_pairs", 12)
    cached = config.REPORT / "samples.jsonl"
    if cached.is_file() and not (args.adapter or args.dataset):
        samples = [json.loads(line) for line in cached.read_text(encoding="utf-8").splitlines() if line.strip()]
        print(f"using the replies of the last evaluation ({cached})")
    else:
        ad, ds = _profile_args(profile, args.adapter, args.dataset)
        prompts = load_prompts(ds, args.n_prompts or max(4 * n, 50), args.seed)
        model, tok = load_model(ad, "cpu" if profile.get("device") == "cpu" else "auto")
        gen = generate(model, tok, prompts, generation=profile.get("generation"), seed=args.seed)
        samples = [{**p, "tuned": g} for p, g in zip(prompts, gen)]
    out = blind_test(samples, args.out, n=n, seed=args.seed)
    print(f"blind test: {out} ({n} pairs; open it on the phone, it works offline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
