"""Scores of a set of replies, text only (no model): the speaker classifier, memorisation, failure flags,
diversity, time-appropriateness, and the metric rows of one slice of prompts (all, or the new replies).

The "new replies" slice holds the validation prompts whose real reply (normalised like lib.pairs' near
duplicates) never occurs among the training replies: a model that memorised templates gains nothing there.
"""
from __future__ import annotations

import difflib
import math
from collections import Counter, defaultdict

import numpy as np
import pandas as pd

from lib import style, timefit
from lib.pairs import reply_key
from lib.guards import is_echo, is_empty, is_loop, is_self_repeat, split_bubbles

MEMO_MIN_CHARS = 8        # shorter replies ("ㅇㅇ", "ㅋㅋㅋ") recur naturally; copying them is not memorising
MEMO_RATIO = 0.9          # difflib ratio above this against one training target = near-verbatim copy
MEMO_NGRAM = 5            # char n-grams used to find candidate targets before difflib
BROKEN_MARKS = ("\ufffd", "<|", "|>", "</s>", "<s>", "[UNK]", "<unk>", "<pad>")


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


# ----------------------------------------------------------------------------- memorisation, failures, diversity

class MemoryIndex:
    """Training targets, searchable for verbatim and near-verbatim copies (char 5-grams, then difflib)."""

    def __init__(self, targets: list[str], n: int = MEMO_NGRAM):
        self.n = n
        self.targets = list(dict.fromkeys(_norm(t) for t in targets))
        self.exact = set(self.targets)
        self.keys = {reply_key(t) for t in self.targets}
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

    def seen(self, text: str) -> bool:
        """The reply, normalised (`reply_key`), is one of the training replies."""
        return reply_key(text) in self.keys


def _norm(text: str) -> str:
    return " ".join(text.split())


def _ngrams(text: str, n: int) -> list[str]:
    return [text[i:i + n] for i in range(len(text) - n + 1)]


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


# ----------------------------------------------------------------------------- the rows of one slice

def slice_rows(idx: np.ndarray, texts: dict[str, list[str]], *, p_me: dict[str, np.ndarray],
               flags: dict[str, pd.DataFrame], nll: dict[str, tuple[np.ndarray, np.ndarray]],
               heldout_accuracy: float, style_systems, systems, hours=None, gaps=None) -> list[tuple]:
    """(group, metric, system, value) rows over the prompts `idx`: loss (from per-prompt NLL sums and
    token counts), surface style and its distance to real, classifier, failures, diversity, and the time
    fit for every system in `texts` when the prompts' hours are known."""
    pick = lambda xs: [xs[i] for i in idx]  # noqa: E731
    sub = {s: pick(t) for s, t in texts.items()}
    rows: list[tuple] = [("slice", "prompts", "real", float(len(idx)))]
    for system, (sums, counts) in nll.items():
        loss = float(sums[idx].sum() / counts[idx].sum()) if counts[idx].sum() else math.nan
        rows += [("loss", "val_loss", system, loss), ("loss", "perplexity", system, math.exp(min(loss, 50)))]
    if nll:
        rows.append(("loss", "reply_tokens", "real", float(next(iter(nll.values()))[1][idx].sum())))
    feats = {s: style.features(sub[s]) for s in style_systems}
    for s in style_systems:
        rows += [("style", k, s, v) for k, v in style.rates(sub[s]).items()]
        if s != "real":
            rows += [("style distance", k, s, v) for k, v in style.distances(feats["real"], feats[s]).items()]
    rows.append(("classifier", "heldout_accuracy", "real", heldout_accuracy))
    for s in style_systems:
        rows.append(("classifier", "share_attributed_to_me", s, float((p_me[s][idx] > 0.5).mean())))
        rows.append(("classifier", "mean_p_me", s, float(p_me[s][idx].mean())))
    for s in systems:
        rows += [("failure", k, s, float(v)) for k, v in flags[s].iloc[idx].mean().items()]
    for s in systems:
        rows += [("diversity", "distinct_1", s, distinct_n(sub[s], 1)),
                 ("diversity", "distinct_2", s, distinct_n(sub[s], 2))]
    if hours is not None:
        h, g = pick(hours), pick(gaps)
        for s in [x for x in texts if x != "her"]:
            rows += [("time", k, s, v) for k, v in timefit.scores(sub[s], sub["real"], h, g).items()
                     if k != "prompts" or s == "real"]
    return rows
