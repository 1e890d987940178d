"""lib.leakscan: the final scan finds what a crippled masker lets through, one type at a time, and
never flags the masker's own tokens or pseudonyms."""
from __future__ import annotations

import re

import pytest

from lib import leakscan, privacy
from lib.leakscan import Finding, guard, redact, scan

# one planted value per type, in a sentence where nothing else would mask it
PLANTED = [
    ("전화번호", "내 번호 010 2847 3391 이야", "010 2847 3391"),
    ("전화번호", "010 다음에 3847 그다음 9216 으로 전화해", "3847"),
    ("전화번호", "공일공 칠칠팔구 일이공삼 으로 전화줘", "칠칠팔구"),
    ("주민번호", "주민번호 960312-2345678 맞아?", "960312-2345678"),
    ("외국인번호+주민번호", "외국인등록번호 910417-5234871", "910417-5234871"),  # 주민번호's rescan catches it too
    ("카드번호", "카드 4518.2290.1134.7762 로 결제", "4518.2290.1134.7762"),
    ("계좌+전화번호", "카뱅 3333-02-8841276 으로 보내줘", "3333-02-8841276"),  # else 02-... reads as a phone
    ("여권번호", "여권번호 M48213976 입력했어", "M48213976"),
    ("운전면허+계좌", "면허번호 12-18-334455-67", "12-18-334455-67"),
    ("차량번호", "우리 차 34나 7890 이야", "34나 7890"),
    ("이메일", "메일 hong.gildong@gmail.com 으로", "hong.gildong@gmail.com"),
    ("아이디", "카톡 아이디 sunny0517 추가해줘", "sunny0517"),
    ("주소", "푸르지오 103동 1102호로 와", "103동 1102호"),
    ("주소", "테헤란로 16번길 33 여기로 와", "16번길 33"),
    ("IP", "서버 주소 2001:db8:85a3::8a2e:370:7334 로 바꿨어", "2001:db8:85a3::8a2e:370:7334"),
    ("IP", "공인IP 121.134.22.78 이던데", "121.134.22.78"),
    ("URL", "https://blog.naver.com/haneul0303 여기 내 블로그", "haneul0303"),
    ("생년월일", "생년월일 1996.11.08 입니다", "1996.11.08"),
]
KNOWN = ["김민지", "박준호"]


def masker_without(monkeypatch, types: str) -> privacy.Anonymizer:
    """An Anonymizer whose detectors for `types` ("계좌+전화번호") are switched off (regex part, its
    belt-and-braces rescan and, for birth dates, the bare-date rule): what a masker bug would look like.
    Where another detector would still catch the value, that one is switched off too."""
    off = set(types.split("+"))
    if privacy.NAME in off:
        monkeypatch.setattr(privacy.Anonymizer, "_sub_names", lambda self, text, hit: text)
    else:
        parts = [(t, p) for t, p in privacy._NUM_PARTS if t not in off]
        monkeypatch.setattr(privacy, "NUM_RE", re.compile("|".join(f"(?P<g{i}>{p})" for i, (_, p) in enumerate(parts))))
        monkeypatch.setattr(privacy, "_GROUP_TYPE", {f"g{i}": t for i, (t, _) in enumerate(parts)})
        monkeypatch.setattr(privacy, "_SCAN", [(t, rx) for t, rx in privacy._SCAN if t not in off])
        if "생년월일" in off:
            monkeypatch.setattr(privacy, "_BARE_DATE", re.compile(r"(?!)"))
    return privacy.Anonymizer(known_names=KNOWN, key="test")


@pytest.mark.parametrize("types,text,value", PLANTED, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(PLANTED)])
def test_scan_finds_what_the_masker_missed(monkeypatch, types, text, value):
    typ = types.split("+")[0]
    anon = masker_without(monkeypatch, types)
    masked = anon.mask_many([text, "오늘 뭐 먹지"])
    assert value in masked[0], "the crippled masker should have let the value through"
    found = scan(masked, names=KNOWN, pseudonyms=anon.seen.pseudonyms)
    hits = [f for f in found if f.index == 0 and value in masked[0][f.start:f.end] or
            (f.index == 0 and f.value in value)]
    assert hits and hits[0].type == typ, found
    assert not [f for f in found if f.index == 1]
    g = guard(masked, names=KNOWN, pseudonyms=anon.seen.pseudonyms)
    assert value not in g.texts[0] and g.remaining == [] and g.flagged[typ] >= 1


@pytest.mark.parametrize("text,value", [
    ("지훈이가 그러는데 내일 온대", "지훈"),          # an unknown name: kiwi proper noun + hypocoristic 이
    ("민준아 뭐해", "민준"),                          # vocative
    ("서연씨 오늘 출근해요?", "서연"),                # 씨
    ("민지한테 물어봤어?", "민지"),                   # the given part of a known full name
    ("박준호 어디야", "박준호"),                      # a known full name, bare
])
def test_scan_finds_names_the_masker_missed(monkeypatch, text, value):
    anon = masker_without(monkeypatch, privacy.NAME)
    masked = anon.mask_many([text])
    assert value in masked[0]
    found = scan(masked, names=KNOWN, pseudonyms=anon.seen.pseudonyms)
    assert [f for f in found if f.type == "이름" and f.value == value], found


def test_clean_masker_output_has_no_findings():
    """The masker's tokens (<전화번호> ...) and its pseudonyms are never reported."""
    raw = ["민지야 내 번호 010-1234-5678", "지훈이가 그러는데 카드 4518.2290.1134.7762 래", "준호씨 메일 a.b@naver.com",
           "서연아 생일 축하해", "박준호 어디야", "카톡 아이디 sunny0517", "우리 집 테헤란로 16번길 33"]
    anon = privacy.Anonymizer(known_names=KNOWN, key="test")
    masked = anon.mask_many(raw)
    assert scan(masked, names=KNOWN, pseudonyms=anon.seen.pseudonyms) == []


def test_pseudonyms_and_keep_words_are_not_flagged():
    found = scan(["윤슬아 뭐해", "보람아 일어나"], pseudonyms={"윤슬"}, keep_words={"보람"}, names=["이보람"])
    assert found == []
    assert [f.value for f in scan(["보람아 일어나"], names=["이보람"])] == ["보람"]


def test_names_that_are_words_need_a_person_ending():
    assert scan(["수영 하러 가자", "수영이 좋아"], names=["김수영"]) == []
    assert [f.value for f in scan(["수영이가 왔어", "수영아 가자"], names=["김수영"])] == ["수영", "수영"]


def test_ordinary_numbers_are_not_findings():
    texts = ["3시 30분에 보자", "15,000원", "2023.11.08 일정", "강남역 2번 출구", "12:30:45", "3명 1234번 버스",
             "1박에 89,000원", "오후 3:30", "v2.1.3", "2024-05-05 어린이날"]
    assert scan(texts) == []


def test_redact_and_drop():
    texts = ["번호 010-1234-5678 이야", "안녕", "번호 010-1234-5678 이야"]
    found = scan(texts)
    assert [f.index for f in found] == [0, 2] and all(isinstance(f, Finding) for f in found)
    assert redact(texts, found) == ["번호 <전화번호> 이야", "안녕", "번호 <전화번호> 이야"]
    g = guard(texts, drop=True)
    assert g.texts == [None, "안녕", None] and g.dropped == {0, 2} and g.flagged["전화번호"] == 2 and not g.remaining
    g = guard(["민준아 뭐해"], replace=lambda f: "도윤" if f.type == "이름" else f"<{f.type}>")
    assert g.texts == ["도윤아 뭐해"]


def test_leakscan_does_not_import_privacy():
    """Independence is the point: the scan shares no code, regex or list with the masker."""
    import ast
    tree = ast.parse(open(leakscan.__file__, encoding="utf-8").read())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert not [m for m in imported if "privacy" in m], imported


def test_masked_real_exports_leave_few_findings():
    """On the third-party exports (read in place), after masking with the speakers as known names, the
    independent scan flags at most a handful of words (nicknames like 디온님 the masker let through, or
    typos kiwi reads as names): few enough to re-mask or drop without hurting the dataset."""
    from pathlib import Path

    from lib import config
    from lib.kakao import read_chat
    corpora = Path(config.ROOT).parent / "shared" / "corpora" / "kakao"
    files = sorted(f for f in corpora.glob("*") if f.suffix in (".txt", ".csv")) if corpora.is_dir() else []
    if not files:
        pytest.skip(f"no corpora at {corpora}")
    total = flagged = 0
    for f in files:
        try:
            df = read_chat(f)
        except Exception:
            continue
        speakers = sorted(set(df.speaker.dropna()))
        anon = privacy.Anonymizer(known_names=speakers, key="t")
        masked = anon.mask_many(df.text[df.kind == "text"].tolist())
        found = scan(masked, names=speakers, pseudonyms=anon.seen.pseudonyms)
        assert all(f.type == "이름" for f in found), found  # every number/ID shape was masked
        total, flagged = total + len(masked), flagged + len({f.index for f in found})
    assert total > 10_000 and flagged / total < 0.001, (flagged, total)
