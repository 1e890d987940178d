"""Tidy tables and figures for notebook 01_explore: who writes when, how much, how fast and how.

Every function takes the frame of `lib.kakao.read_chat` and returns counts, never raw message text:
warnings lose their quoted lines, top words are masked by lib.privacy and filtered to common words.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from lib import kakao, plots, privacy, style
from lib.pairs import SESSION_GAP_HOURS, TURN_GAP_MINUTES, segment

WEEKDAYS = ["월", "화", "수", "목", "금", "토", "일"]
LATENCY_BINS = [0, 1, 2, 5, 10, 30, 60, 180, SESSION_GAP_HOURS * 60]
LATENCY_LABELS = ["<1분", "1분", "2-4분", "5-9분", "10-29분", "30-59분", "1-3시간", "3-6시간"]
GAP_BINS = [0, 5 / 60, 0.5, 1, 3, 6, 12, 24, float("inf")]   # hours of silence before a turn
GAP_LABELS = ["<5분", "5-29분", "30-59분", "1-3시간", "3-6시간", "6-12시간", "12-24시간", "1일+"]
# top words: common nouns, verbs and adjectives only; proper nouns (NNP), numbers, foreign letters,
# e-mails, URLs and serials never qualify, and words containing a known name are dropped.
WORD_TAGS = {"NNG", "VV", "VA"}
STOP_WORDS = {"하다", "있다", "되다", "없다", "같다", "이다", "아니다", "않다", "보다", "주다", "그렇다", "이렇다"}


def messages(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with a speaker (system rows dropped), in file order."""
    return df[df["speaker"].notna()]


def order(df: pd.DataFrame, me: str | None = None) -> list[str]:
    """Speakers by message count, `me` first when given."""
    names = list(messages(df)["speaker"].value_counts().index)
    return ([me] if me in names else []) + [n for n in names if n != me]


# ----------------------------------------------------------------------------- tables

def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Format, title, saved date, date range, counts: one (item, value) row each."""
    msgs = messages(df)
    first, last = (df["time"].min(), df["time"].max()) if len(df) else (None, None)
    rows = [
        ("format", df.attrs.get("format")), ("title", df.attrs.get("title")),
        ("saved at", df.attrs.get("saved_at")), ("first record", first), ("last record", last),
        ("days", (last - first).days + 1 if len(df) else 0),
        ("active days", df["time"].dt.date.nunique()), ("records", len(df)), ("messages", len(msgs)),
        ("system rows", int(df["speaker"].isna().sum())), ("speakers", msgs["speaker"].nunique()),
        ("multi-line messages", int(msgs["text"].str.contains("\n").sum())),
        ("warnings", len(df.attrs.get("warnings") or [])),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": str})


_QUOTED = re.compile(r"""(:\s*)?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*$""")
_LINE_NO = re.compile(r"\b(line|row) \d+")


def warning_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Parse warnings grouped by kind, with the quoted chat line removed (it may hold personal data)."""
    ws = [_LINE_NO.sub(r"\1 N", _QUOTED.sub("", w)) for w in df.attrs.get("warnings") or []]
    if not ws:
        return pd.DataFrame({"warning": pd.Series(dtype=str), "count": pd.Series(dtype=int)})
    return pd.Series(ws).value_counts().rename_axis("warning").reset_index(name="count")


def records_by_kind(df: pd.DataFrame, me: str | None = None) -> pd.DataFrame:
    """Speaker x kind counts (system rows under "(system)"), with totals; kinds in lib.kakao order."""
    who = df["speaker"].fillna("(system)")
    table = pd.crosstab(who, df["kind"])
    table = table.reindex(columns=[k for k in kakao.KINDS if k in table.columns])
    rows = order(df, me) + (["(system)"] if "(system)" in table.index else [])
    table = table.reindex(rows)
    table["total"] = table.sum(axis=1)
    table.loc["total"] = table.sum()
    return table.rename_axis(index="speaker", columns=None)


def per_day(df: pd.DataFrame, me: str | None = None) -> pd.DataFrame:
    """Messages per calendar day and speaker (days without messages are 0): date x speaker."""
    msgs = messages(df)
    if msgs.empty:
        return pd.DataFrame()
    table = pd.crosstab(msgs["time"].dt.normalize(), msgs["speaker"])
    days = pd.date_range(table.index.min(), table.index.max(), freq="D")
    return table.reindex(days, fill_value=0)[order(df, me)].rename_axis(index="date", columns=None)


def hour_weekday(df: pd.DataFrame, me: str | None = None) -> pd.DataFrame:
    """Tidy (speaker, weekday 0=월, hour, messages) over the full 7 x 24 grid per speaker."""
    msgs = messages(df)
    counts = msgs.groupby([msgs["speaker"], msgs["time"].dt.weekday, msgs["time"].dt.hour]).size()
    full = pd.MultiIndex.from_product([order(df, me), range(7), range(24)], names=["speaker", "weekday", "hour"])
    counts.index.names = full.names
    return counts.reindex(full, fill_value=0).rename("messages").reset_index()


def turns(df: pd.DataFrame, gap_minutes: int = TURN_GAP_MINUTES) -> pd.DataFrame:
    """Consecutive messages of one speaker within `gap_minutes` form a turn: speaker, start, end, bubbles, chars."""
    msgs = messages(df)
    _, turn_id = segment(msgs["time"], msgs["speaker"].to_numpy(), turn_gap_minutes=gap_minutes)
    g = msgs.groupby(turn_id)
    return pd.DataFrame({
        "speaker": g["speaker"].first(), "start": g["time"].first(), "end": g["time"].last(),
        "bubbles": g.size(), "chars": g["text"].agg(lambda s: int(s.str.len().sum())),
    }).reset_index(drop=True)


def time_fields(df: pd.DataFrame, me: str) -> pd.DataFrame:
    """What the time line sees, per turn: tidy (who = me | her | others, hour of its start, silence before it
    binned as GAP_LABELS, turns) over the full hour x gap grid. Roles, not names: notebook 02 shows it."""
    tn = turns(df)
    gap = (tn["start"] - tn["end"].shift()).dt.total_seconds() / 3600
    her = order(df, me)[1] if len(order(df, me)) > 1 else None
    who = np.where(tn["speaker"] == me, "me", np.where(tn["speaker"] == her, "her", "others"))
    binned = pd.cut(gap, GAP_BINS, right=False, labels=GAP_LABELS)
    counts = pd.DataFrame({"who": who, "hour": tn["start"].dt.hour, "gap": binned}).dropna() \
        .groupby(["who", "hour", "gap"], observed=False).size()
    full = pd.MultiIndex.from_product([[w for w in ("me", "her", "others") if w in set(who)], range(24), GAP_LABELS],
                                      names=["who", "hour", "gap"])
    return counts.reindex(full, fill_value=0).rename("turns").reset_index()


def lengths(df: pd.DataFrame) -> pd.DataFrame:
    """Per text message (placeholders excluded): speaker, chars (newlines not counted), lines."""
    msgs = messages(df)
    text = msgs.loc[msgs["kind"] == "text", ["speaker", "text"]]
    f = style.features(text["text"])
    return pd.DataFrame({"speaker": text["speaker"], "chars": f["chars"], "lines": f["bubbles"]}).reset_index(drop=True)


def length_stats(df: pd.DataFrame, me: str | None = None) -> pd.DataFrame:
    """Per speaker: median/mean/p90 characters per message and bubbles per turn."""
    ln, tn = lengths(df), turns(df)
    rows = {}
    for who in order(df, me):
        c, b = ln.loc[ln["speaker"] == who, "chars"], tn.loc[tn["speaker"] == who, "bubbles"]
        rows[who] = {"messages": len(c), "chars median": c.median(), "chars mean": c.mean(),
                     "chars p90": c.quantile(0.9), "turns": len(b), "bubbles/turn mean": b.mean(),
                     "bubbles/turn p90": b.quantile(0.9)}
    return pd.DataFrame(rows).T.round(1)


def reply_latency(df: pd.DataFrame, session_gap_hours: float = SESSION_GAP_HOURS) -> pd.DataFrame:
    """One row per change of speaker: (from, to, minutes) between the last bubble and the answer.

    Answers later than `session_gap_hours` are a new conversation, not a reply, and are left out.
    """
    msgs = messages(df)
    prev_spk, prev_t = msgs["speaker"].shift(), msgs["time"].shift()
    change = prev_spk.notna() & (msgs["speaker"] != prev_spk)
    minutes = (msgs["time"] - prev_t).dt.total_seconds() / 60
    keep = change & (minutes <= session_gap_hours * 60)
    return pd.DataFrame({"from": prev_spk[keep], "to": msgs["speaker"][keep],
                         "minutes": minutes[keep]}).reset_index(drop=True)


def latency_stats(df: pd.DataFrame, me: str | None = None) -> pd.DataFrame:
    """Per answering speaker: replies, median / p75 / p90 minutes, share answered within a minute."""
    lat = reply_latency(df)
    g = lat.groupby("to")["minutes"]
    out = pd.DataFrame({"replies": g.size(), "median min": g.median(), "p75 min": g.quantile(0.75),
                        "p90 min": g.quantile(0.9), "within 1 min": g.apply(lambda m: (m < 1).mean())})
    return out.reindex([s for s in order(df, me) if s in out.index]).rename_axis("answering").round(2)


def style_by_speaker(df: pd.DataFrame, me: str | None = None) -> pd.DataFrame:
    """lib.style rates per speaker over text messages: feature x speaker (see lib.style for definitions)."""
    msgs = messages(df)
    text = msgs[msgs["kind"] == "text"]
    cols = {who: style.rates(text.loc[text["speaker"] == who, "text"]) for who in order(df, me)}
    return pd.DataFrame(cols).round(3).rename_axis("feature")


def _blocked_names(df: pd.DataFrame, known_names) -> list[str]:
    names = set(messages(df)["speaker"].astype(str)) | {str(n) for n in known_names or ()}
    out = set()
    for n in names:
        compact = re.sub(r"\s+", "", n)
        out.add(compact)
        if re.fullmatch(r"[가-힣]{3}", compact):
            out.add(compact[1:])  # given name: 서연아, 도윤 오빠
    return sorted((n for n in out if len(n) >= 2), key=len, reverse=True)


def _kiwi():
    # one Kiwi per process (~1.5 s and ~300 MB to load): lib.privacy already holds one for name checks
    return privacy._kiwi()


def top_words(df: pd.DataFrame, n: int = 20, me: str | None = None, known_names=(),
              max_messages: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """Tidy (speaker, rank, word, pos, count): the most used common nouns, verbs and adjectives.

    Texts are masked with lib.privacy first, then tokenised with kiwipiepy; only NNG/VV/VA lemmas made
    of Hangul survive (no NNP, numbers, IDs), minus STOP_WORDS and anything containing a speaker's or a
    known name. At most `max_messages` seeded-random messages per speaker are read (Kiwi does ~3k/s).
    """
    msgs = messages(df)
    text = msgs[msgs["kind"] == "text"]
    blocked = _blocked_names(df, known_names)
    block_rx = re.compile("|".join(map(re.escape, blocked))) if blocked else None
    anon = privacy.Anonymizer(known_names=blocked)
    kiwi = _kiwi()
    rows = []
    for who in order(df, me):
        t = text.loc[text["speaker"] == who, "text"]
        if len(t) > max_messages:
            t = t.sample(max_messages, random_state=seed)
        counts: dict[tuple[str, str], int] = {}
        for tokens in map(kiwi.tokenize, anon.mask_many(t.tolist())):  # single-threaded Kiwi: no batch API
            for tok in tokens:
                if tok.tag not in WORD_TAGS:
                    continue
                word = tok.form if tok.tag == "NNG" else tok.form + "다"
                if not re.fullmatch(r"[가-힣]+", word) or word in STOP_WORDS or (block_rx and block_rx.search(word)):
                    continue
                counts[(word, tok.tag)] = counts.get((word, tok.tag), 0) + 1
        best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        rows += [(who, i + 1, w, tag, c) for i, ((w, tag), c) in enumerate(best)]
    return pd.DataFrame(rows, columns=["speaker", "rank", "word", "pos", "count"])


# ----------------------------------------------------------------------------- figures

def plot_kinds(table: pd.DataFrame):
    """Stacked bars of records_by_kind (totals dropped), log scale so rare kinds stay visible."""
    t = table.drop(index="total", errors="ignore").drop(columns="total", errors="ignore")
    fig, ax = plots.subplots(figsize=(9, 3.5))
    t.T.plot.bar(ax=ax, log=True, width=0.8)
    ax.set_ylabel("records (log)")
    ax.set_title("records per kind and speaker")
    ax.legend(fontsize=8)
    return fig


def plot_per_day(table: pd.DataFrame):
    fig, ax = plots.subplots(figsize=(10, 3.5))
    table.plot(ax=ax, lw=1)
    weekly = table.sum(axis=1).rolling(7, center=True).mean()
    ax.plot(weekly.index, weekly.to_numpy(), color="k", lw=1.5, label="all, 7-day mean")
    ax.set_ylabel("messages per day")
    ax.legend(fontsize=8)
    return fig


def plot_hour_weekday(tidy: pd.DataFrame):
    who = list(dict.fromkeys(tidy["speaker"]))[:4]
    fig, axes = plots.subplots(1, len(who), figsize=(5.5 * len(who), 3.2), squeeze=False)
    vmax = tidy["messages"].max() or 1
    for ax, name in zip(axes[0], who):
        grid = tidy[tidy["speaker"] == name].pivot(index="weekday", columns="hour", values="messages")
        im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="magma_r", vmin=0, vmax=vmax)
        ax.set_yticks(range(7), WEEKDAYS)
        ax.set_xticks(range(0, 24, 3))
        ax.set_xlabel("hour")
        ax.set_title(name)
    fig.colorbar(im, ax=axes[0].tolist(), label="messages")
    return fig


def plot_time_fields(tidy: pd.DataFrame):
    """Heatmaps, one per speaker: turns by hour of day x silence before them (the time line's two fields)."""
    who = [w for w in ("me", "her") if w in set(tidy["who"])]
    fig, axes = plots.subplots(1, len(who), figsize=(6 * len(who), 3.4), squeeze=False)
    vmax = tidy["turns"].max() or 1
    for ax, name in zip(axes[0], who):
        grid = tidy[tidy["who"] == name].pivot(index="gap", columns="hour", values="turns").reindex(GAP_LABELS)
        im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="magma_r", vmin=0, vmax=vmax)
        ax.set_yticks(range(len(GAP_LABELS)), GAP_LABELS)
        ax.set_xticks(range(0, 24, 3))
        ax.set_xlabel("hour her/my turn starts")
        ax.set_title({"me": "my turns", "her": "her turns"}[name] + ": hour x silence before")
    fig.colorbar(im, ax=axes[0].tolist(), label="turns")
    return fig


def plot_lengths(df: pd.DataFrame, me: str | None = None):
    ln, tn = lengths(df), turns(df)
    fig, (a, b) = plots.subplots(1, 2, figsize=(11, 3.5))
    top = max(10, int(ln["chars"].quantile(0.99)))
    bins = np.arange(0, top + 2)
    for who in order(df, me)[:4]:
        a.hist(ln.loc[ln["speaker"] == who, "chars"].clip(upper=top), bins=bins, alpha=0.55, label=who, density=True)
        bub = tn.loc[tn["speaker"] == who, "bubbles"].clip(upper=10)
        b.hist(bub, bins=np.arange(0.5, 11.5), alpha=0.55, label=who, density=True)
    a.set_xlabel(f"characters per message (capped at {top})")
    b.set_xlabel("bubbles per turn (capped at 10)")
    a.legend(fontsize=8)
    b.legend(fontsize=8)
    return fig


def plot_latency(lat: pd.DataFrame, me: str | None = None):
    fig, ax = plots.subplots(figsize=(8, 3.5))
    who = ([me] if me in set(lat["to"]) else []) + [w for w in lat["to"].value_counts().index if w != me]
    width = 0.8 / max(1, len(who[:4]))
    for i, name in enumerate(who[:4]):
        m = lat.loc[lat["to"] == name, "minutes"]
        share = pd.cut(m, LATENCY_BINS, right=False, labels=LATENCY_LABELS).value_counts(normalize=True)
        ax.bar(np.arange(len(LATENCY_LABELS)) + i * width, share.reindex(LATENCY_LABELS).to_numpy(), width,
               label=f"{name} answers")
    ax.set_xticks(np.arange(len(LATENCY_LABELS)) + width * (len(who[:4]) - 1) / 2, LATENCY_LABELS)
    ax.set_ylabel("share of replies")
    ax.legend(fontsize=8)
    return fig


STYLE_LABELS = {"kk": "ㅋㅋ", "hh": "ㅎㅎ", "emoji": "emoji", "emoticon": "이모티콘", "question": "?",
                "filler": "filler", "polite": "~요", "banmal": "반말"}


def plot_style(table: pd.DataFrame):
    feats = [f for f in STYLE_LABELS if f in table.index]
    fig, ax = plots.subplots(figsize=(9, 3.5))
    table.loc[feats].plot.bar(ax=ax, width=0.8)
    ax.set_xticklabels([STYLE_LABELS[f] for f in feats], rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("share of messages")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return fig


def plot_top_words(words: pd.DataFrame):
    who = list(dict.fromkeys(words["speaker"]))[:4]
    fig, axes = plots.subplots(1, max(1, len(who)), figsize=(4.5 * max(1, len(who)), 5), squeeze=False)
    for ax, name in zip(axes[0], who):
        w = words[words["speaker"] == name].sort_values("rank", ascending=False)
        ax.barh(w["word"], w["count"])
        ax.set_title(name)
        ax.set_xlabel("count")
    return fig
