"""lib.dataset: turns/sessions, context windows, cleaning, dup caps, split, determinism, no leaks, errors."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
import pytest

from lib import card as data_card
from lib import config, dataset, template
from lib.pairs import split_sessions, structure, turns_table
from lib.dataset import DatasetError

ME, HER = "이도윤", "최서연"
T0 = datetime(2025, 3, 3, 9, 0)


def chat(rows, title=HER) -> pd.DataFrame:
    """rows: (minutes after T0, speaker, text[, kind]) -> a read_chat-shaped frame."""
    recs = [{"time": T0 + timedelta(minutes=m), "speaker": s, "text": t, "kind": k[0] if k else "text"}
            for m, s, t, *k in rows]
    df = pd.DataFrame(recs, columns=["time", "speaker", "text", "kind"])
    df.attrs.update(title=title, saved_at=None, format="test", warnings=[], source="test")
    return df


def pairs_of(out) -> list[dict]:
    return [json.loads(line) for name in ("train", "validation")
            for line in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]


def quick(df, tmp_path, **kw):
    kw.setdefault("val_fraction", 0)
    kw.setdefault("time_context", False)  # these tests read the messages by position; the time line has its own
    card = dataset.build(df, ME, tmp_path / "out", progress=False, **kw)
    return card, pairs_of(tmp_path / "out")


@pytest.fixture(scope="module")
def sample_chat():
    from lib import kakao
    path = config.SAMPLE / "pc_ko.txt"
    if not path.is_file():
        pytest.skip("data/sample/pc_ko.txt not written yet (python -m lib.sample)")
    return kakao.read_chat(path)


@pytest.fixture(scope="module")
def sample_build(sample_chat, tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "sample"
    card = dataset.build(sample_chat, ME, out, progress=False)
    return out, card


# ---------------------------------------------------------------- structure

def test_bubbles_make_turns_and_silence_makes_sessions(tmp_path):
    df = chat([
        (0, HER, "오빠 뭐해요?"), (1, HER, "저 퇴근했어요"), (2, HER, "배고파요"),      # one turn of three bubbles
        (3, ME, "ㅋㅋ"), (3, ME, "나도 퇴근"),                                   # my reply, two bubbles
        (30, ME, "밥 먹자"),                                                  # 27 min later: a new turn of mine
        (31, HER, "좋아요"), (32, ME, "ㄱㄱ"),
        (60 * 10, HER, "잘 잤어요?"), (60 * 10 + 1, ME, "응 굿모닝"),             # 10 h later: a new session
    ])
    msgs = structure(df, ME, HER, turn_gap_minutes=5, session_gap_hours=6)
    turns = turns_table(msgs, msgs["text"].to_numpy(dtype=object))
    assert turns["role"].tolist() == ["user", "assistant", "assistant", "user", "assistant", "user", "assistant"]
    assert turns["context"].iloc[0] == "오빠 뭐해요?\n저 퇴근했어요\n배고파요"
    assert turns["session"].tolist() == [0, 0, 0, 0, 0, 1, 1]
    # consecutive turns of one speaker merge into one alternating context message
    assert turns["block"].tolist() == [0, 1, 1, 2, 3, 4, 5]

    card, pairs = quick(df, tmp_path)
    assert [p["messages"][-1]["content"] for p in pairs] == ["ㅋㅋ\n나도 퇴근", "ㄱㄱ", "응 굿모닝"]
    assert pairs[1]["messages"] == [
        {"role": "user", "content": "오빠 뭐해요?\n저 퇴근했어요\n배고파요"},
        {"role": "assistant", "content": "ㅋㅋ\n나도 퇴근\n밥 먹자"},
        {"role": "user", "content": "좋아요"},
        {"role": "assistant", "content": "ㄱㄱ"}]
    assert pairs[2]["messages"][0] == {"role": "user", "content": "잘 잤어요?"}  # nothing from the day before
    assert [p["session"] for p in pairs] == [0, 0, 1]
    assert pairs[0]["time"] == "2025-03-03T09:03:00"
    assert card["counts"]["sessions"] == 2 and card["counts"]["pairs"] == 3
    funnel = {f["filter"].split(" (")[0]: f["removed"] for f in card["funnel"]}
    assert funnel["my turns that do not answer hers"] == 1  # "밥 먹자" follows my own turn


def test_context_window_and_system_prompt(tmp_path):
    rows = []
    for i in range(8):  # strictly alternating, one session
        rows += [(2 * i, HER, f"그녀 {i}"), (2 * i + 1, ME, f"나 {i}")]
    card, pairs = quick(chat(rows), tmp_path, context_turns=2, system_prompt="너는 도윤처럼 말해.")
    last = pairs[-1]["messages"]
    # his name in the prompt becomes his pseudonym, as everywhere in the chat (and in the card)
    assert last[0]["role"] == "system" and last[0]["content"].endswith("처럼 말해.") and "도윤" not in last[0]["content"]
    assert card["params"]["system_prompt"] == last[0]["content"] and card["leak_scan"]["flagged"] == {}
    # her last turn + 2 turns before it; must start with her, so the window opens at 그녀 6
    assert [m["content"] for m in last[1:]] == ["그녀 6", "나 6", "그녀 7", "나 7"]
    for p in pairs:
        roles = [m["role"] for m in p["messages"][1:]]
        assert roles[0] == "user" and roles[-1] == "assistant"
        assert all(a != b for a, b in zip(roles, roles[1:]))  # alternating
    assert max(len(p["messages"]) - 2 for p in pairs) <= 3
    # a character budget trims the oldest messages first, never her last one
    _, pairs = quick(chat(rows), tmp_path, context_turns=6, max_context_chars=14)
    assert [m["content"] for m in pairs[-1]["messages"]] == ["그녀 6", "나 6", "그녀 7", "나 7"]


def test_placeholders_urls_and_long_turns(tmp_path):
    long_reply = "\n".join(["가" * 30] * 5)
    df = chat([
        (0, HER, "사진", "photo"), (0, HER, "사진", "photo"), (0, HER, "사진", "photo"), (0, HER, "이거 봐요"),
        (1, ME, "이모티콘", "emoticon"),                                   # placeholder-only reply: no target
        (2, HER, "여기 어때요 https://example.com/place?id=77"),
        (3, ME, "오 좋다 www.example.com/menu 여기도"),
        (4, HER, "송금 24,000원", "other"), (5, ME, "ㅋㅋ 고마워"),
        (6, HER, "길게 말해봐요"), (7, ME, long_reply),
    ])
    card, pairs = quick(df, tmp_path, max_target_chars=70)
    targets = [p["messages"][-1]["content"] for p in pairs]
    assert "이모티콘" not in "".join(targets) and "(이모티콘)" not in targets
    assert pairs[0]["messages"][0]["content"] == "(사진)\n이거 봐요"  # three photos -> one tag
    assert pairs[0]["messages"][1]["content"] == "(이모티콘)"         # but kept as context
    assert targets[0] == "오 좋다 <URL> 여기도"
    assert "<URL>" in pairs[0]["messages"][2]["content"] and "example" not in json.dumps(pairs)
    assert pairs[1]["messages"][-2]["content"] == "(송금)"
    assert targets[-1] == "가" * 30 + "\n" + "가" * 30  # cut at a bubble boundary within 70 chars
    assert card["cut"]["replies"] == 1
    removed = {f["filter"].split(" (")[0]: f["removed"] for f in card["funnel"]}
    assert removed["placeholder-only replies"] == 1


def test_duplicate_replies_are_capped(tmp_path):
    rows = []
    for i in range(60):
        rows += [(10 * i, HER, f"질문 {i}"), (10 * i + 1, ME, "ㅋㅋㅋ" if i % 2 else "ㅋ" * (3 + i % 7) + "!!")]
    rows += [(1000, HER, "진짜요?"), (1001, ME, "응 진짜")]
    card, pairs = quick(chat(rows), tmp_path, max_duplicate_targets=5)
    targets = [p["messages"][-1]["content"] for p in pairs]
    assert targets.count("ㅋㅋㅋ") <= 5
    assert sum(t.startswith("ㅋ") for t in targets) == 5  # near-duplicates share one cap
    assert "응 진짜" in targets
    removed = {f["filter"].split(" beyond")[0]: f["removed"] for f in card["funnel"]}
    assert removed["exact duplicate replies"] == 30 - 5
    assert removed["near-duplicate replies"] > 0


# ---------------------------------------------------------------- time of her message (issue 14)

def test_each_pair_keeps_her_time_and_the_silence_before_it_and_the_time_line_comes_before_my_reply(tmp_path):
    df = chat([
        (0, HER, "오빠 점심 뭐 먹어요?"),                              # Mon 09:00, the chat's first turn
        (1, ME, "아직 몰라"),
        (4 * 60 + 1, HER, "오빠?"), (4 * 60 + 3, HER, "바빠요?"),       # 13:01, 4 h after his turn; one turn
        (4 * 60 + 4, ME, "미안 이제 봤어"),
        (23 * 60, HER, "좋은 아침이에요"), (23 * 60 + 1, ME, "굿모닝"),  # Tue 08:00, ~19 h later: new session
    ])
    _, pairs = quick(df, tmp_path, time_context=True, system_prompt="반말로 짧게 답해.")
    assert [p["her_time"] for p in pairs] == ["2025-03-03T09:00:00", "2025-03-03T13:01:00", "2025-03-04T08:00:00"]
    assert pairs[0]["gap_hours"] is None                               # nothing before her first message
    assert pairs[1]["gap_hours"] == pytest.approx(4.0) and pairs[2]["gap_hours"] == pytest.approx(18 + 56 / 60, abs=1e-3)
    assert [p["messages"][-2] for p in pairs] == [
        {"role": "system", "content": "[월 아침 9시]"},
        {"role": "system", "content": "[월 오후 1시 · 4시간 만]"},
        {"role": "system", "content": "[화 아침 8시 · 18시간 만]"}]
    assert all(p["messages"][0] == {"role": "system", "content": "반말로 짧게 답해."} for p in pairs)
    assert pairs[1]["messages"][-3:] == [{"role": "user", "content": "오빠?\n바빠요?"},
                                         {"role": "system", "content": "[월 오후 1시 · 4시간 만]"},
                                         {"role": "assistant", "content": "미안 이제 봤어"}]
    # switched off: the same pairs, the same time fields, no time line
    _, plain = quick(df, tmp_path / "off", time_context=False)
    assert all(m["role"] != "system" for p in plain for m in p["messages"])
    assert [(p["her_time"], p["gap_hours"]) for p in plain] == [(p["her_time"], p["gap_hours"]) for p in pairs]


def test_time_line_is_short_and_reads_back():
    from lib import template
    tue_23 = datetime(2025, 3, 4, 23, 40)
    assert template.time_line(tue_23, 5.9) == "[화 밤 11시 · 5시간 만]"
    assert template.time_line(tue_23, 0.5) == template.time_line(tue_23, None) == "[화 밤 11시]"   # talk goes on
    assert template.time_line(tue_23, 75) == "[화 밤 11시 · 3일 만]"
    assert template.is_time_line({"role": "system", "content": "[화 밤 11시 · 5시간 만]"})
    assert not template.is_time_line({"role": "system", "content": "너는 도윤처럼 말해."})
    assert not template.is_time_line({"role": "user", "content": "[화 밤 11시]"})


def test_profile_switch_reaches_the_build():
    assert dataset.inputs("sample-cpu")["time_context"] is True
    prof = config.load_profile("sample-cpu") | {"time_context": False}
    assert dataset.inputs(prof)["time_context"] is False


# ---------------------------------------------------------------- split, determinism, privacy on the sample

def test_time_split_keeps_sessions_whole_and_validation_latest(sample_build):
    out, card = sample_build
    ds = dataset.load(out)
    train, val = set(ds["train"]["session"]), set(ds["validation"]["session"])
    assert train and val and not train & val
    assert min(val) > max(train)
    assert min(ds["validation"]["time"]) > max(ds["train"]["time"])
    assert len(val) == -(-len(train | val) // 10)  # ceil(10%) of the sessions that have pairs
    assert card["counts"]["train"] == len(ds["train"]) and card["counts"]["validation"] == len(ds["validation"])
    assert ds["train"][0]["messages"][-1]["role"] == "assistant"


def test_random_split_is_seeded_and_session_disjoint(sample_chat, tmp_path):
    sessions = pd.Series(range(100)).repeat(3).to_numpy()
    a = split_sessions(sessions, val_fraction=0.1, split="random", seed=1)
    b = split_sessions(sessions, val_fraction=0.1, split="random", seed=1)
    c = split_sessions(sessions, val_fraction=0.1, split="random", seed=2)
    assert (a == b).all() and (a != c).any()
    assert len(set(sessions[a])) == 10 and not set(sessions[a]) & set(sessions[~a])
    t = split_sessions(sessions, val_fraction=0.1, split="time")
    assert set(sessions[t]) == set(range(90, 100))
    with pytest.raises(DatasetError, match="split must be"):
        split_sessions(sessions, split="shuffle")


def _tree(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_input_same_bytes_and_key_changes_pseudonyms(sample_chat, sample_build, tmp_path):
    out, _ = sample_build
    dataset.build(sample_chat, ME, tmp_path / "again", progress=False)
    first, again = _tree(out), _tree(tmp_path / "again")
    assert sorted(first) == sorted(again)
    assert {"train.jsonl", "validation.jsonl", "instruct_train.jsonl", "instruct_validation.jsonl",
            "card.json", "card.md", "dataset/dataset_dict.json"} <= set(first)
    for name in first:
        if name != "card.json" and name != "card.md":
            assert first[name] == again[name], name
    # the card names its folder; everything else in it is identical
    assert json.loads(first["card.json"]) | {"name": "x"} == json.loads(again["card.json"]) | {"name": "x"}
    dataset.build(sample_chat, ME, tmp_path / "keyed", key="another secret", progress=False)
    assert (tmp_path / "keyed" / "train.jsonl").read_bytes() != first["train.jsonl"]


def test_no_planted_value_in_any_output_file(sample_build):
    out, card = sample_build
    planted = json.loads((config.SAMPLE / "planted.json").read_text(encoding="utf-8"))
    values = [v for vs in planted.values() for v in (vs if isinstance(vs, list) else [vs])]
    assert len(values) >= 15 and ME in values
    blobs = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.suffix != ".arrow"}
    leaked = [(v, p.name) for v in values for p, b in blobs.items() if str(v).encode() in b]
    # arrow files store strings back to back (통화해서|연남동 reads 서연): check them string by string
    ds = dataset.load(out)
    strings = [m["content"] for split in ds.values() for row in split["messages"] for m in row]
    assert len(strings) > 1000
    leaked += [(v, "dataset/") for v in values if any(v in s for s in strings)]
    assert not leaked, f"{len(leaked)} planted values leaked into {sorted({p for _, p in leaked})}"
    assert card["masking"].get("이름", 0) > 0 and card["masking"].get("전화번호", 0) > 0
    text = (blobs[out / "train.jsonl"] + blobs[out / "validation.jsonl"]).decode()
    assert all(token in text for token in ("<전화번호>", "<주소>", "<계좌>"))


# ---------------------------------------------------------------- the final leak scan (issue 11)

def shipped(out) -> str:
    """Every string the build wrote: the JSONL and card files, and each message of the arrow dataset."""
    files = [p.read_text(encoding="utf-8") for p in out.iterdir() if p.is_file()]
    ds = dataset.load(out)
    return "\n".join(files + [m["content"] for split in ds.values() for row in split["messages"] for m in row])


def test_a_masker_that_masks_nothing_still_ships_no_planted_value(sample_chat, tmp_path, monkeypatch):
    """The independent scan (lib.leakscan) re-masks what the masker let through, on the whole sample chat."""
    from lib import privacy
    monkeypatch.setattr(privacy.Anonymizer, "mask_many", lambda self, texts, **kw: list(texts))  # masks nothing
    card = dataset.build(sample_chat, ME, tmp_path / "out", progress=False)
    planted = json.loads((config.SAMPLE / "planted.json").read_text(encoding="utf-8"))
    text = shipped(tmp_path / "out")
    assert not [v for vs in planted.values() for v in vs if v in text]
    assert card["leak_scan"]["messages_re_masked"] > 50 and card["leak_scan"]["flagged"]["전화번호"] >= 5


# one planted value per type in her messages, and names in both directions (a speaker, a known name,
# third parties found by their person endings)
NAME_ROWS = [(HER, "지훈이가 그러는데 내일 온대", "지훈"), (ME, "민준아 뭐해 ㅋㅋ", "민준"), (HER, "서현씨 오늘 출근해요?", "서현"),
             (HER, "준호한테 물어봤어?", "준호"), (ME, "박준호 어디야", "박준호"), (HER, "도윤아 자?", "도윤"),
             (ME, "서연이가 최고지", "서연"), (HER, "이도윤 바보", "이도윤"), (HER, "아까 지훈이랑 통화함", "지훈")]


def planted_chat():
    from test_leakscan import PLANTED
    rows, m = [], 0
    for _, text, _ in PLANTED:
        rows += [(m, HER, text), (m + 1, ME, f"응 알겠어 {'ㅋ' * (m % 7 + 2)}")]
        m += 2
    for who, text, _ in NAME_ROWS:
        rows += [(m, HER, "뭐해?"), (m + 1, ME, text)] if who == ME else [(m, HER, text), (m + 1, ME, "ㅇㅇ 그러게")]
        m += 2
    return chat(rows), [(t.split("+")[0], v) for t, _, v in PLANTED] + [("이름", v) for _, _, v in NAME_ROWS]


@pytest.mark.parametrize("off", ["전화번호", "주민번호", "외국인번호+주민번호", "카드번호", "계좌+전화번호", "여권번호",
                                 "운전면허+계좌", "차량번호", "이메일", "아이디", "주소", "IP", "URL", "생년월일", "이름"])
def test_the_build_never_ships_what_a_crippled_masker_missed(tmp_path, monkeypatch, off):
    """One masker detector switched off at a time (lib.privacy's regex part and its own rescan, or all of its
    name finding): the build re-masks from the independent scan, and the files hold none of those values."""
    from test_leakscan import masker_without
    masker_without(monkeypatch, off)
    df, values = planted_chat()
    card = dataset.build(df, ME, tmp_path / "out", known_names=["박준호"], val_fraction=0, progress=False)
    text = shipped(tmp_path / "out")
    typ = off.split("+")[0]
    assert not [v for t, v in values if v in text], card["leak_scan"]
    if typ != "URL":  # the build tags every link (사진-style) before the scan could see one
        assert card["leak_scan"]["flagged"].get(typ, 0) >= (7 if typ == "이름" else 1)  # the scan did it


def test_a_message_the_scan_cannot_re_mask_is_dropped(tmp_path, monkeypatch):
    from test_leakscan import masker_without
    from lib import leakscan
    masker_without(monkeypatch, "전화번호")
    monkeypatch.setattr(leakscan, "redact", lambda texts, findings, replace=None: list(texts))  # re-masking broken
    df, _ = planted_chat()
    card = dataset.build(df, ME, tmp_path / "out", val_fraction=0, progress=False)
    assert "2847" not in shipped(tmp_path / "out") and "칠칠팔구" not in shipped(tmp_path / "out")
    assert card["leak_scan"]["pairs_dropped"] >= 3 and card["funnel"][-1]["removed"] == card["leak_scan"]["pairs_dropped"]


def test_a_card_holding_a_real_name_fails_closed_and_writes_nothing(tmp_path, monkeypatch):
    from lib import leakscan
    markdown = dataset.data_card.markdown  # a card bug: her name and number written into card.md
    monkeypatch.setattr(dataset.data_card, "markdown", lambda card: markdown(card) + f"\n{HER} 010-2847-3391\n")
    out = tmp_path / "leaky"
    with pytest.raises(leakscan.LeakError, match="nothing was written"):
        dataset.build(planted_chat()[0], ME, out, progress=False)
    assert not out.exists() and list(tmp_path.iterdir()) == []  # not even a temp folder left behind


def test_keep_words_override_a_speaker_name_but_never_a_known_name(tmp_path):
    rows = [(0, HER, "java 설치했어?"), (1, ME, "응 java 17"), (2, "java", "ㅎㅇ"), (3, HER, "java 어렵다"), (4, ME, "java 쉬움")]
    _, kept = quick(chat(rows), tmp_path / "a", keep_words=["java"])
    assert "java 17" in kept[0]["messages"][-1]["content"]
    _, masked = quick(chat(rows), tmp_path / "b")
    assert "java" not in json.dumps(masked)
    card, masked = quick(chat(rows), tmp_path / "c", keep_words=["java"], known_names=["java"])
    assert "java" not in json.dumps(masked) and card["params"]["keep_words"] == 1
    assert dataset.inputs({"chat": "x.txt", "me": ME, "keep_words": ["java"], "dataset": {"name": "t"}},
                          keep_words=["you"])["keep_words"] == ["java", "you"]


def test_instruct_files_and_card(sample_build):
    out, card = sample_build
    rows = [json.loads(x) for x in (out / "instruct_train.jsonl").read_text(encoding="utf-8").splitlines()]
    msgs = [json.loads(x) for x in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(msgs) == card["counts"]["train"]
    assert rows[0]["instruction"] == "여자친구가 이렇게 말했어:"
    assert rows[0]["output"] == msgs[0]["messages"][-1]["content"]
    assert rows[0]["input"].startswith("여자친구: ")
    assert card["date_range"]["first"] <= card["date_range"]["last"]
    for key in ("reply_chars", "context_chars", "context_messages"):
        assert set(card["lengths"][key]) >= {"p5", "p50", "p95", "max"}
    assert sum(f["removed"] for f in card["funnel"]) > 0
    assert "## Filters" in (out / "card.md").read_text(encoding="utf-8")
    assert card["params"]["time_context"] is True and sum(card["time"]["pairs_by_hour"].values()) == card["counts"]["pairs"]
    assert all(template.is_time_line(m["messages"][-2]) for m in msgs)


# ---------------------------------------------------------------- bad input and the CLI

def test_bad_inputs_say_what_is_wrong(tmp_path):
    empty = chat([])
    with pytest.raises(DatasetError, match="no messages"):
        dataset.build(empty, ME, tmp_path / "o", progress=False)
    with pytest.raises(DatasetError, match="only one speaker"):
        dataset.build(chat([(0, ME, "여보세요"), (1, ME, "아무도 없네")]), ME, tmp_path / "o", progress=False)
    two = chat([(0, HER, "안녕하세요"), (1, ME, "안녕")])
    with pytest.raises(DatasetError, match=rf"(?=.*'도윤' is not a speaker)(?=.*{ME} \(1\))(?=.*{HER} \(1\))"):
        dataset.build(two, "도윤", tmp_path / "o", progress=False)
    with pytest.raises(DatasetError, match="no pairs"):
        dataset.build(chat([(0, ME, "안녕"), (1, ME, "자?"), (600, HER, "이제 봤어요")]), ME, tmp_path / "o",
                      progress=False)
    with pytest.raises(DatasetError, match="no chat export"):
        dataset.build([], ME, tmp_path / "o", progress=False)
    assert not (tmp_path / "o").exists()


def test_cli_builds_and_prints_the_card(tmp_path, capsys):
    from lib import kakao
    df = chat([(0, HER, "오늘 뭐 먹어요?"), (1, ME, "마라탕 ㄱㄱ"), (2, HER, "좋아요"), (3, ME, "ㅋㅋ 콜")])
    path = tmp_path / "chat.txt"
    path.write_text(kakao.render_chat(df, "pc_ko", title=HER, saved_at=T0 + timedelta(days=1)), encoding="utf-8")
    out = tmp_path / "built"
    assert dataset.main(["build", str(path), "--me", ME, "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "# Dataset card: built" in printed and "| pairs | 2 |" in printed
    assert len(dataset.load(out)["train"]) == 2
    assert dataset.main(["build", str(path), "--me", "누구", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "not a speaker" in err and HER in err


def test_preview_is_masked_and_matches_the_dataset(sample_chat, sample_build):
    out, _ = sample_build
    ex = dataset.preview(sample_chat, ME, n=3)
    assert ex["example"].nunique() == 3 and set(ex["side"]) == {"before", "after"}
    planted = json.loads((config.SAMPLE / "planted.json").read_text(encoding="utf-8"))
    shown = "\n".join(ex["text"])
    assert not [v for vs in planted.values() for v in vs if v in shown]
    stored = (out / "train.jsonl").read_text(encoding="utf-8") + (out / "validation.jsonl").read_text(encoding="utf-8")
    targets = ex[ex["kind"] == "target"]["text"]
    assert len(targets) == 3 and all(json.dumps(t, ensure_ascii=False) in stored for t in targets)
    for fig in (data_card.plot_funnel(dataset.load_card(out)),
                data_card.plot_lengths(data_card.length_table(dataset.load(out)))):
        assert fig.axes


def test_card_token_lengths_with_a_tokenizer(tmp_path):
    def by_char(texts, add_special_tokens=False):  # stands in for a HF tokenizer: one token per character
        return {"input_ids": [list(t) for t in texts]}

    df = chat([(0, HER, "안녕하세요"), (1, ME, "ㅎㅇ"), (2, HER, "뭐해요"), (3, ME, "그냥 있어")])
    card = dataset.build(df, ME, tmp_path / "o", tokenizer=by_char, val_fraction=0, progress=False)
    assert card["lengths"]["reply_tokens"]["max"] == len("그냥 있어")
    assert card["lengths"]["sample_tokens"]["max"] == len("안녕하세요\nㅎㅇ\n뭐해요") + len("그냥 있어")
