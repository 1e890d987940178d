"""Every real export in ../shared/corpora/kakao parses exactly as its MANIFEST.jsonl line says.

The files are third-party chats collected from public repositories: they are read in place and never
copied into this repo. Skipped when the folder is absent (a fresh clone elsewhere).

How the manifest's counts map onto our rows: n_messages = rows with a speaker; n_system + n_notice =
rows of kind "system" (an app notice line, e.g. the "You may temporarily be banned ..." policy line, is
a system row of its own); n_multiline = messages whose text holds a line break.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib import config, kakao

CORPORA = Path(config.ROOT).parent / "shared" / "corpora" / "kakao"
MANIFEST = CORPORA / "MANIFEST.jsonl"
ENTRIES = [json.loads(line) for line in MANIFEST.read_text(encoding="utf-8").splitlines() if line.strip()] \
    if MANIFEST.is_file() else []

pytestmark = pytest.mark.skipif(not ENTRIES, reason=f"no corpora at {CORPORA}")


def _as_manifest(row) -> dict:
    iso = row.time.isoformat()
    return {"time": iso, "speaker": row.speaker, "text": row.text}


def _same(row, expected: dict) -> bool:
    got = _as_manifest(row)
    got["time"] = got["time"][: len(expected["time"])]  # minute or second resolution, as the format has
    return got == {k: expected[k] for k in ("time", "speaker", "text")}


@pytest.fixture(scope="module")
def parsed():
    return {e["file"]: kakao.read_chat(CORPORA / e["file"]) for e in ENTRIES}


def test_every_format_is_covered():
    assert {e["parser_format"] for e in ENTRIES} == set(kakao.FORMATS)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_file_matches_manifest(parsed, entry):
    df = parsed[entry["file"]]
    assert df.attrs["format"] == entry["parser_format"]
    assert df.attrs["warnings"] == []
    assert set(df["kind"]) <= set(kakao.KINDS)
    msgs = df[df["speaker"].notna()].reset_index(drop=True)
    assert len(msgs) == entry["n_messages"]
    assert (df["kind"] == "system").sum() == entry["n_system"] + entry["n_notice"]
    assert df.loc[df["kind"] == "system", "speaker"].isna().all()
    assert sorted(msgs["speaker"].unique()) == sorted(entry["speakers"])
    assert int(msgs["text"].str.contains("\n").sum()) == entry["n_multiline"]
    assert _same(msgs.iloc[0], entry["first_message"]), (_as_manifest(msgs.iloc[0]), entry["first_message"])
    assert _same(msgs.iloc[-1], entry["last_message"]), (_as_manifest(msgs.iloc[-1]), entry["last_message"])
    for s in entry["sample_messages"] + entry.get("hard_cases", []):
        row = msgs.iloc[s["index"]]
        assert _same(row, s), (s.get("why", "sample"), _as_manifest(row), s)
    assert df["time"].notna().all()


def test_same_chat_in_different_exports_agrees(parsed):
    """The suziewithz room exported from Mac (en, kr): the same messages and times in both."""
    a = parsed.get("mac_csv__suziewithz_mac_en.csv")
    b = parsed.get("mac_csv__suziewithz_mac_kr.csv")
    if a is None or b is None:
        pytest.skip("suziewithz Mac exports not in the corpora")
    assert a["time"].equals(b["time"]) and list(a["speaker"]) == list(b["speaker"])
    assert list(a["kind"]) == list(b["kind"])


def test_merging_two_locales_of_one_chat(parsed):
    """Android ko + en exports of one room a minute apart: merged, overlaps counted once."""
    ko, en = "android_ko__iimplicit_KakaoTalkChats11.txt", "android_en_old__iimplicit_KakaoTalkChats10.txt"
    if ko not in parsed or en not in parsed:
        pytest.skip("iimplicit Android exports not in the corpora")
    merged = kakao.read_chat([CORPORA / ko, CORPORA / en])
    # 3 of the English export's 4 messages are in the Korean one (same minute, speaker, text, kind);
    # its "(emoticon)" is not, so it is added once
    assert len(merged) == len(parsed[ko]) + 1
    assert (merged["kind"] == "emoticon").sum() == 1
    assert merged["time"].is_monotonic_increasing
