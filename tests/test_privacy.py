"""lib.privacy: every type and written form, pseudonym consistency, particles, batch path, name policy and review;
the masked output checked by the independent scan (lib.leakscan)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib import config, leakscan
from lib.privacy import TOKENS, Anonymizer

CASES = Path(__file__).parent / "data" / "privacy_cases.jsonl"
FRESH = sorted((Path(__file__).parent / "data").glob("privacy_fresh*.jsonl"))


@pytest.fixture(scope="module")
def anon():
    return Anonymizer(known_names=["김민지", "박준호"], key="test-key")


def leftovers(out, anon, names=(), proper_nouns=True):
    """What lib.leakscan still finds in masked `out`, looking for every name the masker replaced."""
    return leakscan.scan(out, names=[*names, *anon.names], pseudonyms=anon.seen.pseudonyms, proper_nouns=proper_nouns)


def masked_away(anon, text, *values):
    out = anon.mask(text)
    for v in values:
        assert v not in out, f"{v!r} survived in {out!r}"
    return out


@pytest.mark.parametrize("text,value,token", [
    ("내 번호 010-1234-5678로 전화해", "010-1234-5678", "전화번호"),
    ("01012345678 이거야", "01012345678", "전화번호"),
    ("010.2345.6789 저장해", "010.2345.6789", "전화번호"),
    ("010 3456 7890 으로 연락줘", "010 3456 7890", "전화번호"),
    ("+82 10-4567-8901 해외에서", "+82 10-4567-8901", "전화번호"),
    ("+821056789012", "+821056789012", "전화번호"),
    ("집 전화 02-312-4567", "02-312-4567", "전화번호"),
    ("사무실 031)765-4321", "031)765-4321", "전화번호"),
    ("공일공 일이삼사 오육칠팔 로 전화", "공일공 일이삼사 오육칠팔", "전화번호"),
    ("영일영-구팔칠육-오사삼이", "영일영-구팔칠육-오사삼이", "전화번호"),
    ("주민번호 950312-1234567", "950312-1234567", "주민번호"),
    ("9503122345678 이거", "9503122345678", "주민번호"),
    ("외국인등록번호 880101-5123456", "880101-5123456", "외국인번호"),
    ("카드 1234-5678-9012-3456 로 결제", "1234-5678-9012-3456", "카드번호"),
    ("카드번호 1234 5678 9012 3456", "1234 5678 9012 3456", "카드번호"),
    ("국민은행 123456-01-234567 로 보내", "123456-01-234567", "계좌"),
    ("카뱅 3333012345678 입금해줘", "3333012345678", "계좌"),
    ("신한 110-234-567890 김민지", "110-234-567890", "계좌"),
    ("여권번호 M12345678 맞아?", "M12345678", "여권번호"),
    ("면허번호 11-19-123456-01", "11-19-123456-01", "운전면허"),
    ("차 번호 12가 3456 이야", "12가 3456", "차량번호"),
    ("서울 123허4567 렌트카", "123허4567", "차량번호"),
    ("메일 minji.kim@naver.com 으로", "minji.kim@naver.com", "이메일"),
    ("카톡 아이디 minji_99 추가해", "minji_99", "아이디"),
    ("인스타 @junho.park 팔로우해", "@junho.park", "아이디"),
    ("서버 192.168.0.12 접속", "192.168.0.12", "IP"),
    ("https://instagram.com/minji.kim 봐봐", "instagram.com/minji.kim", "URL"),
    ("생년월일 1995.03.12 입니다", "1995.03.12", "생년월일"),
    ("95년 3월 12일생이에요", "95년 3월 12일", "생년월일"),
    # issue 11: shapes the masker used to miss
    ("010 다음에 3847 그다음 9216 이야", "9216", "전화번호"),
    ("번호 010에 4829에 1175", "4829", "전화번호"),
    ("공일공 이이삼사 에 오육칠팔이야", "오육칠팔", "전화번호"),
    ("카드번호 4518.2290.1134.7762", "4518.2290.1134.7762", "카드번호"),
    ("서버 2001:db8:85a3::8a2e:370:7334 로 바꿨어", "2001:db8:85a3::8a2e:370:7334", "IP"),
    ("ipv6 fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a", "IP"),
    ("김하진 1996.11.08 여권 M39281746", "1996.11.08", "생년월일"),
    ("테헤란로 16번길 33 여기로 와", "16번길 33", "주소"),
    ("깃허브 hkim-dev92 에 올려놨어", "hkim-dev92", "아이디"),
])
def test_each_type(anon, text, value, token):
    out = masked_away(anon, text, value)
    assert TOKENS[token] in out


@pytest.mark.parametrize("text,values", [
    ("우리 집 서울시 마포구 월드컵로12길 34 107동 1203호야", ["월드컵로12길 34", "107동 1203호"]),
    ("망원동 123-45번지로 와", ["123-45"]),
    ("래미안아파트 302동 1501호", ["302동 1501호"]),
    ("부산 해운대구 센텀중앙로 79", ["센텀중앙로 79"]),
])
def test_addresses(anon, text, values):
    out = masked_away(anon, text, *values)
    assert "<주소>" in out


@pytest.mark.parametrize("text", [
    "현금으로 5만원 줄게", "앞으로 3주 남았어", "따로 2인분 시켜", "카드로 2만 결제했어", "12:30:45 에",
    "2023.11.08 일정 확인", "1996.11.08 에 처음 만났지", "std::vector 써",
    "이거 15,000원이야", "3시 30분에 보자", "2023년 3월에 갔었지", "2023-03-12 일정", "강남역 2번 출구",
    "마포구 살아", "3명 예약했어", "하늘이 너무 예쁘다", "이사 가야돼", "사랑해", "가을이 왔네",
    "고양이가 귀여워", "선생님이 그러셨어", "수영 하러 가자", "정말로 그래?", "오늘은 좀 피곤해",
])
def test_innocent_text_stays(anon, text):
    assert anon.mask(text) == text


def test_known_name_forms_and_particles(anon):
    fake_given = anon.pseudonym("준호")
    fake_full = anon.pseudonym("박준호")
    assert fake_full.endswith(fake_given) and fake_full != "박준호" and fake_given != "준호"
    assert anon.mask("준호야 뭐해") == f"{fake_given}야 뭐해"          # no batchim: 야 stays 야
    assert anon.mask("박준호 왔어") == f"{fake_full} 왔어"
    for particle in ["은", "는", "이", "가", "을", "를", "한테", "랑", "이랑", "께", "도", "의"]:
        out = anon.mask(f"민지{particle} 그랬어")
        assert "민지" not in out and out.startswith(anon.pseudonym("민지"))


def test_unknown_names_keep_particles_grammatical(anon):
    out = anon.mask("지훈이가 그러는데 민준아 들었어?")
    assert "지훈" not in out and "민준" not in out
    fake_jihun, fake_minjun = anon.pseudonym("지훈"), anon.pseudonym("민준")
    assert f"{fake_jihun}이가" in out and f"{fake_minjun}아" in out
    # batchim preserved so 이가/아 stay correct
    from lib.privacy import _has_batchim
    assert _has_batchim(fake_jihun[-1]) and _has_batchim(fake_minjun[-1])
    assert not _has_batchim(anon.pseudonym("준호")[-1])


def test_pseudonyms_consistent_across_calls_and_instances():
    a = Anonymizer(["김민지"], key="k1")
    b = Anonymizer(["김민지"], key="k1")
    c = Anonymizer(["김민지"], key="k2")
    t = "민지야 서현이한테 물어봐"
    assert a.mask(t) == a.mask(t) == b.mask(t)
    assert a.mask(t) != c.mask(t)


def test_a_speakers_pseudonym_is_theirs_alone():
    """lib.names swaps the speakers' pseudonyms back to their names on the page: no third party may share one."""
    from lib.privacy import COMMON_GIVEN
    a = Anonymizer(known_names=["이도윤", "최서연"], key="k")
    speakers = {a.pseudonym("도윤"), a.pseudonym("서연")}
    others = {a.pseudonym(n) for n in sorted(COMMON_GIVEN - {"도윤", "서연"})}
    assert len(speakers) == 2 and not speakers & others
    assert a.pseudonym("이도윤").endswith(a.pseudonym("도윤"))


def test_mask_many_equals_mask(anon):
    batch = ["준호야 010-1234-5678", "ㅋㅋㅋ", "", "지훈이가 minji@naver.com 보냄", "ㅋㅋㅋ", "민지한테 물어봐",
             "15,000원", "래미안아파트 302동 1501호", "하늘이 예쁘다"]
    fresh = Anonymizer(known_names=["김민지", "박준호"], key="test-key")
    assert fresh.mask_many(batch) == [anon.mask(t) for t in batch]
    assert fresh.counts["전화번호"] == 1 and fresh.counts["이메일"] == 1
    assert {"010-1234-5678", "minji@naver.com", "준호", "지훈"} <= fresh.seen


def test_mask_many_accepts_series_and_missing():
    pd = pytest.importorskip("pandas")
    a = Anonymizer(key="x")
    out = a.mask_many(pd.Series(["010-1111-2222", None, "안녕"]))
    assert out == ["<전화번호>", "", "안녕"]


def test_masked_output_passes_the_independent_scan(anon):
    raw = ["준호야 010-1234-5678로 전화해", "minji@naver.com 메일 확인", "지훈이가 왔어"]
    masked = anon.mask_many(raw)
    assert {"준호", "지훈"} <= anon.names and leftovers(masked, anon) == []
    planted = masked + ["준호야 안녕", "제 번호는 010 9876 5432", "주민 900101-1234567", "mail: a.b@c.com"]
    kinds = {(f.type, f.index) for f in leftovers(planted, anon)}
    assert kinds == {("이름", 3), ("전화번호", 4), ("주민번호", 5), ("이메일", 6)}


def test_pseudonyms_that_equal_real_names_are_no_leak():
    a = Anonymizer(key="k")
    fake = a.pseudonym("지훈")
    out = a.mask_many(["지훈이가 왔어", f"{fake}이가 왔어"])  # a real person called like the fake one
    assert "지훈" not in " ".join(out) and leftovers(out, a) == []


def test_recall_and_keep_bar_on_labelled_set():
    """The bar from issue 4: >= 99% of personal values gone, >= 97% of innocent words kept."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.privacy_recall import evaluate, load_cases
    cases = load_cases(CASES)
    assert len(cases) >= 150 and sum(1 for c in cases if not c["spans"]) >= 50
    types = {s["type"] for c in cases for s in c["spans"]}
    assert types >= {"이름", *TOKENS}, f"labelled set lacks {({'이름', *TOKENS}) - types}"
    res = evaluate(cases)
    assert res["recall"] >= 0.99, res["misses"]
    assert res["keep_rate"] >= 0.97, res["innocent_changed"]


def test_name_found_once_is_masked_everywhere_in_the_batch():
    a = Anonymizer(key="k")
    out = a.mask_many(["준영 왔어?", "아까 준영이랑 통화했는데", "서준 선배 졸업함"])
    assert not any("준영" in o for o in out)
    assert leftovers(out, a) == []


def test_spaced_titles_and_full_names():
    a = Anonymizer(key="k")
    for text, name in [("박하늘 선배 졸업했대", "박하늘"), ("김지원 대리 오늘 휴가래요", "김지원"),
                       ("최지수씨 계세요?", "최지수"), ("김철수 선생님이 숙제 내줌", "김철수")]:
        assert name not in a.mask(text)
    assert a.mask("오늘 팀장님이랑 회의") == "오늘 팀장님이랑 회의"


def test_handles_given_once_are_masked_when_typed_bare():
    a = Anonymizer(key="k")
    out = a.mask_many(["카톡 아이디 jjh_0101 추가해", "jjh_0101 맞지?"])
    assert all("jjh_0101" not in o for o in out) and leftovers(out, a) == []


@pytest.mark.parametrize("text", ["사진이랑 영상 보내줘", "다행이네 진짜", "언제야 시험", "부모님이랑 여행가",
                                  "선배님 감사합니다", "초대형 태풍 온대", "이상하네 왜 안되지", "천안이라고 했잖아"])
def test_ordinary_words_with_particles_stay(anon, text):
    assert anon.mask(text) == text


REAL = Path(config.ROOT).parent / "shared" / "corpora" / "kakao"  # beside the checkout, as the parser test


@pytest.mark.skipif(not REAL.is_dir(), reason=f"shared KakaoTalk corpora not at {REAL}")
def test_real_exports_mask_without_leaks():
    """Third-party exports (read in place, never copied): no number/ID shape survives masking, and no
    name the masker replaced somewhere is left elsewhere (kiwi's own guesses: tests/test_leakscan.py)."""
    from lib.kakao import read_chat
    texts, speakers = [], set()
    for f in sorted(REAL.glob("pc_ko__*.txt"))[:3]:
        try:
            df = read_chat(f)
        except Exception:  # a format lib.kakao rejects is its test's business, not ours
            continue
        texts += df.text[df.kind == "text"].tolist()[:3000]
        speakers |= set(df.speaker.dropna())
    if not texts:
        pytest.skip("no readable pc_ko export")
    a = Anonymizer(sorted(speakers), key="k")
    out = a.mask_many(texts)
    assert len(out) == len(texts) and a.counts["이름"] > 0
    assert leftovers(out, a, proper_nouns=False) == []


def test_contact_names_that_are_words_are_not_masked():
    a = Anonymizer(known_names=["엄마", "자기", "나", "김민지"], key="k")
    assert a.mask("엄마가 김치 보내줌 자기야") == "엄마가 김치 보내줌 자기야"
    assert "민지" not in a.mask("민지야")


def test_sample_chat_planted_values_vanish():
    """lib.sample's fictional couple: every planted personal value is masked, the scan is clean."""
    import re
    sample = pytest.importorskip("lib.sample")
    planted_file = Path(__file__).resolve().parents[1] / "data" / "sample" / "planted.json"
    if not planted_file.is_file():
        pytest.skip("data/sample/planted.json not written yet")
    planted = json.loads(planted_file.read_text(encoding="utf-8"))
    df = sample.generate(0)
    a = Anonymizer(known_names=sorted(set(df.speaker.dropna())), key="k")
    out = "\n".join(a.mask_many(df.text))
    for kind, values in planted.items():
        for v in values if isinstance(values, list) else []:
            assert not re.search(r"(?<![가-힣])" + re.escape(str(v)), out), f"{kind} {v!r} survived"
    assert leftovers(out.split("\n"), a) == []


# ------------------------------------------------------------------------------- issue 11
@pytest.mark.parametrize("text,word", [
    ("이번 지원금 언제 나와?", "지원금"), ("이 조건이면 우리가 유리하다", "유리하다"), ("어제 보고서 수정했어", "수정했어"),
    ("너는 한결같이 늦는구나", "한결같이"), ("아 민망해 진짜", "민망해"), ("그 미소 뭐야", "미소"),
    ("은하수 보러 가고싶다", "은하수"), ("날짜 정하고 알려줘", "정하고"), ("이정도면 괜찮지?", "이정도면"),
    ("모야 이게 ㅋㅋㅋ", "모야"), ("인천 도착하면 연락해", "인천"), ("수학쌤이 숙제 엄청 내줌", "수학쌤이"),
    ("영감님이 길 물어보셨어", "영감님이"), ("지은 지 오래된 건물이라 추워", "지은"), ("소정의 상품 준대", "소정의"),
    ("저희 팀장을 먼저 정하고 팀장이 연락해", "정하고"), ("모야모야", "모야모야"), ("Happy Birthday 🎂", "Birthday"),
])
def test_hard_negatives_keep_the_word(text, word):
    assert word in Anonymizer(key="k").mask(text)


@pytest.mark.parametrize("text,name", [
    ("남궁민수 교수님 수업 또 휴강", "남궁민수"), ("빈소영 씨 계세요?", "빈소영"), ("피민혁이라고 알아? 복학생", "피민혁"),
    ("아 걔 이름 뭐였더라 혜원이던가", "혜원"), ("민기랑은 아직 연락해?", "민기"), ("안녕하세요 저 수아인데요", "수아"),
    ("예나 언니 결혼한대!!", "예나"), ("최한결 생일 이번주 금요일이래", "최한결"), ("예금주 문하람으로 되어있어", "문하람"),
    ("받는분 성함 탁재원 이에요", "탁재원"), ("여권 영문이름 HONG GILDONG 맞지?", "GILDONG"),
    ("John Carter 라는 사람한테서 메일 옴", "Carter"), ("어제 Daniel이랑 통화했어", "Daniel"),
])
def test_names_found_from_context(text, name):
    assert name not in Anonymizer(key="k").mask(text)


def test_keep_words_are_never_masked_but_known_names_always_are():
    a = Anonymizer(key="k", keep_words=["보람", "Daniel"])
    assert a.mask("보람이가 그랬어 Daniel이랑 갈게") == "보람이가 그랬어 Daniel이랑 갈게"
    assert "지훈" not in a.mask("지훈이가 그랬어")
    b = Anonymizer(known_names=["김보람"], key="k", keep_words=["보람"])
    assert "보람" not in b.mask("보람이가 그랬어")
    with pytest.raises(TypeError):
        Anonymizer(key="k", keep_words="보람")


# names recall per fresh batch when the last round ended (benchmarks/results/privacy_recall.json); a batch
# written after it gets its floor when first scored. Issue 11's goal is 0.97: not reached on 5, 7, 8, 9, 10 and 11.
NAME_FLOOR = {"privacy_fresh1": 0.98, "privacy_fresh2": 0.98, "privacy_fresh3": 0.98, "privacy_fresh4": 0.97,
              "privacy_fresh5": 0.94, "privacy_fresh6": 0.97, "privacy_fresh7": 0.89, "privacy_fresh8": 0.91,
              "privacy_fresh9": 0.88, "privacy_fresh10": 0.94, "privacy_fresh11": 0.93}


@pytest.mark.parametrize("path", FRESH, ids=[p.stem for p in FRESH])
def test_fresh_sets_stay_above_the_measured_floor(path):
    """Fresh batches (never tuned on when first scored): issue 11's goals are recall 0.99 per non-name
    type and 0.97 for names, keep 0.97; the floors here are what the masker reaches today, so a
    change that loses ground fails."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.privacy_recall import evaluate, load_cases
    res = evaluate(load_cases(path))
    assert res["recall_non_names"] >= 0.98, res["misses"]
    assert res["recall_names"] >= NAME_FLOOR[path.stem], res["misses"]
    assert res["keep_rate"] >= 0.98 and res["keep_rate_hard"] >= 0.93, res["hard_changed"] + res["innocent_changed"]


@pytest.mark.parametrize("text,name", [
    ("어제 추예온 봤는데 머리 잘랐더라", "추예온"),     # a full name kiwi has never seen, a sentence going on after it
    ("나은혜 간호사님 찾으시던데", "나은혜"),           # any word ending in 님 after a full name is a title
    ("고운비 선배 번호 알아?", "고운비"),               # kiwi only finds an unlikely verb reading (곱 + 은 + 비)
    ("하늘이가 그러는데 내일 비온대", "하늘"),          # 이가 after a final consonant: only a person or pet is so called
    ("여울아 일어나 지각이야", "여울"),                 # a word kiwi can't split, calling out at the start of a message
    ("미소가 오늘 생일이야", "미소"),                   # a rarer word that is also a name, then a person's birthday
    ("디코 닉 moonlight_92 로 들어와", "moonlight_92"),  # 닉 (nickname) is an ID cue
])
def test_context_finds_names_and_ids(text, name):
    assert name not in Anonymizer(key="k").mask(text)


@pytest.mark.parametrize("text,word", [
    ("고마운 선배", "고마운"), ("이상한 사람이 말 걸었어", "이상한"),  # kiwi is sure of the adjective before a title
    ("ㅇㅇㅇ 시간이 되면 그 전에라도 연락할께", "시간이"),          # too common a word for the person rule
    ("난 야근은 안하고 지내지", "야근은"), ("어떤 아재가 음소거 안하고 통화함", "아재가"),  # said of anyone
    ("다들 지킬-깃헙 인가유ㅜ", "인가유"), ("아마 구지헌 쯤 되지 아늘까..", "구지헌"),  # no sentence going on
    ("옆에서 지학충이 원리 설명하고있던데", "지학충이"), ("내가 이마이 비싼걸 이렇게", "이마이"),  # slang endings
    ("ㅋㅋ마자여 돼리님들 있어서", "마자여"), ("에이관 사용은 도사님과 얘기하신고?", "사용은"),  # before X님
    ("한세사이버보안고등학교에 재학하고 있는", "재학하고"),          # 하고 is the verb here, not "with"
    ("중국형양산겜 냄시가 나는데", "중국형"),                      # 형 after a place: "-style"
    ("Method 이름을 여려개 생각안해도", "여려개"), ("이름 남겨도 돼", "남겨도"),  # after a form cue
    ("다음주도 하루인가 5-6m 넘어가는날", "5-6m"),                # a size, not a lot number
    ("우리은행 1588-5000 또는 고객센터", "1588-5000"),            # the bank's own line, not an account
])
def test_real_export_false_positives_stay_fixed(text, word):
    assert word in Anonymizer(key="k").mask(text)


@pytest.fixture()
def chat_df():
    pd = pytest.importorskip("pandas")
    rows = [("나", "지훈이가 010-1234-5678 번호 바꿨대"), ("서연", "민준아 보람이랑 밥 먹자"), ("나", "서연아 뭐해"),
            ("서연", "지훈이한테 물어봐"), ("나", "보람이 좋다")]
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=len(rows), freq="min"),
                         "speaker": [r[0] for r in rows], "text": [r[1] for r in rows], "kind": "text"})


def test_name_review_lists_each_name_with_reason_and_masked_example(chat_df):
    from lib.privacy import REVIEW_COLUMNS, name_review, veil_names
    t = name_review(chat_df, me="나", known_names=["박민준"], keep_words=["보람"])
    assert list(t.columns) == REVIEW_COLUMNS
    row = t.set_index("name")
    assert row.loc["지훈", "count"] == 2 and row.loc["지훈", "reason"] == "detected" and row.loc["지훈", "masked"]
    assert row.loc["민준", "reason"] == "known" and row.loc["서연", "reason"] == "speaker"
    assert not row.loc["보람", "masked"] and row.loc["보람", "reason"] == "kept word"
    assert all("지훈" not in e and "010-1234" not in e for e in t["example"])  # examples are masked
    with pytest.raises(ValueError, match="speakers"):
        name_review(chat_df, me="없는사람")
    veiled = veil_names(t)                                  # what notebook 02 shows by default
    shown = veiled.to_string()
    assert "지훈" not in shown and "민준" not in shown and "지○" in shown and "보람" in shown
    assert veiled["count"].tolist() == t["count"].tolist()


def test_keep_words_override_a_name_from_the_export_never_a_known_name():
    from lib.privacy import names_to_mask
    mask, kept = names_to_mask(["이도윤", "java", "NH투자증권", "박준호"], known=["김민지", "박준호"],
                               keep=["java", "NH투자증권", "김민지", "박준호"])
    assert mask == ["이도윤", "박준호", "김민지"] and kept == ["java", "NH투자증권"]


def test_name_review_shows_a_speaker_that_is_a_word_and_its_override():
    pd = pytest.importorskip("pandas")
    from lib.privacy import name_hint, name_review
    rows = [("나", "java 설치했어?"), ("java", "ㅇㅇ java 17로"), ("NH투자증권", "[NH투자증권] 체결 안내"),
            ("나", "지훈이가 NH투자증권 앱 깔래"), ("서연", "java는 어려워")]
    df = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=len(rows), freq="min"),
                       "speaker": [r[0] for r in rows], "text": [r[1] for r in rows], "kind": "text"})
    row = name_review(df, me="나").set_index("name")
    assert row.loc["java", "masked"] and row.loc["java", "reason"] == "speaker" and row.loc["java", "count"] == 3
    assert "keep_words" in row.loc["java", "hint"] and "keep_words" in row.loc["NH투자증권", "hint"]
    assert "java" not in row.loc["java", "example"]
    assert [name_hint(n) for n in ("서연", "최서연", "Daniel")] == ["", "", ""] and name_hint("you") != ""
    row = name_review(df, me="나", keep_words=["java", "NH투자증권"]).set_index("name")
    assert not row.loc["java", "masked"] and row.loc["java", "reason"] == "kept word (speaker)"
    assert "java" in row.loc["java", "example"] and row.loc["지훈", "masked"]
    assert row.loc["NH투자증권", "reason"] == "kept word (speaker)" and row.loc["NH투자증권", "count"] == 2


def test_names_cli_writes_the_csv(tmp_path, monkeypatch, capsys):
    from lib import privacy
    sample = Path(config.ROOT) / "data" / "sample" / "pc_ko.txt"
    if not sample.is_file():
        pytest.skip("data/sample not written")
    monkeypatch.setenv("MALBEOT_OUTPUTS", str(tmp_path))
    assert privacy.main(["names", str(sample), "--me", "이도윤", "--keep-word", "보람", "--top", "5"]) == 0
    out = tmp_path / "privacy" / "names.csv"
    assert out.is_file() and out.read_text(encoding="utf-8-sig").startswith("name,count,masked,reason")
    assert "candidate names" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        privacy.main(["names", str(sample), "--me", "nobody"])


# ------------------------------------------------------------------------- names by how the sentence uses them
@pytest.mark.parametrize("text,name", [
    ("봄이 생일 케이크 뭐로 하지", "봄"),             # one name syllable + 이, then a birthday
    ("담이가 열이 나서 병원 다녀옴", "담"),           # one syllable + 이가: only a name takes 이 + 가
    ("다정이 오늘 결근했어", "다정"),                 # a word that is a name, and what only people do
    ("태이는 잘 지낸대?", "태이"),                    # 지내: said of people
    ("기쁨아 생일 축하해 🎉", "기쁨"),                # a call opening the message (syllables rare in names)
    ("하엘 언니 인스타 봤어?", "하엘"),               # a spaced title after a word kiwi reads as a proper noun
    ("유리 언니가 밥 산대", "유리"),                  # a rarer dictionary word before a title
    ("미소 씨 오늘 출근하셨어요?", "미소"),           # spaced 씨
    ("온유 걔 진짜 착하더라", "온유"),                # 걔 right after the word
    ("남궁연 교수님 수업 듣는 사람?", "남궁연"),      # two-syllable surname + one syllable
    ("사공휘랑 같은 조야", "사공휘"),
    ("구하늘 봤어? 완전 달라졌어", "구하늘"),         # a full name kiwi reads as 구 + 하늘, seen
    ("하지안 오늘 생일이래", "하지안"),               # kiwi's verb reading (하+지+안) is only a guess
    ("김도하 1998.05.21 여권 M20938471", "김도하"),    # a full name beside identity numbers
    ("입금자명: 길다온", "길다온"),                    # a form cue before a name kiwi reads as a verb
    ("어제 만난 사람? 윤하진.", "윤하진"),             # a full name as a whole sentence
    ("우리 누리는 잘 지내?", "누리"),                 # kiwi's modifier reading with no noun after it
    ("나 지금 윤서 데리러 어린이집 가는 중", "윤서"),  # a bare name, then fetching someone
    ("산이 오늘 처음으로 엄마라고 했어 ㅠㅠ", "산"),    # what someone said (…라고 했어)
    ("태양이 동생 생겼대", "태양"),                   # someone's family right after it
    ("미래는 요즘 뭐하고 지내?", "미래"),             # an everyday word, then a verb said of people
    ("조카 하온이 돌이라서 가야 돼", "하온"),         # a tie right before it
    ("우리 반 회장 누구 됐어? 윤슬", "윤슬"),         # the answer to 누구
    ("부반장은 연서, 총무는 하엘", "하엘"),           # the holder of a role
    ("희망이네 집들이 언제야", "희망"),               # X네 집
    ("율아 밥 먹었어?", "율"),                        # one name syllable called
    ("010 다음에 6512 마지막은 3380", "3380"),         # (a phone with 마지막은 between its groups)
    ("하늘 팀장님 내일 출장이세요", "하늘"),           # a job title after an everyday word
    ("이든 씨 오늘 외근이세요", "이든"),               # spaced 씨 after a word kiwi cuts up
    ("보호자 성명 남궁윤", "남궁윤"),                  # a form cue, a two-syllable surname
    ("은채는 요즘 많이 바쁜가 봐", "은채"),            # busy: said of people
    ("ㅋㅋㅋㅋ재윤이 또 지각함", "재윤"),               # glued to ㅋㅋ; kiwi cuts 재(prefix) + 윤
    ("7시 반에 현서가 데리러 온대", "현서"),            # a subject fetching someone
    ("유리가 말하길 내일 비 온대", "유리"),             # 말 + 하길 read apart
    ("지금 누구랑 있냐고? 은결이랑", "은결"),           # the answer to 누구랑, with its particle
    ("걔 이름 뭐였지? 아 맞다 우빈", "우빈"),           # the answer to an 이름 question
    ("다희처럼 살고 싶다 진짜", "다희"),                # 처럼 after a word kiwi has never seen
    ("진짜 화났어 민규 때문에", "민규"),                # 때문에 after one
    ("이번 여행 멤버는 지안, 서윤, 가윤이랑 나", "서윤"),  # a comma list of such words
    ("라엘이랑 나랑 둘 중에 누가 더 커?", "라엘"),      # with me
    ('단톡에 예나가 "다들 어디야" 하고 올렸어', "예나"),  # said something quoted
    ("Jenny가 그러는데 거기 웨이팅 길대", "Jenny"),     # a Latin name, then a verb of people
    ("우리 딸 이름 하음이로 지었어", "하음"),           # a name given (after the form cue 이름)
    ("우리 조 발표자 주희로 정했어", "주희"),           # or chosen
    ("서준 불러 같이 먹게", "서준"),                    # a bare word kiwi has never seen, then a verb done to a person
    ("엄마가 세아 찾더라", "세아"),
    ("채윤네 집에서 자고 갈게", "채윤"),                # …네 집: someone's household
    ("하랑이 학원 끝났대?", "하랑"),                    # done with school (kiwi cuts 하 + 랑 + 이 in the sentence)
    ("나탈리한테 답장했어", "나탈리"),                  # a foreign name kiwi knows, told something
    ("마이클 형이 쏜대", "마이클"),                     # or titled
    ("Kevin이 늦는대", "Kevin"),                       # a Latin name + 이, then being late
    ("Tom이랑 Jake 왔어", "Jake"),                     # the partner of a Latin name, then coming
    ("올리비아랑 저녁 먹어", "올리비아"),               # a foreign name kiwi knows, a meal together
    ("이안이 몇 시에 끝나?", "이안"),                   # done (kiwi reads 끝 + 나, and 이 + 안)
])
def test_names_found_by_how_the_sentence_uses_them(text, name):
    assert name not in Anonymizer(key="k").mask(text)


@pytest.mark.parametrize("text,word", [
    ("별이 진짜 많이 떴다", "별이"), ("봄이 오긴 오나봐", "봄이"), ("태양이 너무 뜨거워", "태양이"),  # things
    ("희망이 없다 진짜", "희망이"), ("가을이 오면 캠핑 가자", "가을이"), ("겨울 생일이라 맨날 추워", "겨울"),
    ("바다 보고싶다 진짜", "바다"), ("한결 편해졌어", "한결"), ("걔 정은 많아", "정은"), ("진영 논리에 갇혔어", "진영"),
    ("버스가 늦게 와서 지각", "버스가"), ("고양이가 생일 케이크 핥음 ㅋㅋ", "고양이가"), ("수학 쌤이 또 숙제 내줌", "수학"),
    ("온유한 성격이래", "온유한"), ("차가운 물 마시지 마", "차가운"), ("하나만 더 먹자", "하나만"),
    ("정치랑은 거리 두고 살아", "정치랑은"), ("수학이랑은 안 맞아", "수학이랑은"), ("주연 배우 누구야", "주연"),
    ("그날은 출근해야 돼", "그날은"), ("시선에 식이가 딱 걸림", "식이가"), ("상황을 같이 공유하시고", "상황을"),
    ("저희가 멘토님 초대해야 될까요?", "멘토님"), ("낼 연락드리고 톡방 초대할게요", "톡방"),
    ("버그를 찾았어요", "버그를"), ("민초 좋아하는 여자친구", "민초"), ("제상황은 경희님이 말씀하신거같아요", "제상황은"),
    ("공일공이 뭐야 ㅋㅋ 전화번호?", "공일공이"),  # digits said aloud
    ("가게가 생일 이벤트 한대", "가게가"), ("누가 여친 군복 뺏어입으래", "군복"), ("담주 수욜이 아빠 생신이라", "수욜이"),
    ("구라믄 엄마한테 엠티처럼 운 띄워놔야함", "구라믄"), ("뿌자도 동생님의 선택?", "뿌자도"),
    ("하늘이 진짜 파랗다 오늘", "하늘이"), ("사랑이 뭘까 진짜", "사랑이"), ("택배가 오늘 왔어", "택배가"),
    ("강아지가 생일이라 케이크 사줬어", "강아지가"), ("동생이 군대 간대", "동생이"), ("그날은 약속 있어", "그날은"),
    ("주소 불러줄게 인천 연수구", "주소"), ("현재는 바빠", "현재는"), ("연말은 바빠서 안되는데", "연말은"),
    ("Michael Brown 이라는 분이 연락하셨어요", "분이"), ("택배 기사님 오셨어", "택배"), ("영업 팀장님이 그러는데", "영업"),
    ("비교는 그림으로 찾으시면 좋구요", "비교는"), ("자신이 찾은것인데 남들이 못찾은것", "남들이"),
    ("버스가 데리러 온대", "버스가"), ("바보처럼 굴지 마", "바보처럼"), ("코로나 때문에 못 가", "코로나"),
    ("우유, 빵, 계란 사와", "우유"), ("인생, 사랑, 우정 다 중요해", "사랑"), ("서울, 부산, 대구 다 가봄", "부산"),
    ("자동(기계가 실행)이기 때문에 빨라", "이기"), ("공부하는 이유는 하나님을 사랑하기 때문이다", "이유는"),
    ("너무 진실만 말하져", "진실만"), ("커피랑 나랑 잘 맞음", "커피랑"), ('뉴스가 "비 온대"라고 했어', "뉴스가"),
    ("메뉴 피자로 정했어", "피자로"), ("여행지 세부로 정했어", "세부로"), ("팀명 하나로 정했어", "하나로"),
    ("Apple이 그러는데 새 모델 나온대", "Apple"), ("Adidas랑 Nike 중에 뭐 살까", "Adidas"),  # brands, a choice
    ("넷플릭스가 그러는데 시즌2 나온대", "넷플릭스"), ("카카오톡이 그러는데", "카카오톡"), ("국민은행이 그러는데", "국민은행"),
    ("파이썬이랑 자고 올게", "파이썬"), ("현미 챙겨", "현미"), ("택시 불러", "택시"), ("할머니 희수 잔치 언제야?", "희수"),
    ("브로콜리 한송이 먹음", "한송이"), ("사기꾼들한테 돈 돌려받아야지", "사기꾼들"),
    ("수업이 몇 시에 끝나?", "수업이"), ("파이썬이랑 자바 공부했어", "파이썬"),
])
def test_words_the_context_rules_keep(text, word):
    assert word in Anonymizer(key="k").mask(text)
