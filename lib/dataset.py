"""Her-message -> my-reply training pairs: parse, mask, pairs (lib.pairs), leak scan (lib.leakscan), split, write.
Owns data/processed/<name>/ (DatasetDict `dataset/`, JSONL files, card.json + card.md by lib.card) and its CLI.

    python -m lib.dataset build data/sample/pc_ko.txt --me 이도윤 --out data/processed/sample
    python -m lib.dataset build --profile sample-cpu          # chat, me, names and params from the profile
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
import re
import sys
import time as _time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lib import card as data_card
from lib import config, leakscan, names, pacing
from lib.fileio import atomic_path
from lib.kakao import read_chat
from lib.pairs import (SESSION_GAP_HOURS, TURN_GAP_MINUTES, DatasetError, lengths, make_pairs,
                       split_sessions, structure, turns_table)
from lib.privacy import Anonymizer, auto_names, chat_key, kiwi, names_to_mask
from lib.template import SHARE_TAGS, TAGS, URL_TAG

__all__ = ["DatasetError", "build", "run", "inputs", "load", "load_card", "preview"]

URL_RE = r"(?i)\b(?:https?://|www\.)[^\s<>\"']+"
INSTRUCTION = "여자친구가 이렇게 말했어:"
LABELS = {"user": "여자친구", "assistant": "나"}
STAGES = ("parse", "mask", "turns", "pairs", "leak scan", "split", "write")
FILES = ("train.jsonl", "validation.jsonl", "instruct_train.jsonl", "instruct_validation.jsonl",
         "card.json", "card.md")


def _features():
    import datasets
    return datasets.Features({
        "messages": datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")}),
        "session": datasets.Value("int64"),
        "time": datasets.Value("string"),
        "her_time": datasets.Value("string"),
        "gap_hours": datasets.Value("float64"),
    })


# ---------------------------------------------------------------- parse and choose speakers

def read_chats(chats) -> pd.DataFrame:
    """One export path, several (merged by lib.kakao), or an already parsed DataFrame."""
    if isinstance(chats, pd.DataFrame):
        return chats
    paths = [chats] if isinstance(chats, (str, Path)) else list(chats)
    if not paths:
        raise DatasetError("no chat export given: pass one or more KakaoTalk export files")
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


def known_names_for(df: pd.DataFrame, me: str, her: str, extra: Iterable[str] = (),
                    keep_words: Iterable[str] = ()) -> list[str]:
    """Names masked everywhere: the speakers and the names in the export title (lib.privacy.auto_names),
    except those the user kept as words (a member `java`, a bot), and the user's known names, always."""
    return names_to_mask([*auto_names(df), me, her], extra, keep_words)[0]


def mask_contents(msgs: pd.DataFrame, anonymizer) -> np.ndarray:
    """What each record contributes to the text: masked text (URLs tagged) or a placeholder tag."""
    is_text = msgs["kind"].eq("text").to_numpy()
    content = msgs["kind"].map(TAGS).fillna(TAGS["other"]).to_numpy(dtype=object, copy=True)
    other = msgs["kind"].eq("other").to_numpy()
    if other.any():  # KakaoTalk's "송금 24,000원" / "지도: ..." shares keep their kind, not their details
        head = msgs["text"].fillna("").to_numpy()[other].astype(str)
        head = pd.Series(msgs["text"].to_numpy()[other], dtype=object).fillna("").astype(str)
        shared = np.full(len(head), TAGS["other"], dtype=object)
        for word, tag in SHARE_TAGS.items():
            shared[head.str.startswith(word).to_numpy()] = tag
        content[other] = shared
    texts = msgs["text"].fillna("").to_numpy()[is_text].tolist()
    if texts:
        masked = pd.Series(anonymizer.mask_many(texts), dtype="str")
        has_url = masked.str.contains(r"(?i)https?://|www\.", regex=True)
        if has_url.any():
            masked[has_url] = masked[has_url].str.replace(URL_RE, URL_TAG, regex=True)
        content[is_text] = masked.str.strip().to_numpy(dtype=object)
    return content


# ---------------------------------------------------------------- card, files, leak scan

def time_summary(pairs: pa.Table) -> dict:
    """The time fields in numbers for the card: pairs by hour of her last turn, silence before it."""
    hours = pd.to_datetime(pd.Series(pairs.column("her_time").to_pylist())).dt.hour
    gap = pd.Series(pairs.column("gap_hours").to_pylist(), dtype="float64")
    bins = pd.cut(gap, [0, 1, 3, 6, 12, 24, float("inf")], right=False,
                  labels=["<1h", "1-3h", "3-6h", "6-12h", "12-24h", ">=24h"])
    return {"pairs_by_hour": {int(h): int(n) for h, n in hours.value_counts().sort_index().items()},
            "pairs_by_gap": {str(k): int(n) for k, n in bins.value_counts(sort=False).items()},
            "gap_hours_median": round(float(gap.median()), 2) if gap.notna().any() else None}


def render_context(messages: list[dict]) -> str:
    """The instruction format's `input`: the context as labelled lines, oldest first."""
    return "\n".join(f"{LABELS[m['role']]}: {m['content']}" for m in messages if m["role"] != "system")


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
    (folder / "card.md").write_text(data_card.markdown(card), encoding="utf-8")


def guard_pairs(pairs: pa.Table, anon, names: list[str], keep_words) -> tuple[pa.Table, dict]:
    """The final scan (lib.leakscan: own shapes, name forms, kiwi; it never trusts lib.privacy) over every
    distinct message the files will hold, system lines included. A flagged message is re-masked (a name ->
    its pseudonym, the rest -> <type>); a pair whose message still holds something is dropped."""
    msgs = pairs.column("messages").combine_chunks()
    flat, sizes = msgs.flatten(), msgs.value_lengths().to_numpy()
    content, uniq = flat.field("content"), pc.unique(flat.field("content"))
    leakscan.use_kiwi(kiwi())  # the tokenizer only: what counts as a name there is leakscan's own rule
    g = leakscan.guard(uniq.to_pylist(), names=[*names, *sorted(anon.names)], keep_words=keep_words,
                       pseudonyms=anon.seen.pseudonyms,
                       replace=lambda f: anon.pseudonym(f.value) if f.type == "이름" else f"<{f.type}>")
    if g.flagged:
        content = pa.array(g.texts, pa.string()).take(pc.index_in(content, value_set=uniq))
        msgs = pa.ListArray.from_arrays(pa.array(np.r_[0, np.cumsum(sizes)].astype(np.int32)),
                                        pa.StructArray.from_arrays([flat.field("role"), content], ["role", "content"]))
        pairs = pairs.set_column(0, "messages", msgs).cast(pairs.schema)
    bad = pa.array(sorted({g.texts[f.index] for f in g.remaining}), pa.string())
    drop = np.zeros(pairs.num_rows, bool)
    drop[np.repeat(np.arange(pairs.num_rows), sizes)[pc.is_in(content, value_set=bad).to_numpy(False)]] = True
    return pairs.filter(pa.array(~drop)), {"flagged": dict(sorted(g.flagged.items())), "pairs_dropped": int(drop.sum()),
                                           "messages_re_masked": sum(a != b for a, b in zip(uniq.to_pylist(), g.texts))}


def check_card(card: dict, names: list[str], keep_words, pseudonyms) -> None:
    """Fail closed: the card (card.md line by line, every quoted string of card.json) holds no personal value."""
    quoted = re.findall(r'"((?:[^"\\]|\\.)*)"', json.dumps(card, ensure_ascii=False))
    found = leakscan.scan([*data_card.markdown(card).splitlines(), *quoted], names=names, keep_words=keep_words,
                          pseudonyms=pseudonyms)
    if found:
        kinds = ", ".join(f"{k} x{n}" for k, n in pd.Series([f.type for f in found]).value_counts().items())
        raise leakscan.LeakError(f"the final leak scan found {len(found)} personal value(s) in the data card ({kinds});"
                                 " nothing was written. A card field carried chat data it should not: report it.")


# ---------------------------------------------------------------- build, load, preview

def build(chats, me: str, out_dir, *, her: str | None = None, known_names: Iterable[str] = (),
          keep_words: Iterable[str] = (), key: str | None = None, turn_gap_minutes: float = TURN_GAP_MINUTES,
          session_gap_hours: float = SESSION_GAP_HOURS,
          context_turns: int = 6, val_fraction: float = 0.1, split: str = "time", seed: int = 0,
          max_duplicate_targets: int = 20, system_prompt: str | None = None, max_target_chars: int = 400,
          max_context_chars: int = 1200, time_context: bool = True, tokenizer=None, progress: bool = True,
          timings: dict | None = None) -> dict:
    """Build the dataset in `out_dir` and return its card. Nothing is written unless the leak scan
    passes. `known_names` are always masked; `keep_words` never (and they override a speaker name the
    export brought in, never a known name: lib.privacy.names_to_mask). `key` fixes the pseudonyms
    (default: derived from the chat, so reruns are byte-identical);
    `time_context` puts lib.template's time line (her weekday and hour, the silence before) right before
    each reply; `timings`, if given, is filled with seconds per stage."""
    from tqdm.auto import tqdm

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

        keep = [str(w).strip() for w in keep_words if str(w).strip()]
        mask_names = known_names_for(df, me, her, known_names, keep)
        anon = Anonymizer(known_names=mask_names, key=key if key is not None else chat_key(df), keep_words=keep)
        system_prompt = anon.mask(system_prompt) if system_prompt else system_prompt  # 너는 도윤처럼: a pseudonym too
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
            system_prompt=system_prompt, time_context=time_context, seed=seed)
        funnel += pair_funnel
        if pairs.num_rows == 0:
            raise DatasetError(f"no pairs: none of my ({me}) {int((turns['role'] == 'assistant').sum())} turns answers"
                               f" a message of hers ({her}) with text; check --me/--her and the gaps")
        done("pairs")

        pairs, scanned = guard_pairs(pairs, anon, mask_names, keep)
        funnel.append({"filter": "pairs with a personal value left after re-masking (final leak scan)",
                       "unit": "pairs", "removed": scanned["pairs_dropped"], "left": pairs.num_rows})
        done("leak scan")

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
            "leak_scan": scanned,  # what the independent scan still found (per type, distinct messages)
            "lengths": lengths(pairs, tokenizer),
            "time": time_summary(pairs),
            "params": {"turn_gap_minutes": turn_gap_minutes, "session_gap_hours": session_gap_hours,
                       "context_turns": context_turns, "val_fraction": val_fraction, "split": split, "seed": seed,
                       "max_duplicate_targets": max_duplicate_targets, "max_target_chars": max_target_chars,
                       "max_context_chars": max_context_chars, "system_prompt": system_prompt,
                       "time_context": bool(time_context),
                       "key": "given" if key is not None else "derived from the chat", "known_names": len(mask_names),
                       "keep_words": len(keep)},
            "roles": {"assistant": "me", "user": "her"},
            # pseudonyms only: the page shows the real names in their place (lib.names)
            "participants": names.participants(anon.pseudonym, me=me, her=her, masked=anon.known),
            "pacing": pacing.bubble_gaps(msgs["time"].to_numpy(), msgs["role"].to_numpy() == "assistant",
                                         msgs["turn"].to_numpy()),
        }
        check_card(card, [*mask_names, *sorted(anon.names)], keep, anon.seen.pseudonyms)
        with atomic_path(out_dir) as tmp:
            write_outputs(tmp, {"train": train, "validation": val}, card)
            done("write")
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
    pair's messages. Only a few sessions are masked, so this is cheap on a full-size chat.
    Takes build()'s arguments (`preview(**inputs(profile), n=3)`); out_dir and progress are ignored."""
    params.pop("out_dir", None), params.pop("progress", None)
    allowed = set(inspect.signature(build).parameters) - {"chats", "me", "out_dir"}
    if set(params) - allowed:
        raise TypeError(f"preview() got unknown parameters {sorted(set(params) - allowed)}")
    seed = params.get("seed", 0)
    df = read_chats(chats)
    me, her = pick_speakers(df, me, her)
    msgs = structure(df, me, her, turn_gap_minutes=params.get("turn_gap_minutes", TURN_GAP_MINUTES),
                     session_gap_hours=params.get("session_gap_hours", SESSION_GAP_HOURS))
    # Prefer sessions that show the cleaning: placeholders and multi-bubble turns.
    per = msgs.groupby("session").agg(tags=("kind", lambda k: int((k != "text").sum())),
                                      bubbles=("turn", lambda t: int(t.duplicated().sum())))
    rich = per.index[(per["tags"] > 0) & (per["bubbles"] > 0)].to_numpy()
    pool = rich if len(rich) >= n else per.index.to_numpy()
    chosen = np.sort(np.random.default_rng(seed).choice(pool, size=min(sessions, len(pool)), replace=False))
    sub = msgs[msgs["session"].isin(chosen)].reset_index(drop=True)
    sub["turn"] = pd.factorize(sub["turn"])[0]
    keep = params.get("keep_words") or ()
    anon = Anonymizer(known_names=known_names_for(df, me, her, known_names, keep),
                      key=key if key is not None else chat_key(df), keep_words=keep)
    turns = turns_table(sub, mask_contents(sub, anon))
    pairs, _, _, window = make_pairs(
        turns, context_turns=params.get("context_turns", 6), max_duplicate_targets=10**9,
        max_target_chars=params.get("max_target_chars", 400), max_context_chars=params.get("max_context_chars", 1200),
        system_prompt=anon.mask(params["system_prompt"]) if params.get("system_prompt") else None,
        time_context=params.get("time_context", True), seed=seed,
        with_turns=True)
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


# ---------------------------------------------------------------- profile, CLI

def inputs(profile: str | dict | None = None, *, chat=None, me: str | None = None, out_dir=None,
           known_names: Iterable[str] = (), keep_words: Iterable[str] = (), **overrides) -> dict:
    """build()'s arguments from a profile (chat, me, known_names, keep_words, the `dataset:` section, its
    output folder data/processed/<name>/); explicit arguments win, None overrides are ignored."""
    prof = config.profile(profile) if profile is not None else {}
    params = {k: v for k, v in (prof.get("dataset") or {}).items() if k != "name"}
    if prof.get("time_context") is not None:  # a top-level switch: serving and evaluation read it too
        params["time_context"] = bool(prof["time_context"])
    params.update({k: v for k, v in overrides.items() if v is not None})
    chats = chat or prof.get("chat")
    chats = [config.resolve(c) for c in ([chats] if isinstance(chats, (str, Path)) else chats or [])]
    me = me or prof.get("me")
    out_dir = out_dir or (config.dataset_dir(prof) if (prof.get("dataset") or {}).get("name") else None)
    if not chats or not me or not out_dir:
        raise DatasetError("need the chat export(s), `me` and an output folder: give CHAT --me NAME --out DIR, or a "
                           "profile that sets chat, me and dataset.name")
    return {"chats": chats, "me": me, "out_dir": Path(out_dir),
            "known_names": [*(prof.get("known_names") or []), *known_names],
            "keep_words": [*(prof.get("keep_words") or []), *keep_words], **params}


def run(profile: str | dict | None = None, *, chat=None, me: str | None = None, progress: bool = True,
        **overrides) -> dict:
    """Build the profile's dataset (notebook 02 and the CLI); returns the card."""
    return build(**inputs(profile, chat=chat, me=me, **overrides), progress=progress)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.dataset", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="parse -> mask -> pairs -> split -> leak scan -> write; prints the card")
    b.add_argument("chats", nargs="*", help="KakaoTalk export file(s); default: the profile's `chat`")
    b.add_argument("--me", help="your name as it appears in the export")
    b.add_argument("--her", help="her name (default: the most active other speaker)")
    b.add_argument("--out", help="output folder (default: data/processed/<profile dataset name>)")
    b.add_argument("--known-name", action="append", default=[], help="extra name to mask (repeatable)")
    b.add_argument("--keep-word", action="append", default=[],
                   help="a word never masked as a name, even a speaker's name such as a bot's (repeatable)")
    b.add_argument("--profile", help="take chat, me, known_names and the `dataset:` section from a profile")
    b.add_argument("--key", help="pseudonym key (default: derived from the chat)")
    b.add_argument("--split", choices=("time", "random"))
    b.add_argument("--val-fraction", type=float)
    b.add_argument("--context-turns", type=int)
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    kw = dict(chat=args.chats or None, me=args.me, out_dir=args.out, her=args.her, key=args.key,
              known_names=args.known_name, keep_words=args.keep_word, split=args.split, val_fraction=args.val_fraction,
              context_turns=args.context_turns)
    try:
        card = run(args.profile, progress=not args.quiet, **kw)
    except (ValueError, FileNotFoundError) as e:  # DatasetError, LeakError, kakao.ChatFormatError
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(data_card.markdown(card))
    print(f"written to {inputs(args.profile, **kw)['out_dir']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
