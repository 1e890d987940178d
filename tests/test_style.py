"""lib.style on hand-written cases: every definition in the module docstring, checked by example."""
import pandas as pd
import pytest

from lib import style


def one(text: str) -> dict:
    return style.features([text]).iloc[0].to_dict()


@pytest.mark.parametrize("text, ending", [
    ("좋아요", "polite"), ("좋아", "banmal"), ("좋아요 ㅎㅎ", "polite"), ("좋아 ㅋㅋ 😂", "banmal"),
    ("합니다", "polite"), ("감사합니다!", "polite"), ("갑니까?", "polite"), ("그러니까", "banmal"),
    ("맞죠?", "polite"), ("좋아용~", "polite"), ("네", "polite"), ("넵!", "polite"),
    ("응", "banmal"), ("ㅇㅇ", "banmal"), ("뭐 해?", "banmal"), ("잘 자", "banmal"), ("먹었지", "banmal"),
    ("가자", "banmal"), ("ㅋㅋㅋ", "other"), ("👍", "other"), ("사진", "other"), ("", "other"),
    ("잘 잤어요?\nㅋㅋ", "polite"), ("좋아요\n근데 나 졸려", "banmal"),  # the last decided bubble wins
])
def test_endings(text, ending):
    assert one(text)["ending"] == ending


def test_counts_on_hand_written_cases():
    f = one("ㅋㅋㅋ 오 맛있겠다\n완전 👍🏻❤️")
    assert (f["kk"], f["hh"], f["emoji"], f["bubbles"], f["filler"]) == (3, 0, 2, 2, 1)
    assert f["chars"] == len("ㅋㅋㅋ 오 맛있겠다완전 👍🏻❤️")
    assert one("흐흐")["hh"] == 0 and one("ㅎㅎ 네")["hh"] == 2
    assert one("뭐 해??")["question"] == 2
    f = one("좋아요\n좋아\n응")
    assert (f["polite"], f["banmal"]) == (1, 2)
    # placeholders and text-emoticon tags count once each; "(이모티콘)" is not counted twice
    assert [one(t)["emoticon"] for t in ["이모티콘", "(이모티콘)", "Sticker", "저 (하트) 좋아해요", "이모티콘 보내줘"]] \
        == [1, 1, 1, 1, 0]
    # fillers are whole words: 아니야 is an answer, not the filler 아니
    assert one("헐 대박")["filler"] == 2 and one("아니야")["filler"] == 0 and one("아니 근데")["filler"] == 2


def test_series_index_and_empty_input():
    s = pd.Series(["좋아요", "응"], index=[7, 7])
    f = style.features(s)
    assert list(f.index) == [7, 7] and list(f["ending"]) == ["polite", "banmal"]
    assert list(style.features([]).columns) == list(style.FEATURE_KINDS)
    assert style.rates([]) == {}


def test_rates_separate_two_styles():
    his = ["ㅋㅋㅋ 좋아", "응응", "나 지금 가 😂", "완전 배불러"]
    hers = ["오늘 점심 맛있었어요 ㅎㅎ", "오빠 뭐 해요?", "네 좋아요", "그럼 이따 봐요"]
    a, b = style.rates(his), style.rates(hers)
    assert a["kk"] == 0.25 and a["emoji"] == 0.25 and a["polite"] == 0 and a["banmal"] == 1
    assert b["polite"] == 1 and b["hh"] == 0.25 and b["question"] == 0.25 and b["polite_share"] == 1
    assert a["chars"] < b["chars"]
    assert set(style.FEATURE_KINDS) - {"ending"} <= set(a) and "ending=other" in a


def test_trailing_laughs_and_emoji_do_not_hide_short_answers():
    assert [one(t)["ending"] for t in ["ㅇㅋ 🔥", "응ㅋㅋ", "네 ㅎㅎ", "넵!!"]] == ["banmal", "banmal", "polite", "polite"]
