"""She is called by her own name: the pseudonyms the model was trained with become the real names on her
page (particles, vocatives, 님/씨 right), her real names go back to the pseudonyms before the model sees
them, and the dataset records pseudonyms only. Also his pacing between bubbles (lib.pacing)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lib import names, pacing
from lib.privacy import Anonymizer

# pseudonyms as lib.privacy picks them: same final consonant as the real name
HER = {"name": "박다온", "given": "다온"}       # 김민준 (final consonant ㄴ) -> 다온 (ㄴ)
ME = {"name": "윤도아", "given": "도아"}        # 이주하 (no final consonant) -> 도아 (none)


def maps(**kw):
    return names.for_page({"her": HER, "me": ME}, her_name="김민준", my_name="이주하", **kw)


@pytest.mark.parametrize("reply, shown", [
    ("다온아 뭐해", "민준아 뭐해"),                 # vocative after a final consonant
    ("다온이가 그랬어?", "민준이가 그랬어?"),         # hypocoristic 이 + subject
    ("다온님 오늘 바빠요?", "민준님 오늘 바빠요?"),
    ("박다온 씨 맞죠", "김민준 씨 맞죠"),            # full name -> full name
    ("우리다온 최고", "우리민준 최고"),
    ("도아야 나 왔어", "주하야 나 왔어"),            # his name, no final consonant: 야
    ("도아가 할게", "주하가 할게"),
    ("다온다온", "민준다온"),                        # only a whole name at the left edge, as masked
])
def test_her_pseudonym_in_a_reply_shows_her_real_name_with_the_right_particle(reply, shown):
    display, _ = maps()
    assert display(reply) == shown


def test_a_nickname_with_another_final_consonant_gets_its_own_particles():
    display, to_model = maps(her_nickname="준이", my_nickname="주항")
    assert display("다온아 다온이가 다온은 다온을 다온이랑 다온으로") == "준이야 준이가 준이는 준이를 준이랑 준이로"
    assert display("도아야 도아가 도아는 도아를 도아랑 도아로") == "주항아 주항이 주항은 주항을 주항이랑 주항으로"
    # and back: what she types with the nickname reaches the model in the form it was trained on
    assert to_model("준이야 준이가 준이는") == "다온아 다온이 다온은"
    assert to_model("주항아 주항이랑") == "도아야 도아랑"


def test_rieul_takes_ro_not_euro():
    display, _ = names.for_page({"her": {"name": None, "given": "하솔"}}, her_name="가을")
    assert display("하솔로 정했어") == "가을로 정했어"
    display, _ = names.for_page({"her": {"name": None, "given": "하솔"}}, her_name="가을", her_nickname="갈")
    assert display("하솔아") == "갈아"
    display, _ = names.for_page({"her": {"name": None, "given": "하솔"}}, her_name="가을", her_nickname="가온")
    assert display("하솔로 가자") == "가온으로 가자"


@pytest.mark.parametrize("typed, model_sees", [
    ("민준이라고 불러줘", "다온이라고 불러줘"),
    ("주하님 바빠요?", "도아님 바빠요?"),            # his name as she writes it
    ("이주하 씨 맞아요?", "윤도아 씨 맞아요?"),
    ("김민준이 누구게", "박다온이 누구게"),
    ("오늘 하늘이 맑다", "오늘 하늘이 맑다"),        # no name: untouched
])
def test_her_real_names_reach_the_model_as_the_pseudonyms(typed, model_sees):
    _, to_model = maps()
    assert to_model(typed) == model_sees


def test_round_trip_is_lossless_for_the_forms_the_model_writes():
    display, to_model = maps()
    for text in ("다온아 보고싶어", "다온이가 최고", "도아는 오늘 야근", "박다온 님", "다온님"):
        assert to_model(display(text)) == text


def test_without_settings_or_record_nothing_changes():
    display, to_model = names.for_page(None, her_name="김민준")
    assert not display and not to_model and display("다온아") == "다온아"
    display, to_model = names.for_page({"her": HER, "me": ME})
    assert display("다온아") == "다온아"


@pytest.mark.parametrize("name, split", [("김민준", ("김", "민준")), ("남궁민수", ("남궁", "민수")),
                                         ("민지", ("", "민지")), ("Alex", ("", "Alex"))])
def test_split_name(name, split):
    assert names.split_name(name) == split


def test_the_record_holds_pseudonyms_that_keep_the_final_consonant_and_never_the_real_names():
    real_her, real_me = "김민준", "이주하"
    anon = Anonymizer(known_names=[real_her, real_me], key="test-key")
    rec = names.participants(anon.pseudonym, me=real_me, her=real_her, masked=anon.known)
    text = json.dumps(rec, ensure_ascii=False)
    assert real_her not in text and "민준" not in text and real_me not in text and "주하" not in text
    for role, real in (("her", real_her), ("me", real_me)):
        fake = rec[role]
        assert fake["name"].endswith(fake["given"]) and len(fake["given"]) == 2
        assert (names.final_consonant(fake["given"]) is None) == (names.final_consonant(real) is None)
    # the masker writes exactly these pseudonyms into the training text
    masked = anon.mask("민준아 이주하 씨한테 말했어")
    assert masked.startswith(rec["her"]["given"] + "아") and rec["me"]["name"] in masked


def test_a_name_the_masker_leaves_alone_gets_no_pseudonym():
    anon = Anonymizer(known_names=["자기", "이주하"], key="k")   # 자기 is a pet name, never masked
    rec = names.participants(anon.pseudonym, me="이주하", her="자기", masked=anon.known)
    assert rec["her"] == {"name": None, "given": None} and rec["me"]["given"]


def test_the_built_dataset_records_both_participants(sample_dataset_dir):
    card = json.loads((sample_dataset_dir / "card.json").read_text(encoding="utf-8"))
    text = json.dumps(card, ensure_ascii=False)
    assert "이도윤" not in text and "도윤" not in text and "최서연" not in text and "서연" not in text
    assert card["participants"]["me"]["given"] and card["participants"]["her"]["given"]
    assert card["pacing"]["gaps"] > 0 and card["pacing"]["resolution_s"] == 60


# --------------------------------------------------------------------------------------------- pacing

def test_pacing_measures_gaps_between_his_bubbles_of_one_turn_only():
    t = np.array(["2025-03-03T10:00:00", "2025-03-03T10:00:04", "2025-03-03T10:00:10",   # his turn: 4 s, 6 s
                  "2025-03-03T10:01:00", "2025-03-03T10:05:00",                          # hers: not counted
                  "2025-03-03T10:06:01"], dtype="datetime64[s]")
    p = pacing.bubble_gaps(t, [True, True, True, False, False, True], [0, 0, 0, 1, 1, 2])
    assert p["resolution_s"] == 1 and p["gaps"] == 2
    assert dict(p["quantiles"])[0.5] == 5.0


def test_minute_stamps_spread_a_turn_over_its_minute():
    t = np.array(["2025-03-03T10:00", "2025-03-03T10:00", "2025-03-03T10:00"], dtype="datetime64[m]")
    p = pacing.bubble_gaps(t, [True] * 3, [0, 0, 0])
    assert p["resolution_s"] == 60 and p["gaps"] == 1
    assert dict(p["quantiles"])[0.5] == 15.0          # 3 bubbles in a minute: 60*(2/4)/2 s apart


def test_draw_interpolates_and_caps():
    p = {"quantiles": [[0.1, 1.0], [0.5, 2.0], [0.9, 10.0]]}
    assert pacing.draw(p, 0.3) == pytest.approx(1.5)
    assert pacing.draw(p, 0.0) == 1.0 and pacing.draw(p, 0.99, cap_s=3) == 3.0
    assert pacing.draw(None, 0.5) == 0.0 and pacing.draw({"quantiles": []}, 0.5) == 0.0
