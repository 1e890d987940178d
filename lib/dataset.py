"""Her-message -> my-reply training pairs: parse, mask, turns/sessions, pairs, split, leak scan, write.
Owns data/processed/<name>/ (DatasetDict `dataset/`, JSONL files, card.json/card.md) and its CLI.

    python -m lib.dataset build data/sample/pc_ko.txt --me 이도윤 --out data/processed/sample
    python -m lib.dataset build --profile sample-cpu          # chat, me, names and params from the profile
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import math
import sys
import time as _time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lib.fileio import atomic_path

# Non-text records become these tags in the context; a reply made only of them is not a target.
TAGS = {
    "photo": "(사진)", "video": "(동영상)", "emoticon": "(이모티콘)", "file": "(파일)",
    "audio": "(음성메시지)", "call": "(통화)", "deleted": "(삭제된 메시지)", "other": "(공유)",
}
URL_TAG = "<URL>"  # the anonymizer's token: one tag whichever pass caught the link
URL_RE = r"(?i)\b(?:https?://|www\.)[^\s<>\"']+"
INSTRUCTION = "여자친구가 이렇게 말했어:"
LABELS = {"user": "여자친구", "assistant": "나"}
STAGES = ("parse", "mask", "turns", "pairs", "split", "write", "leak scan")
FILES = ("train.jsonl", "validation.jsonl", "instruct_train.jsonl", "instruct_validation.jsonl",
         "card.json", "card.md")


class DatasetError(ValueError):
    """The chat cannot make a dataset (empty, one speaker, unknown --me, no pairs)."""


def _features():
    import datasets
    return datasets.Features({
        "messages": datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")}),
        "session": datasets.Value("int64"),
        "time": datasets.Value("string"),
    })


# ---------------------------------------------------------------- parse and choose speakers

def read_chats(chats) -> pd.DataFrame:
    """One export path, several (merged by lib.kakao), or an already parsed DataFrame."""
    if isinstance(chats, pd.DataFrame):
        return chats
    paths = [chats] if isinstance(chats, (str, Path)) else list(chats)
    if not paths:
        raise DatasetError("no chat export given: pass one or more KakaoTalk export files")
    from lib.kakao import read_chat
    return read_chat([Path(p) for p in paths] if len(paths) > 1 else Path(paths[0]))


def pick_speakers(df: pd.DataFrame, me: str, her: str | None = None) -> tuple[str, str]:
    """Validate `me` (and `her`); `her` defaults to the most active other speaker."""
    counts = df["speaker"].dropna().value_counts() if len(df) else pd.Series(dtype=int)
    if counts.empty:
        raise DatasetError("the chat has no messages from any speaker (empty export, or only system lines)")
    listing = ", ".join(f"{name} ({n})" for name, n in counts.items())
    if me not in counts.index:
        raise DatasetError(f"--me {me!r} is not a speaker in this chat; speakers (messages): {listing}")
    if len(counts) < 2:
        raise DatasetError(f"only one speaker ({me}) in this chat: there are no messages of hers to answer")
    if her is None:
        her = str(counts.drop(me).index[0])
    elif her not in counts.index or her == me:
        raise DatasetError(f"--her {her!r} is not another speaker in this chat; speakers (messages): {listing}")
    return me, her


def derive_key(df: pd.DataFrame) -> str:
    """Pseudonym key from the chat itself: same chat -> same pseudonyms, and secret as long as it is."""
    cols = df[["time", "speaker", "text"]]
    digest = pd.util.hash_pandas_object(cols, index=False).to_numpy().tobytes()
    return hashlib.sha256(b"malbeot-dataset-v1" + digest).hexdigest()


def known_names_for(df: pd.DataFrame, me: str, her: str, extra: Iterable[str] = ()) -> list[str]:
    """Speakers, names in the export title (a 1:1 export is titled with her name), the user's list.
    A title that is not just names (a group room like `우리 가족 방`) adds nothing: masking `가족`
    everywhere would wreck the text."""
    import regex
    names = [str(s) for s in df["speaker"].dropna().unique()] + [me, her]
    words = [w for w in regex.split(r"[,\s]+", str(df.attrs.get("title") or "")) if w]
    if words and all(regex.fullmatch(r"\p{Hangul}{2,4}", w) for w in words):
        names += words
    names += [str(n) for n in extra]
    return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))


# ---------------------------------------------------------------- structure (vectorised)

def structure(df: pd.DataFrame, me: str, her: str, *, turn_gap_minutes: float = 5,
              session_gap_hours: float = 6) -> pd.DataFrame:
    """Her and my records in time order with `role`, `session` and `turn` numbers.

    A new session starts after more than `session_gap_hours` of silence; a new turn when the speaker
    changes, a session starts, or one speaker pauses more than `turn_gap_minutes` between bubbles.
    """
    msgs = df.loc[df["speaker"].isin([me, her]) & df["kind"].ne("system"), ["time", "speaker", "kind", "text"]]
    msgs = msgs.sort_values("time", kind="stable").reset_index(drop=True)
    if msgs.empty:
        return msgs.assign(role=pd.Series(dtype=str), session=pd.Series(dtype=np.int64),
                           turn=pd.Series(dtype=np.int64))
    role = np.where(msgs["speaker"].to_numpy() == me, "assistant", "user")
    gap = msgs["time"].diff()
    new_session = (gap > pd.Timedelta(hours=session_gap_hours)).to_numpy(copy=True)
    new_session[0] = True
    new_speaker = np.r_[True, role[1:] != role[:-1]]
    new_turn = new_session | new_speaker | (gap > pd.Timedelta(minutes=turn_gap_minutes)).to_numpy()
    return msgs.assign(role=role, session=np.cumsum(new_session) - 1, turn=np.cumsum(new_turn) - 1)


def mask_contents(msgs: pd.DataFrame, anonymizer) -> np.ndarray:
    """What each record contributes to the text: masked text (URLs tagged) or a placeholder tag."""
    is_text = msgs["kind"].eq("text").to_numpy()
    content = msgs["kind"].map(TAGS).fillna(TAGS["other"]).to_numpy(dtype=object, copy=True)
    other = msgs["kind"].eq("other").to_numpy()
    if other.any():  # KakaoTalk's "송금 24,000원" / "지도: ..." shares keep their kind, not their details
        head = msgs["text"].fillna("").to_numpy()[other].astype(str)
        content[other] = np.where(np.char.startswith(head, "송금"), "(송금)",
                                  np.where(np.char.startswith(head, "지도"), "(지도)", TAGS["other"]))
    texts = msgs["text"].fillna("").to_numpy()[is_text].tolist()
    if texts:
        masked = pd.Series(anonymizer.mask_many(texts), dtype="str")
        has_url = masked.str.contains(r"(?i)https?://|www\.", regex=True)
        if has_url.any():
            masked[has_url] = masked[has_url].str.replace(URL_RE, URL_TAG, regex=True)
        content[is_text] = masked.str.strip().to_numpy(dtype=object)
    return content


def join_runs(values, run_ids: np.ndarray, n_runs: int, sep: str = "\n") -> pa.Array:
    """Join consecutive `values` that share a (sorted) run id, in C++: one string per run, "" if none."""
    counts = np.bincount(run_ids, minlength=n_runs) if len(run_ids) else np.zeros(n_runs, dtype=np.int64)
    offsets = pa.array(np.r_[0, np.cumsum(counts)].astype(np.int64), pa.int64())
    lists = pa.LargeListArray.from_arrays(offsets, pa.array(values, pa.large_string()))
    return pc.binary_join(lists, pa.scalar(sep, pa.large_string())).cast(pa.string())


def turns_table(msgs: pd.DataFrame, content: np.ndarray) -> pd.DataFrame:
    """One row per turn: session, role, start time, `context` (all bubbles, tags included),
    `target` (text bubbles only, NaN for a placeholder-only turn) and `block` (alternation unit)."""
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


def near_key(targets: pd.Series) -> pd.Series:
    """`ㅋㅋㅋㅋ!!` and `ㅋㅋㅋ` are the same reply: drop spaces/punctuation, squeeze repeats."""
    uniq = pd.Series(targets.unique(), dtype="str")
    key = uniq.str.lower().str.replace(r"[\W_]+", "", regex=True).str.replace(r"(.)\1{2,}", r"\1\1", regex=True)
    key = key.where(key.str.len() > 0, uniq.str.strip())  # emoji-only replies stay distinct
    return targets.map(pd.Series(key.to_numpy(), index=uniq.to_numpy()))


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
               seed: int = 0, with_turns: bool = False):
    """Every turn of mine that answers hers -> (pairs table in the dataset schema, funnel, cut counts);
    `with_turns` adds each pair's (first context turn, target turn) numbers for `preview`.

    The context is the alternating messages ("blocks": consecutive turns of one speaker merged)
    before my turn, within its session, at most `context_turns` before her last message and
    `max_context_chars` in all, starting with hers. Built with index arithmetic, not a loop per pair.
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

    n_pairs, sys_n = len(idx), 1 if system_prompt else 0
    n_msg = sys_n + n_ctx + 1
    offsets = np.r_[0, np.cumsum(n_msg)]
    pair_of = np.repeat(np.arange(n_pairs), n_msg)
    pos = np.arange(offsets[-1]) - offsets[:-1][pair_of]
    # Index into one pool: [block texts..., targets..., system prompt]
    pool_idx = lo[pair_of] + pos - sys_n
    is_target = pos == n_msg[pair_of] - 1
    pool_idx[is_target] = n_blocks + pair_of[is_target]
    if sys_n:
        pool_idx[pos == 0] = n_blocks + n_pairs
    content_pool = pa.array(np.r_[b_text, target.to_numpy(dtype=object), [system_prompt or ""]], pa.string())
    role_pool = pa.array(np.r_[b_role, ["assistant"] * n_pairs, ["system"]].astype(object), pa.string())
    take = pa.array(pool_idx)
    messages = pa.ListArray.from_arrays(
        pa.array(offsets.astype(np.int32)),
        pa.StructArray.from_arrays([role_pool.take(take), content_pool.take(take)], names=["role", "content"]))
    times = turns["time"].iloc[idx].dt.strftime("%Y-%m-%dT%H:%M:%S").to_numpy(dtype=object)
    table = pa.table({"messages": messages, "session": pa.array(session[idx].astype(np.int64)),
                      "time": pa.array(times, pa.string())})
    cut = {"replies": int(long.sum()), "context_messages": int(len(long_ctx))}
    table = table.cast(_features().arrow_schema)
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


# ---------------------------------------------------------------- card, files, leak scan

def _percentiles(values: Sequence[float]) -> dict:
    if len(values) == 0:
        return {}
    q = np.percentile(np.asarray(values, dtype=float), [5, 25, 50, 75, 95, 99])
    return {**{f"p{p}": round(float(v), 1) for p, v in zip((5, 25, 50, 75, 95, 99), q)},
            "max": int(np.max(values)), "mean": round(float(np.mean(values)), 1)}


def _flat(pairs: pa.Table):
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
    parent, role, content, is_target = _flat(pairs)
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


def render_context(messages: list[dict]) -> str:
    """The instruction format's `input`: the context as labelled lines, oldest first."""
    return "\n".join(f"{LABELS[m['role']]}: {m['content']}" for m in messages if m["role"] != "system")


def card_markdown(card: dict) -> str:
    c = card["counts"]
    lines = [f"# Dataset card: {card['name']}", "",
             f"Her-message -> my-reply pairs from {card['source']['files']} KakaoTalk export(s)"
             f" ({', '.join(card['source']['formats'])}), {card['date_range']['first']} to"
             f" {card['date_range']['last']}. Personal values are masked; the final leak scan passed.", "",
             "| | count |", "|---|---:|"]
    for k, v in c.items():
        lines.append(f"| {k.replace('_', ' ')} | {v:,} |")
    lines += ["", "## Filters", "", "| filter | unit | removed | left |", "|---|---|---:|---:|"]
    lines += [f"| {f['filter']} | {f['unit']} | {f['removed']:,} | {f['left']:,} |" for f in card["funnel"]]
    lines += ["", f"Cut to the length budget: {card['cut']['replies']:,} replies"
              f" (> {card['params']['max_target_chars']} chars, whole bubbles kept from the start),"
              f" {card['cut']['context_messages']:,} context messages (end kept).", "",
              "## Masking", "", "| type | replaced |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in card["masking"].items()] or ["| (none) | 0 |"]
    lines += ["", "## Lengths", "", "| measure | p5 | p25 | p50 | p75 | p95 | p99 | max |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for k, p in card["lengths"].items():
        if p:
            cells = " | ".join(str(p[q]) for q in ("p5", "p25", "p50", "p75", "p95", "p99", "max"))
            lines.append(f"| {k.replace('_', ' ')} | {cells} |")
    lines += ["", "## Parameters", "", "```json", json.dumps(card["params"], ensure_ascii=False, indent=2), "```", ""]
    return "\n".join(lines)


def _jsonl(rows: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows)


def write_outputs(folder: Path, parts: dict[str, pa.Table], card: dict) -> None:
    """Everything `build` promises, into `folder` (a temp dir: the caller renames it after the scan)."""
    import datasets
    from datasets.table import InMemoryTable

    folder.mkdir(parents=True, exist_ok=True)
    features = _features()
    # one chunk per column, even when empty (datasets cannot save a table with zero chunks)
    parts = {name: pa.Table.from_arrays([pa.concat_arrays(c.chunks) if c.num_chunks else pa.array([], c.type)
                                         for c in t.columns], schema=t.schema) for name, t in parts.items()}
    for name, table in parts.items():
        with open(folder / f"{name}.jsonl", "w", encoding="utf-8", newline="") as chat_f, \
                open(folder / f"instruct_{name}.jsonl", "w", encoding="utf-8", newline="") as inst_f:
            for batch in table.to_batches(max_chunksize=20_000):  # bounded memory on a full-size chat
                records = batch.to_pylist()
                chat_f.write(_jsonl(records))
                inst_f.write(_jsonl({"instruction": INSTRUCTION, "input": render_context(r["messages"][:-1]),
                                     "output": r["messages"][-1]["content"]} for r in records))
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        datasets.DatasetDict({
            name: datasets.Dataset(InMemoryTable(table), info=datasets.DatasetInfo(features=features), split=name)
            for name, table in parts.items()}).save_to_disk(
                str(folder / "dataset"),  # >= 1 shard: datasets writes none for an empty split, then can't load it
                num_shards={name: max(1, math.ceil(t.nbytes / 500e6)) for name, t in parts.items()})
    finally:
        if bars:
            datasets.enable_progress_bars()
    (folder / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (folder / "card.md").write_text(card_markdown(card), encoding="utf-8")


def scan_outputs(pairs: pa.Table, seen) -> None:
    """Fail closed: lib.privacy.leak_scan (every raw value the anonymizer replaced, plus its own
    independent regex pass) over every distinct message text, system prompt included. The JSONL,
    instruct and arrow files are made of exactly these strings; the card holds no chat text (numbers,
    dates and fixed labels only, which the regex pass would misread as phone or account numbers)."""
    from lib.privacy import LeakError, leak_scan

    leaks = leak_scan(pc.unique(_flat(pairs)[2]).to_pylist(), seen)
    if leaks:
        kinds = ", ".join(f"{k} x{n}" for k, n in pd.Series([lk.type for lk in leaks]).value_counts().items())
        raise LeakError(f"leak scan found {len(leaks)} personal value(s) in the built dataset ({kinds});"
                        " nothing was written. Add the missing names with --known-name, or report the"
                        " pattern the anonymizer missed.")


# ---------------------------------------------------------------- build, load, preview

def build(chats, me: str, out_dir, *, her: str | None = None, known_names: Iterable[str] = (),
          key: str | None = None, turn_gap_minutes: float = 5, session_gap_hours: float = 6,
          context_turns: int = 6, val_fraction: float = 0.1, split: str = "time", seed: int = 0,
          max_duplicate_targets: int = 20, system_prompt: str | None = None, max_target_chars: int = 400,
          max_context_chars: int = 1200, tokenizer=None, progress: bool = True,
          timings: dict | None = None) -> dict:
    """Build the dataset in `out_dir` and return its card. Nothing is written unless the leak scan
    passes. `key` fixes the pseudonyms (default: derived from the chat, so reruns are byte-identical);
    `timings`, if given, is filled with seconds per stage."""
    from tqdm.auto import tqdm

    from lib.privacy import Anonymizer

    if context_turns < 0 or max_duplicate_targets < 1 or max_target_chars < 1:
        raise DatasetError("context_turns must be >= 0, max_duplicate_targets and max_target_chars >= 1")
    out_dir = Path(out_dir)
    timings = {} if timings is None else timings
    bar = tqdm(total=len(STAGES), desc="dataset", disable=not progress, unit="stage")
    clock = [_time.perf_counter()]

    def done(stage: str):
        now = _time.perf_counter()
        timings[stage] = round(now - clock[0], 3)
        clock[0] = now
        bar.update()
        if stage != STAGES[-1]:
            bar.set_description(STAGES[STAGES.index(stage) + 1])

    try:
        bar.set_description(STAGES[0])
        df = read_chats(chats)
        me, her = pick_speakers(df, me, her)
        done("parse")

        names = known_names_for(df, me, her, known_names)
        anon = Anonymizer(known_names=names, key=key if key is not None else derive_key(df))
        msgs = structure(df, me, her, turn_gap_minutes=turn_gap_minutes, session_gap_hours=session_gap_hours)
        content = mask_contents(msgs, anon)
        done("mask")

        turns = turns_table(msgs, content)
        done("turns")

        n_other = int((df["speaker"].notna() & ~df["speaker"].isin([me, her])).sum())
        n_system = int((df["speaker"].isna() | df["kind"].eq("system")).sum())
        funnel = [{"filter": "system lines", "unit": "records", "removed": n_system, "left": int(len(df) - n_system)},
                  {"filter": "other speakers (group chat)", "unit": "records", "removed": n_other,
                   "left": int(len(msgs))}]
        pairs, pair_funnel, cut = make_pairs(
            turns, context_turns=context_turns, max_duplicate_targets=max_duplicate_targets,
            max_target_chars=max_target_chars, max_context_chars=max_context_chars,
            system_prompt=system_prompt, seed=seed)
        funnel += pair_funnel
        if pairs.num_rows == 0:
            raise DatasetError(f"no pairs: none of my ({me}) {int((turns['role'] == 'assistant').sum())} turns answers"
                               f" a message of hers ({her}) with text; check --me/--her and the gaps")
        done("pairs")

        sessions = pairs.column("session").to_numpy()
        is_val = split_sessions(sessions, val_fraction=val_fraction, split=split, seed=seed)
        train, val = pairs.filter(pa.array(~is_val)), pairs.filter(pa.array(is_val))
        val_times = val.column("time").to_pylist()
        done("split")

        card = {
            "name": out_dir.name,
            "source": {"files": (int(df.attrs.get("files", 1)) if isinstance(chats, pd.DataFrame)
                                 else 1 if isinstance(chats, (str, Path)) else len(list(chats))),
                       "formats": sorted({str(f) for f in str(df.attrs.get("format", "unknown")).split(",")}),
                       "records": int(len(df)), "parse_warnings": len(df.attrs.get("warnings", []) or [])},
            "date_range": {"first": df["time"].min().strftime("%Y-%m-%d"),
                           "last": df["time"].max().strftime("%Y-%m-%d")},
            "counts": {"records": int(len(df)), "messages_me_her": int(len(msgs)), "turns": int(len(turns)),
                       "sessions": int(turns["session"].nunique()), "pairs": pairs.num_rows,
                       "train": train.num_rows, "validation": val.num_rows,
                       "train_sessions": int(len(np.unique(sessions[~is_val]))),
                       "validation_sessions": int(len(np.unique(sessions[is_val])))},
            "split": {"method": split, "val_fraction": val_fraction,
                      "validation_from": min(val_times) if val_times and split == "time" else None},
            "funnel": funnel,
            "cut": cut,
            "masking": {k: int(v) for k, v in sorted(anon.counts.items())},
            "lengths": lengths(pairs, tokenizer),
            "params": {"turn_gap_minutes": turn_gap_minutes, "session_gap_hours": session_gap_hours,
                       "context_turns": context_turns, "val_fraction": val_fraction, "split": split, "seed": seed,
                       "max_duplicate_targets": max_duplicate_targets, "max_target_chars": max_target_chars,
                       "max_context_chars": max_context_chars, "system_prompt": system_prompt,
                       "key": "given" if key is not None else "derived from the chat", "known_names": len(names)},
            "roles": {"assistant": "me", "user": "her"},
        }
        with atomic_path(out_dir) as tmp:
            write_outputs(tmp, {"train": train, "validation": val}, card)
            done("write")
            anon.seen.update(names)  # a speaker's name must not appear even where the text never used it
            scan_outputs(pairs, anon.seen)
            done("leak scan")
    finally:
        bar.close()
    return card


def load(out_dir):
    """The DatasetDict (`train`, `validation`) written by `build`."""
    import datasets
    path = Path(out_dir) / "dataset"
    if not path.is_dir():
        raise FileNotFoundError(f"no dataset at {path}; build it with `python -m lib.dataset build`")
    return datasets.load_from_disk(str(path))


def load_card(out_dir) -> dict:
    return json.loads((Path(out_dir) / "card.json").read_text(encoding="utf-8"))


def preview(chats, me: str, *, n: int = 3, her: str | None = None, known_names: Iterable[str] = (),
            key: str | None = None, sessions: int = 40, **params) -> pd.DataFrame:
    """Before/after for `n` pairs, masked with the build's key and names (so pseudonyms match the
    dataset): `before` = the export's records in the pair's window (kind, masked text), `after` = the
    pair's messages. Only a few sessions are masked, so this is cheap on a full-size chat."""
    from lib.privacy import Anonymizer

    allowed = set(inspect.signature(build).parameters) - {"chats", "me", "out_dir"}
    if set(params) - allowed:
        raise TypeError(f"preview() got unknown parameters {sorted(set(params) - allowed)}")
    seed = params.get("seed", 0)
    df = read_chats(chats)
    me, her = pick_speakers(df, me, her)
    msgs = structure(df, me, her, turn_gap_minutes=params.get("turn_gap_minutes", 5),
                     session_gap_hours=params.get("session_gap_hours", 6))
    # Prefer sessions that show the cleaning: placeholders and multi-bubble turns.
    per = msgs.groupby("session").agg(tags=("kind", lambda k: int((k != "text").sum())),
                                      bubbles=("turn", lambda t: int(t.duplicated().sum())))
    rich = per.index[(per["tags"] > 0) & (per["bubbles"] > 0)].to_numpy()
    pool = rich if len(rich) >= n else per.index.to_numpy()
    chosen = np.sort(np.random.default_rng(seed).choice(pool, size=min(sessions, len(pool)), replace=False))
    sub = msgs[msgs["session"].isin(chosen)].reset_index(drop=True)
    sub["turn"] = pd.factorize(sub["turn"])[0]
    anon = Anonymizer(known_names=known_names_for(df, me, her, known_names),
                      key=key if key is not None else derive_key(df))
    turns = turns_table(sub, mask_contents(sub, anon))
    pairs, _, _, window = make_pairs(
        turns, context_turns=params.get("context_turns", 6), max_duplicate_targets=10**9,
        max_target_chars=params.get("max_target_chars", 400), max_context_chars=params.get("max_context_chars", 1200),
        system_prompt=params.get("system_prompt"), seed=seed, with_turns=True)
    if pairs.num_rows == 0:
        return pd.DataFrame(columns=["example", "side", "who", "kind", "text"])
    rows = pairs.column("messages").to_pylist()
    # one pair per session, the one with the most context (and tags or masked values if any)
    score = [len(m) + 3 * any(("(" in x["content"] or "<" in x["content"]) for x in m) for m in rows]
    best = pd.DataFrame({"session": turns["session"].to_numpy()[window[:, 1]], "score": score}).reset_index()
    best = best.sort_values(["score", "index"], ascending=[False, True]).drop_duplicates("session")
    picks = np.random.default_rng(seed).choice(best["index"].head(max(n * 3, n)).to_numpy(),
                                               size=min(n, len(best)), replace=False)
    raw_masked = anon.mask_many(sub["text"].fillna("").tolist())
    who = np.where(sub["role"].to_numpy() == "assistant", LABELS["assistant"], LABELS["user"])
    out = []
    for ex, i in enumerate(sorted(picks.tolist()), 1):
        first, last = window[i]
        for r in np.flatnonzero((sub["turn"].to_numpy() >= first) & (sub["turn"].to_numpy() <= last)):
            out.append((ex, "before", who[r], sub["kind"].iat[r], raw_masked[r]))
        for m in rows[i]:
            out.append((ex, "after", m["role"], "target" if m is rows[i][-1] else "context", m["content"]))
    return pd.DataFrame(out, columns=["example", "side", "who", "kind", "text"])


def _subplots(*args, **kw):
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from lib.explore import use_korean_font
    use_korean_font()
    return plt.subplots(*args, **kw)


def plot_funnel(card: dict):
    """Horizontal bars: rows each filter removed, and what was left after it."""
    steps = card["funnel"]
    fig, ax = _subplots(figsize=(9, 0.5 * len(steps) + 1.2))
    labels = [f"{s['filter']}\n[{s['unit']}]" for s in steps][::-1]
    removed = [s["removed"] for s in steps][::-1]
    ax.barh(labels, removed, color="#d9534f")
    for y, s in enumerate(steps[::-1]):
        ax.text(max(removed + [1]) * 0.01 + s["removed"], y, f"-{s['removed']:,} (left {s['left']:,})",
                va="center", fontsize=8)
    ax.set_xlabel("removed")
    ax.set_xlim(0, max(removed + [1]) * 1.45)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(f"filter funnel: {card['counts']['pairs']:,} pairs"
                 f" ({card['counts']['train']:,} train / {card['counts']['validation']:,} validation)")
    fig.tight_layout()
    return fig


def length_table(out_dir) -> pd.DataFrame:
    """Per pair: split, reply chars, context chars, context messages (from the written dataset)."""
    ds = load(out_dir)
    frames = []
    for split in ds:
        table = ds[split].data.table
        if table.num_rows == 0:
            continue
        parent, role, content, is_target = _flat(table)
        size = pc.utf8_length(content).to_numpy()
        in_ctx = ~is_target & (role.to_numpy(zero_copy_only=False) != "system")
        frames.append(pd.DataFrame({
            "split": split, "reply_chars": size[is_target],
            "context_chars": np.bincount(parent[in_ctx], weights=size[in_ctx], minlength=table.num_rows).astype(int),
            "context_messages": np.bincount(parent[in_ctx], minlength=table.num_rows)}))
    return pd.concat(frames, ignore_index=True)


def plot_lengths(lengths_df: pd.DataFrame):
    """Histograms of reply length, context length and context messages, train vs validation."""
    cols = ["reply_chars", "context_chars", "context_messages"]
    fig, axes = _subplots(1, 3, figsize=(12, 3.2))
    for ax, col in zip(axes, cols):
        hi = max(1, int(lengths_df[col].quantile(0.995)))
        bins = np.arange(0, hi + 2) - 0.5 if col == "context_messages" else np.linspace(0, hi, 40)
        for split, part in lengths_df.groupby("split", sort=False):
            ax.hist(part[col].clip(upper=hi), bins=bins, alpha=0.6, density=True, label=split)
        ax.set_title(col.replace("_", " "))
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def masking_table(card: dict) -> pd.DataFrame:
    return (pd.Series(card["masking"], name="replaced", dtype=int).rename_axis("type")
            .sort_values(ascending=False).reset_index())


def plot_masking(card: dict):
    t = masking_table(card)
    fig, ax = _subplots(figsize=(7, 0.35 * max(len(t), 1) + 1.2))
    ax.barh(t["type"][::-1], t["replaced"][::-1], color="#5b7db1")
    for y, v in enumerate(t["replaced"][::-1]):
        ax.text(v, y, f" {v:,}", va="center", fontsize=8)
    ax.set_xlabel("values replaced (records x occurrences)")
    ax.set_title("masking per type")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    from lib import config

    ap = argparse.ArgumentParser(prog="python -m lib.dataset", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="parse -> mask -> pairs -> split -> leak scan -> write; prints the card")
    b.add_argument("chats", nargs="*", help="KakaoTalk export file(s); default: the profile's `chat`")
    b.add_argument("--me", help="your name as it appears in the export")
    b.add_argument("--her", help="her name (default: the most active other speaker)")
    b.add_argument("--out", help="output folder (default: data/processed/<profile dataset name>)")
    b.add_argument("--known-name", action="append", default=[], help="extra name to mask (repeatable)")
    b.add_argument("--profile", help="take chat, me, known_names and the `dataset:` section from a profile")
    b.add_argument("--key", help="pseudonym key (default: derived from the chat)")
    b.add_argument("--split", choices=("time", "random"))
    b.add_argument("--val-fraction", type=float)
    b.add_argument("--context-turns", type=int)
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)

    prof = config.load_profile(args.profile) if args.profile else {}
    params = dict(prof.get("dataset") or {})
    name = params.pop("name", None)
    for k in ("split", "val_fraction", "context_turns"):
        if getattr(args, k) is not None:
            params[k] = getattr(args, k)
    chats = args.chats or [config.resolve(c) for c in (prof.get("chat") or [])]
    me = args.me or prof.get("me")
    out = args.out or (config.PROCESSED / name if name else None)
    if not chats or not me or not out:
        ap.error("need CHAT, --me and --out (or a --profile that provides them)")
    try:
        card = build(chats, me, out, her=args.her, key=args.key, progress=not args.quiet,
                     known_names=list(prof.get("known_names") or []) + args.known_name, **params)
    except (ValueError, FileNotFoundError) as e:  # DatasetError, LeakError, kakao.ChatFormatError
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(card_markdown(card))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
