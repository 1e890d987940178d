"""Turns, sessions and her-message -> my-reply pairs from parsed records: context windows, duplicate
caps, the session-disjoint split. Array code (numpy/pyarrow), no file I/O and no masking.

The one definition of a turn and a session (dataset, explore and the tiny pre-training all use it):
a new session starts after more than SESSION_GAP_HOURS of silence; a new turn when the speaker changes,
a session starts, or one speaker pauses more than TURN_GAP_MINUTES between bubbles. Each pair keeps
the local time of her last turn and the hours of silence before it (across sessions), for the time line.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lib.template import TURN_GAP_MINUTES, URL_TAG, time_line

# TURN_GAP_MINUTES (same speaker within this gap = one turn) lives in lib.template: lib.chat splits the
# page's history into turns the same way and must not import this module.
SESSION_GAP_HOURS = 6     # a silence this long starts a new conversation (not a slow reply)
# one row of the dataset: the chat-template messages (her turns "user", mine "assistant", mine last)
SCHEMA = pa.schema([
    ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
    ("session", pa.int64()),
    ("time", pa.string()),       # start of my reply turn
    ("her_time", pa.string()),   # start of her last turn (local time of the export)
    ("gap_hours", pa.float64()),  # silence before her last turn, hours; null for the chat's first turn
])
ISO = "%Y-%m-%dT%H:%M:%S"


class DatasetError(ValueError):
    """The chat or the parameters cannot make a dataset (empty, one speaker, unknown --me, no pairs,
    an unknown split); lib.dataset raises it too."""


def segment(times, speakers, *, turn_gap_minutes: float = TURN_GAP_MINUTES,
            session_gap_hours: float = SESSION_GAP_HOURS) -> tuple[np.ndarray, np.ndarray]:
    """(session, turn) number of each record; records must be in time order."""
    times = pd.Series(pd.to_datetime(pd.Series(times)).to_numpy())
    speakers = np.asarray(speakers, dtype=object)
    if len(times) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    gap = times.diff()
    new_session = (gap > pd.Timedelta(hours=session_gap_hours)).to_numpy(copy=True)
    new_session[0] = True
    new_speaker = np.r_[True, speakers[1:] != speakers[:-1]]
    new_turn = new_session | new_speaker | (gap > pd.Timedelta(minutes=turn_gap_minutes)).to_numpy()
    return np.cumsum(new_session) - 1, np.cumsum(new_turn) - 1


def structure(df: pd.DataFrame, me: str, her: str, *, turn_gap_minutes: float = TURN_GAP_MINUTES,
              session_gap_hours: float = SESSION_GAP_HOURS) -> pd.DataFrame:
    """Her and my records in time order with `role` (user = her, assistant = me), `session` and `turn`."""
    msgs = df.loc[df["speaker"].isin([me, her]) & df["kind"].ne("system"), ["time", "speaker", "kind", "text"]]
    msgs = msgs.sort_values("time", kind="stable").reset_index(drop=True)
    role = np.where(msgs["speaker"].to_numpy() == me, "assistant", "user")
    session, turn = segment(msgs["time"], role, turn_gap_minutes=turn_gap_minutes,
                            session_gap_hours=session_gap_hours)
    return msgs.assign(role=pd.Series(role, dtype=object), session=session, turn=turn)


def join_runs(values, run_ids: np.ndarray, n_runs: int, sep: str = "\n") -> pa.Array:
    """Join consecutive `values` that share a (sorted) run id, in C++: one string per run, "" if none."""
    counts = np.bincount(run_ids, minlength=n_runs) if len(run_ids) else np.zeros(n_runs, dtype=np.int64)
    offsets = pa.array(np.r_[0, np.cumsum(counts)].astype(np.int64), pa.int64())
    lists = pa.LargeListArray.from_arrays(offsets, pa.array(values, pa.large_string()))
    return pc.binary_join(lists, pa.scalar(sep, pa.large_string())).cast(pa.string())


def turns_table(msgs: pd.DataFrame, content: np.ndarray) -> pd.DataFrame:
    """One row per turn: session, role, `time` and `end` (its first and last record), `context` (all
    bubbles, tags included), `target` (text bubbles only, NaN for a placeholder-only turn), `block`."""
    turn = msgs["turn"].to_numpy()
    n = int(turn[-1]) + 1 if len(turn) else 0
    starts = np.flatnonzero(np.r_[True, turn[1:] != turn[:-1]]) if len(turn) else np.zeros(0, dtype=np.int64)
    is_text = msgs["kind"].eq("text").to_numpy()
    nonempty = content != ""
    # Three photos in a row read as one (사진), not three.
    repeat = np.r_[False, (content[1:] == content[:-1]) & (turn[1:] == turn[:-1])] if len(turn) else nonempty
    keep = nonempty & ~(repeat & ~is_text)
    text_rows = nonempty & is_text
    t = pd.DataFrame({
        "session": msgs["session"].to_numpy()[starts], "role": msgs["role"].to_numpy()[starts],
        "time": msgs["time"].to_numpy()[starts],
        "end": msgs["time"].to_numpy()[np.r_[starts[1:] - 1, len(turn) - 1] if len(turn) else starts],
        "context": pd.Series(join_runs(content[keep], turn[keep], n).to_pandas(), dtype="str"),
        "target": pd.Series(join_runs(content[text_rows], turn[text_rows], n).to_pandas(), dtype="str"),
    })
    t["target"] = t["target"].where(np.bincount(turn[text_rows], minlength=n) > 0)
    new_block = t["session"].ne(t["session"].shift()) | t["role"].ne(t["role"].shift())
    t["block"] = new_block.cumsum() - 1
    return t


def cut_head(text: str, limit: int) -> str:
    """Keep whole bubbles from the start while they fit; a single over-long bubble is cut."""
    out, size = [], 0
    for bubble in text.split("\n"):
        extra = len(bubble) + (1 if out else 0)
        if size + extra > limit:
            if not out:
                out.append(bubble[:limit].rstrip())
            break
        out.append(bubble)
        size += extra
    return "\n".join(out)


def cut_tail(text: str, limit: int) -> str:
    """Context keeps its most recent bubbles (the end of the message)."""
    bubbles = text.split("\n")
    if len(bubbles[-1]) > limit:
        return bubbles[-1][-limit:].lstrip()
    return "\n".join(cut_head("\n".join(bubbles[::-1]), limit).split("\n")[::-1])


_NON_WORD = re.compile(r"[\W_]+")
_RUN = re.compile(r"(.)\1{2,}")


def reply_key(text: str) -> str:
    """A reply as near duplicates compare: `ㅋㅋㅋㅋ!!` and `ㅋㅋㅋ` are the same reply (lowercase, no spaces
    or punctuation, runs squeezed to two); an emoji-only reply stays itself. Also lib.scores' new replies."""
    text = str(text)
    return _RUN.sub(r"\1\1", _NON_WORD.sub("", text.lower())) or text.strip()


def near_key(targets: pd.Series) -> pd.Series:
    """`reply_key` of every target, computed once per distinct reply."""
    uniq = targets.unique()
    return targets.map(dict(zip(uniq, map(reply_key, uniq))))


def cap_duplicates(keys: pd.Series, cap: int, seed: int) -> np.ndarray:
    """Keep at most `cap` rows per key, chosen at random (seeded) so kept ones spread over time."""
    perm = np.random.default_rng(seed).permutation(len(keys))
    codes = pd.factorize(keys.to_numpy())[0][perm]
    rank = pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy()
    keep = np.empty(len(keys), dtype=bool)
    keep[perm] = rank < cap
    return keep


def make_pairs(turns: pd.DataFrame, *, context_turns: int = 6, max_duplicate_targets: int = 20,
               max_target_chars: int = 400, max_context_chars: int = 1200, system_prompt: str | None = None,
               time_context: bool = True, seed: int = 0, with_turns: bool = False):
    """Every turn of mine that answers hers -> (pairs table in the dataset schema, funnel, cut counts);
    `with_turns` adds each pair's (first context turn, target turn) numbers for `preview`.

    The context is the alternating messages ("blocks": consecutive turns of one speaker merged)
    before my turn, within its session, at most `context_turns` before her last message and
    `max_context_chars` in all, starting with hers. Built with index arithmetic, not a loop per pair.
    With `time_context` a system line with lib.template's time line comes right before my reply.
    """
    funnel: list[dict] = []

    def step(name: str, unit: str, before: int, after: int):
        funnel.append({"filter": name, "unit": unit, "removed": int(before - after), "left": int(after)})

    role, session = turns["role"].to_numpy(), turns["session"].to_numpy()
    mine = role == "assistant"
    answers = mine & np.r_[False, role[:-1] == "user"] & np.r_[False, session[1:] == session[:-1]]
    step("my turns that do not answer hers (session start or my own follow-up)", "my turns",
         int(mine.sum()), int(answers.sum()))
    idx = np.flatnonzero(answers)
    target = turns["target"].iloc[idx]
    ok = target.notna() & target.str.replace(URL_TAG, "", regex=False).str.strip().ne("")
    step("placeholder-only replies (photo, emoticon, deleted, link...)", "replies", len(idx), int(ok.sum()))
    idx, target = idx[ok.to_numpy()], target[ok].reset_index(drop=True)

    long = (target.str.len() > max_target_chars).to_numpy()
    if long.any():
        target[long] = [cut_head(s, max_target_chars) for s in target[long]]

    keep = cap_duplicates(target.str.strip(), max_duplicate_targets, seed)
    step(f"exact duplicate replies beyond {max_duplicate_targets}", "replies", len(idx), int(keep.sum()))
    idx, target = idx[keep], target[keep].reset_index(drop=True)
    keep = cap_duplicates(near_key(target), max_duplicate_targets, seed + 1)
    step(f"near-duplicate replies beyond {max_duplicate_targets} (spacing, punctuation, ㅋㅋㅋ-length)",
         "replies", len(idx), int(keep.sum()))
    idx, target = idx[keep], target[keep].reset_index(drop=True)

    block = turns["block"].to_numpy()
    n_blocks = int(block[-1]) + 1 if len(block) else 0
    b_text = join_runs(turns["context"].to_numpy(dtype=object), block, n_blocks).to_pandas().to_numpy(dtype=object)
    b_start = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    b_role, b_session = role[b_start], session[b_start]
    b_first = np.arange(n_blocks) - pd.Series(b_session).groupby(b_session).cumcount().to_numpy()
    b_len = np.fromiter((len(s) for s in b_text), dtype=np.int64, count=n_blocks)
    long_ctx = np.flatnonzero(b_len > max_context_chars)
    for i in long_ctx:  # rare: one message over the whole budget keeps its end
        b_text[i] = cut_tail(b_text[i], max_context_chars)
        b_len[i] = len(b_text[i])

    b = block[idx - 1]  # her block just before my turn
    prefix = np.r_[0, np.cumsum(b_len + 1)]
    fits = np.searchsorted(prefix, prefix[b + 1] - max_context_chars - 1, side="left")
    lo = np.minimum(np.maximum.reduce([b_first[b], b - context_turns, fits]), b)
    lo += b_role[lo] == "assistant"  # chat templates expect her to speak first
    n_ctx = b - lo + 1

    her = idx - 1  # her last turn (my turn answers it)
    start, end = turns["time"].to_numpy(), turns["end"].to_numpy()
    gap = np.full(len(idx), np.nan)
    has_prev = her >= 1
    gap[has_prev] = (start[her[has_prev]] - end[her[has_prev] - 1]) / np.timedelta64(1, "h")
    her_dt = pd.DatetimeIndex(start[her])
    n_pairs, sys_n, time_n = len(idx), 1 if system_prompt else 0, 1 if time_context else 0
    lines = [time_line(t, g) for t, g in zip(her_dt.to_pydatetime(), gap.tolist())] if time_context else []
    n_msg = sys_n + n_ctx + time_n + 1  # [persona line] context [time line] my reply
    offsets = np.r_[0, np.cumsum(n_msg)]
    pair_of = np.repeat(np.arange(n_pairs), n_msg)
    pos = np.arange(offsets[-1]) - offsets[:-1][pair_of]
    # Index into one pool: [block texts..., targets..., persona line, time lines...]
    pool_idx = lo[pair_of] + pos - sys_n
    is_target = pos == n_msg[pair_of] - 1
    pool_idx[is_target] = n_blocks + pair_of[is_target]
    if sys_n:
        pool_idx[pos == 0] = n_blocks + n_pairs
    if time_n:
        is_time = pos == n_msg[pair_of] - 2
        pool_idx[is_time] = n_blocks + n_pairs + 1 + pair_of[is_time]
    content_pool = pa.array(np.r_[b_text, target.to_numpy(dtype=object), [system_prompt or ""],
                                  np.array(lines, dtype=object)], pa.string())
    role_pool = pa.array(np.r_[b_role, ["assistant"] * n_pairs, ["system"] * (1 + len(lines))].astype(object), pa.string())
    take = pa.array(pool_idx)
    messages = pa.ListArray.from_arrays(
        pa.array(offsets.astype(np.int32)),
        pa.StructArray.from_arrays([role_pool.take(take), content_pool.take(take)], names=["role", "content"]))
    times = turns["time"].iloc[idx].dt.strftime(ISO).to_numpy(dtype=object)
    table = pa.table({"messages": messages, "session": pa.array(session[idx].astype(np.int64)),
                      "time": pa.array(times, pa.string()),
                      "her_time": pa.array(her_dt.strftime(ISO).to_numpy(dtype=object), pa.string()),
                      "gap_hours": pa.array(np.round(gap, 3), pa.float64(), mask=np.isnan(gap))})
    cut = {"replies": int(long.sum()), "context_messages": int(len(long_ctx))}
    table = table.cast(SCHEMA)
    if with_turns:
        return table, funnel, cut, np.c_[b_start[lo], idx]
    return table, funnel, cut


def split_sessions(sessions: np.ndarray, *, val_fraction: float = 0.1, split: str = "time",
                   seed: int = 0) -> np.ndarray:
    """Boolean mask of validation rows: whole sessions, the latest ones (time) or a seeded draw."""
    if split not in ("time", "random"):
        raise DatasetError(f"split must be 'time' or 'random', got {split!r}")
    if not 0 <= val_fraction < 1:
        raise DatasetError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    uniq = np.unique(sessions)  # session numbers grow with time
    n_val = 0 if val_fraction == 0 or len(uniq) < 2 else min(len(uniq) - 1, math.ceil(val_fraction * len(uniq)))
    if split == "time":
        val = uniq[len(uniq) - n_val:] if n_val else uniq[:0]
    else:
        val = np.random.default_rng(seed).choice(uniq, size=n_val, replace=False)
    return np.isin(sessions, val)


# ---------------------------------------------------------------- statistics of a pairs table

def _percentiles(values: Sequence[float]) -> dict:
    if len(values) == 0:
        return {}
    q = np.percentile(np.asarray(values, dtype=float), [5, 25, 50, 75, 95, 99])
    return {**{f"p{p}": round(float(v), 1) for p, v in zip((5, 25, 50, 75, 95, 99), q)},
            "max": int(np.max(values)), "mean": round(float(np.mean(values)), 1)}


def flat_messages(pairs: pa.Table):
    """Per message: pair index, role, content, and whether it is the final (target) message."""
    msgs = pairs.column("messages").combine_chunks()
    flat = msgs.flatten()
    offsets = msgs.offsets.to_numpy()
    parent = np.repeat(np.arange(len(msgs)), np.diff(offsets))
    is_target = np.zeros(len(flat), dtype=bool)
    is_target[offsets[1:][np.diff(offsets) > 0] - 1] = True
    return parent, flat.field("role"), flat.field("content"), is_target


def lengths(pairs: pa.Table, tokenizer=None) -> dict:
    """Length percentiles of replies and contexts in characters (and tokens with a tokenizer)."""
    if pairs.num_rows == 0:
        return {}
    parent, role, content, is_target = flat_messages(pairs)
    size = pc.utf8_length(content).to_numpy()
    in_ctx = ~is_target & (role.to_numpy(zero_copy_only=False) != "system")
    n_ctx = np.bincount(parent[in_ctx], minlength=pairs.num_rows)
    ctx_chars = np.bincount(parent[in_ctx], weights=size[in_ctx], minlength=pairs.num_rows) + np.maximum(n_ctx - 1, 0)
    out = {"reply_chars": _percentiles(size[is_target]), "context_chars": _percentiles(ctx_chars.astype(int)),
           "context_messages": _percentiles(n_ctx)}
    if tokenizer is not None:
        targets = content.filter(pa.array(is_target)).to_pylist()
        contexts = join_runs(content.filter(pa.array(in_ctx)), parent[in_ctx], pairs.num_rows).to_pylist()
        enc = tokenizer(targets, add_special_tokens=False)["input_ids"]
        ctx = tokenizer(contexts, add_special_tokens=False)["input_ids"]
        out["reply_tokens"] = _percentiles([len(x) for x in enc])
        out["sample_tokens"] = _percentiles([len(x) + len(y) for x, y in zip(enc, ctx)])
    return out
