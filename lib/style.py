"""Surface style of chat messages: length, bubbles, ㅋㅋ/ㅎㅎ, emoji, emoticons, ~요 vs 반말 endings, ?, fillers.

`features(texts)` gives one row per text (a bubble or a turn whose bubbles are joined with "\\n");
`rates(texts)` summarises them; `distances(a, b)` compares two sets feature by feature. Used by notebook 01
(per speaker) and lib.evaluate (real vs bot).

Definitions (deliberately simple, so a number in a report can be checked by eye):
- chars: characters without newlines; bubbles: lines.
- kk / hh: number of ㅋ / ㅎ jamo (a laugh "ㅋㅋㅋ" counts 3; the syllable 흐 is not ㅎ).
- emoji: emoji counted by the `emoji` package (❤️, 👍🏻 and flags count once).
- emoticon: KakaoTalk emoticon placeholders and text-emoticon tags: a bubble that is 이모티콘 /
  (이모티콘) / Emoticon / Sticker, or an inline tag such as (하트) (최고) (이모티콘_Name).
- polite / banmal: number of bubbles whose last Hangul syllable (after dropping trailing ㅋㅎㅠ,
  emoji, punctuation and spaces) is a 존댓말 ending (요 죠 용 욥 염, 습니다/ㅂ니다, 습니까/ㅂ니까, or the
  bubble is just 네/넵/넹/예) or a 반말 ending (BANMAL_ENDINGS, or the bubble is just 응/웅/ㅇㅇ/ㅇㅋ).
- ending: the last bubble that has such an ending decides `polite` / `banmal`; `other` if none does.
- question: number of "?" (full-width too); filler: words from FILLERS used as a whole word.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import emoji
import numpy as np
import pandas as pd

# name -> how lib.evaluate compares it: a length (mean, Wasserstein), a rate (share of texts where the
# count is > 0) or a category (share per level).
FEATURE_KINDS = {
    "chars": "length", "bubbles": "length",
    "kk": "rate", "hh": "rate", "emoji": "rate", "emoticon": "rate", "question": "rate", "filler": "rate",
    "polite": "rate", "banmal": "rate",
    "ending": "category",
}
CATEGORIES = {"ending": ["polite", "banmal", "other"]}

FILLERS = ("아", "어", "음", "흠", "헐", "아니", "오", "와", "에이", "그니까", "근데", "막", "약간", "뭔가", "대박")
_SYLLABLE = "가-힣"
# Informal sentence endings (last syllable). 요/니다 are checked first, so 좋아요 and 합니다 never land here.
# Any open syllable on ㅏ ㅓ ㅐ ㅕ ㅘ ㅝ ㅙ ㅒ is the 해체 -아/-어 ending, contracted or not (좋아, 배불러,
# 졸려, 해, 돼, 줘, 봐); the rest are listed. A bare noun ending that way (사과) counts too: a known blur.
_OPEN_AEO = {chr(0xAC00 + (lead * 21 + v) * 28) for lead in range(19) for v in (0, 1, 2, 3, 4, 6, 9, 10, 14)}
BANMAL_ENDINGS = _OPEN_AEO | set("지냐니게네다까거걸군고음함임셈듯데대치긔당")
# syllables whose final consonant is ㅂ (합, 갑, 입, ...): 합니다 / 갑니까 are polite, 그러니까 is not
_FINAL_B = "".join(chr(c) for c in range(0xAC00, 0xD7A4) if (c - 0xAC00) % 28 == 17)

_TRAIL = re.compile(rf"[^{_SYLLABLE}]+$")
_TRAIL_JAMO = re.compile(rf"(?:[ㅋㅎㅠㅜ]{{2,}}|[^{_SYLLABLE}ㄱ-ㅣ])+$")
_POLITE = re.compile(rf"(?:[요죠용욥염]|(?:습|[{_FINAL_B}])니[다까])$")
_BANMAL_WORD = re.compile(r"^(?:응+|웅+|ㅇㅇ+|어|ㅇㅋ|ㅇㅋㅇㅋ)$")
_EMOTICON_LINE = re.compile(r"^\s*(?:이모티콘|emoticon|sticker)\s*$", re.I | re.M)  # "(이모티콘)" is a tag
_EMOTICON_TAG = re.compile(r"\((?:이모티콘[^)]*|emoticon|하트|최고|굿|웃음|하하|윙크|눈물|부끄|헉|감동|짱|축하|반함|"
                           r"찡긋|뽀뽀|씨익|잘자|제발|우와|흑흑|미소|심각|졸려|사랑|좋아|최고|크크|놀람|땀|화남|민망)\)")
_FILLER = re.compile(rf"(?<![{_SYLLABLE}])(?:{'|'.join(sorted(FILLERS, key=len, reverse=True))})(?![{_SYLLABLE}])")


def _texts(texts: Iterable[str] | pd.Series) -> pd.Series:
    s = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    return s.fillna("").astype(str)


def _endings(s: pd.Series) -> pd.DataFrame:
    """Per text: polite and banmal bubble counts and the ending category of the last decided bubble."""
    lines = s.str.split("\n").explode()
    core = lines.str.replace(_TRAIL, "", regex=True).str.strip()
    bare = lines.str.replace(_TRAIL_JAMO, "", regex=True).str.strip()  # "ㅇㅋ 🔥" -> "ㅇㅋ", "네 ㅎㅎ" -> "네"
    polite = core.str.contains(_POLITE) | bare.str.fullmatch(r"네+|넵|넹|예")
    banmal = ~polite & (core.str[-1:].isin(BANMAL_ENDINGS) | bare.str.fullmatch(_BANMAL_WORD))
    label = pd.Series(pd.NA, index=lines.index, dtype=object)
    label[polite] = "polite"
    label[banmal] = "banmal"
    by_text = label.groupby(level=0)
    out = pd.DataFrame({
        "polite": polite.groupby(level=0).sum().astype(int),
        "banmal": banmal.groupby(level=0).sum().astype(int),
        "ending": by_text.last().fillna("other"),  # last non-NA label per text
    })
    return out.reindex(s.index)


def features(texts: Iterable[str] | pd.Series) -> pd.DataFrame:
    """One row per text, columns = FEATURE_KINDS (ints, except `ending`); index follows a Series input."""
    original = _texts(texts)
    s = original.reset_index(drop=True)  # positional index: _endings groups bubbles back by it
    out = pd.DataFrame(index=s.index)
    out["chars"] = s.str.len() - s.str.count("\n")
    out["bubbles"] = s.str.count("\n") + 1
    out["kk"] = s.str.count("ㅋ")
    out["hh"] = s.str.count("ㅎ")
    out["emoji"] = s.map(emoji.emoji_count).astype(int)
    out["emoticon"] = s.str.count(_EMOTICON_LINE) + s.str.count(_EMOTICON_TAG)
    out["question"] = s.str.count(r"[?？]")
    out["filler"] = s.str.count(_FILLER)
    ends = _endings(s) if len(s) else pd.DataFrame(columns=["polite", "banmal", "ending"], index=s.index)
    out[["polite", "banmal", "ending"]] = ends[["polite", "banmal", "ending"]]
    if not len(s):
        out = out.astype({c: int for c, k in FEATURE_KINDS.items() if k != "category"})
    out.index = original.index
    return out[list(FEATURE_KINDS)]


def rates(texts: Iterable[str] | pd.Series) -> dict[str, float]:
    """Mean chars / bubbles; for every other count the share of texts where it is > 0; `ending=*` shares.

    `polite_share` = polite / (polite + banmal) bubbles: one number for how formal someone writes.
    """
    f = features(texts)
    if f.empty:
        return {}
    out: dict[str, float] = {}
    for name, kind in FEATURE_KINDS.items():
        if kind == "length":
            out[name] = float(f[name].mean())
        elif kind == "rate":
            out[name] = float((f[name] > 0).mean())
        else:
            shares = f[name].value_counts(normalize=True)
            out.update({f"{name}={c}": float(shares.get(c, 0.0)) for c in CATEGORIES[name]})
    decided = f["polite"].sum() + f["banmal"].sum()
    out["polite_share"] = float(f["polite"].sum() / decided) if decided else float("nan")
    return out


def _js(p: np.ndarray, q: np.ndarray) -> float:
    from scipy.spatial.distance import jensenshannon

    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    return float(jensenshannon(p, q, base=2))


def distances(real: pd.DataFrame, other: pd.DataFrame) -> dict[str, float]:
    """Per-feature distance of `other`'s features to `real`'s (both from `features`): Wasserstein for
    lengths (in chars / bubbles), Jensen-Shannon (0..1) for rates and categories; 0 = the same."""
    from scipy.stats import wasserstein_distance

    out = {}
    for name, kind in FEATURE_KINDS.items():
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
