"""lib.kakao on small exports written inline: every format, every hard part, bad input, encodings, zip,
merging, render_chat round trips and the CLI."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from lib import config, kakao
from lib.kakao import ChatFormatError, read_chat, render_chat


def write(tmp_path, text: str, name="chat.txt", encoding="utf-8", newline="\n") -> str:
    p = tmp_path / name
    p.write_bytes(text.replace("\n", newline).encode(encoding))
    return str(p)


def rows(df):
    return [(t.strftime("%Y-%m-%d %H:%M:%S"), s, x, k) for t, s, x, k in df[kakao.COLUMNS].itertuples(index=False)]


# ---------------------------------------------------------------------------------------------
# One small export per format, written as the apps write them

PC_KO = """김철수 님과 카카오톡 대화
저장한 날짜 : 2023-01-06 10:00:00

--------------- 2023년 1월 5일 목요일 ---------------
[김철수] [오전 12:05] 자니?
[나] [오전 8:48] 사진
[나] [오후 12:30] 점심: 김치찌개 : 맛있음
[김철수] [오후 1:00] 첫 줄
둘째 줄

넷째 줄
영희님이 들어왔습니다.
[영희] [오후 11:59] 사진 보내줘
"""
PC_EN = """KakaoTalk Chats with Kim
Date Saved : 2015-08-03 00:47:14

--------------- Saturday, August 1, 2015 ---------------
[Kim] [12:37 AM] hello
[me] [2:37 PM] Photo
[Kim] [12:01 PM] noon
"""
MAC = """Date,User,Message
2020-01-02 08:27:53,"강강강","새해복, ""많이"" 받아"
2020-01-02 08:28:03,"승모","첫 줄
[강민성] [오후 2:39] 회"
2020-01-02 08:29:00,"박영우","박영우 invited 김민기 and."
2020-01-02 08:30:00,"승모","(사진)"
"""
ANDROID_KO = """\ufeff김한길 님과 카카오톡 대화\r
저장한 날짜 : 2020년 11월 3일 오전 11:29\r
\r
\r
2016년 2월 5일 오전 12:33\r
2016년 2월 5일 오전 12:33, 회원님 : 공부하기\n두 번째 줄\r
2016년 2월 5일 오후 12:10, 김한길님이 들어왔습니다.\r
2016년 2월 5일 오후 12:11, 김한길 : 샵검색 : #날씨\r
\r
2016년 2월 6일 오후 1:00\r
2016년 2월 6일 오후 1:00, 김한길 : <사진>\r
"""
ANDROID_EN_OLD = """KakaoTalk Chats with 은진수
Date Saved : 9:48AM, February 20, 2014


9:46AM, February 20, 2014
9:46AM, February 20, 2014, 은진수 : 안녕
12:47am, February 21, 2014, you : (emoticon)
"""
ANDROID_EN_NEW = """KakaoTalk Chats with 김한길
Date Saved : November 3, 2020, 1:08 PM


March 3, 2018, 12:52 AM
March 3, 2018, 12:52 AM, 최성현(Liel) joined this chatroom.
You may temporarily be banned from using the service if other members report you for sending inappropriate messages.
March 3, 2018, 8:54 PM, 도영 : 
March 3, 2018, 8:55 PM, you : Photo
"""
ANDROID_EN_DMY = """KakaoTalk Chats Team
Date Saved : 5 June 2019, 3:22 PM


14 October 2018, 7:29 PM
14 October 2018, 7:29 PM, M invited W and A.
14 October 2018, 7:31 PM, A : McDo ?"""
IOS_KO = """멘토님방 (4명)과 카카오톡 대화-1.txt
저장한 날짜 : 2015. 8. 3. 오전 12:15



2015년 7월 9일 목요일
2015. 7. 9. 오후 8:34: 박영우님이 김민기님과 수ㅈ님을 초대했습니다.
2015. 7. 9. 오후 8:35, 회원님 : 맞아용 ㅎㅎ
2015. 7. 9. 21:40, 유림뿌  : 24시간 표기
"""
IOS_EN = """KakaoTalk Chats with 멘토님방 (4 people)-1.txt
Date Saved : Aug 3, 2015, 12:20 AM



Thursday, July 9, 2015
Jul 9, 2015, 8:34 PM: 박영우 invited 김민기 and 수ㅈ.
Jul 9, 2015, 8:35\u202fPM, You : 맞아용
Jul 9, 2015 at 20:36, 박영우 : at 표기
"""

EXPECTED = {
    "pc_ko": (PC_KO, [
        ("2023-01-05 00:05:00", "김철수", "자니?", "text"),
        ("2023-01-05 08:48:00", "나", "사진", "photo"),
        ("2023-01-05 12:30:00", "나", "점심: 김치찌개 : 맛있음", "text"),
        ("2023-01-05 13:00:00", "김철수", "첫 줄\n둘째 줄\n\n넷째 줄", "text"),
        ("2023-01-05 13:00:00", None, "영희님이 들어왔습니다.", "system"),
        ("2023-01-05 23:59:00", "영희", "사진 보내줘", "text"),
    ]),
    "pc_en": (PC_EN, [
        ("2015-08-01 00:37:00", "Kim", "hello", "text"),
        ("2015-08-01 14:37:00", "me", "Photo", "photo"),
        ("2015-08-01 12:01:00", "Kim", "noon", "text"),
    ]),
    "mac_csv": (MAC, [
        ("2020-01-02 08:27:53", "강강강", '새해복, "많이" 받아', "text"),
        ("2020-01-02 08:28:03", "승모", "첫 줄\n[강민성] [오후 2:39] 회", "text"),
        ("2020-01-02 08:29:00", None, "박영우 invited 김민기 and.", "system"),
        ("2020-01-02 08:30:00", "승모", "(사진)", "photo"),
    ]),
    "android_ko": (ANDROID_KO, [
        ("2016-02-05 00:33:00", "회원님", "공부하기\n두 번째 줄", "text"),
        ("2016-02-05 12:10:00", None, "김한길님이 들어왔습니다.", "system"),
        ("2016-02-05 12:11:00", "김한길", "샵검색 : #날씨", "text"),
        ("2016-02-06 13:00:00", "김한길", "<사진>", "photo"),
    ]),
    "android_en_old": (ANDROID_EN_OLD, [
        ("2014-02-20 09:46:00", "은진수", "안녕", "text"),
        ("2014-02-21 00:47:00", "you", "(emoticon)", "emoticon"),
    ]),
    "android_en_new": (ANDROID_EN_NEW, [
        ("2018-03-03 00:52:00", None, "최성현(Liel) joined this chatroom.", "system"),
        ("2018-03-03 00:52:00", None, "You may temporarily be banned from using the service if other members "
                                      "report you for sending inappropriate messages.", "system"),
        ("2018-03-03 20:54:00", "도영", "", "text"),
        ("2018-03-03 20:55:00", "you", "Photo", "photo"),
    ]),
    "android_en_dmy": (ANDROID_EN_DMY, [
        ("2018-10-14 19:29:00", None, "M invited W and A.", "system"),
        ("2018-10-14 19:31:00", "A", "McDo ?", "text"),
    ]),
    "ios_ko": (IOS_KO, [
        ("2015-07-09 20:34:00", None, "박영우님이 김민기님과 수ㅈ님을 초대했습니다.", "system"),
        ("2015-07-09 20:35:00", "회원님", "맞아용 ㅎㅎ", "text"),
        ("2015-07-09 21:40:00", "유림뿌 ", "24시간 표기", "text"),
    ]),
    "ios_en": (IOS_EN, [
        ("2015-07-09 20:34:00", None, "박영우 invited 김민기 and 수ㅈ.", "system"),
        ("2015-07-09 20:35:00", "You", "맞아용", "text"),
        ("2015-07-09 20:36:00", "박영우", "at 표기", "text"),
    ]),
}


@pytest.mark.parametrize("fmt", list(EXPECTED))
def test_every_format_parses_exactly(tmp_path, fmt):
    text, expected = EXPECTED[fmt]
    df = read_chat(write(tmp_path, text, "chat.csv" if fmt == "mac_csv" else "chat.txt"))
    assert df.attrs["format"] == fmt
    assert list(df.columns) == kakao.COLUMNS
    assert str(df["time"].dtype) == "datetime64[ns]"
    assert rows(df) == expected
    assert df.attrs["warnings"] == []
    assert set(df["kind"]) <= set(kakao.KINDS)


def test_header_attrs(tmp_path):
    df = read_chat(write(tmp_path, PC_KO))
    assert df.attrs["title"] == "김철수"
    assert df.attrs["saved_at"] == pd.Timestamp("2023-01-06 10:00:00")
    assert df.attrs["source"].endswith("chat.txt")
    ios = read_chat(write(tmp_path, IOS_KO))
    assert ios.attrs["title"] == "멘토님방 (4명)"
    assert ios.attrs["saved_at"] == pd.Timestamp("2015-08-03 00:15")


def test_format_is_decided_by_content_not_name(tmp_path):
    assert read_chat(write(tmp_path, MAC, "kakaotalk_aqua.txt")).attrs["format"] == "mac_csv"
    assert read_chat(write(tmp_path, IOS_EN, "KakaoTalkChats.csv")).attrs["format"] == "ios_en"


# ---------------------------------------------------------------------------------------------
# Hard parts

def test_midnight_and_noon(tmp_path):
    text = PC_KO.split("[김철수] [오전 12:05]")[0] + "[a] [오전 12:00] x\n[a] [오후 12:00] y\n[a] [오후 11:59] z\n"
    df = read_chat(write(tmp_path, text))
    assert [t.strftime("%H:%M") for t in df["time"]] == ["00:00", "12:00", "23:59"]


def test_speaker_names_with_spaces_emoji_brackets_commas(tmp_path):
    names = ["Sophia Lee", "Kayla😘", "[유부 🍗] 배진호", "김, 이", "(알 수 없음)", "유림뿌 "]
    pc = "방 님과 카카오톡 대화\n저장한 날짜 : 2021-01-01 00:00:00\n\n--------------- 2020년 12월 31일 목요일 ---------------\n"
    pc += "".join(f"[{n}] [오후 3:0{i}] 안녕 : 반가워\n" for i, n in enumerate(names))
    an = "방 님과 카카오톡 대화\n저장한 날짜 : 2021년 1월 1일 오전 12:00\n\n\n2020년 12월 31일 오후 3:00\n"
    an += "".join(f"2020년 12월 31일 오후 3:0{i}, {n} : 안녕 : 반가워\n" for i, n in enumerate(names))
    for text in (pc, an):
        df = read_chat(write(tmp_path, text))
        assert list(df["speaker"]) == names
        assert set(df["text"]) == {"안녕 : 반가워"}


def test_continuation_that_looks_like_a_record_of_another_format_or_a_date(tmp_path):
    text = PC_KO.replace("둘째 줄", "1. 일시 : 2021.5.31.(월) 09:00~17:30\n2015. 7. 9. 오후 8:35, 회원님 : 가짜\n"
                                    "2023년 1월 5일 오후 3:17, 가짜 : 레코드\n[가짜] 오후 3:17 레코드")
    df = read_chat(write(tmp_path, text))
    assert len(df) == 6
    assert df["text"][3] == ("첫 줄\n1. 일시 : 2021.5.31.(월) 09:00~17:30\n2015. 7. 9. 오후 8:35, 회원님 : 가짜\n"
                             "2023년 1월 5일 오후 3:17, 가짜 : 레코드\n[가짜] 오후 3:17 레코드\n\n넷째 줄")


def test_android_date_like_line_inside_a_message_is_text(tmp_path):
    text = ANDROID_KO.replace("두 번째 줄", "2016년 2월 5일 오후 12:33\n세 번째")
    df = read_chat(write(tmp_path, text))
    assert df["text"][0] == "공부하기\n2016년 2월 5일 오후 12:33\n세 번째"


def test_mixed_line_endings_and_no_trailing_newline(tmp_path):
    lf = read_chat(write(tmp_path, PC_KO))
    crlf = read_chat(write(tmp_path, PC_KO, newline="\r\n"))
    mixed = PC_KO.replace("\n", "\r\n").replace("둘째 줄\r\n", "둘째 줄\n")
    cut = PC_KO.rstrip("\n")
    assert rows(lf) == rows(crlf) == rows(read_chat(write(tmp_path, mixed))) == rows(read_chat(write(tmp_path, cut)))


def test_placeholders_per_platform(tmp_path):
    cases = {"사진": "photo", "사진 3장": "photo", "(사진)": "photo", "<사진>": "photo", "Photo": "photo",
             "2 photos": "photo", "<Photo>": "photo", "photo": "photo", "<사진 읽지 않음>": "photo",
             "동영상": "video", "이모티콘": "emoticon", "(이모티콘) ": "emoticon", "Emoticon": "emoticon",
             "Sticker": "emoticon", "(emoticon)": "emoticon", "파일: 보고서.pdf": "file", "음성메시지": "audio",
             "보이스톡 00:12": "call", "페이스톡 해요": "call", "Voice Call 0:12": "call",
             "삭제된 메시지입니다.": "deleted", "채팅방 관리자가 메시지를 가렸습니다.": "deleted",
             "This message was deleted.": "deleted", "송금 24,000원": "other", "지도: 망원동 카페": "other",
             "연락처: 홍길동": "other", "투표: 점심 메뉴": "other", "일정: 생일": "other",
             "사진 보내줘": "text", "이모티콘 귀엽다": "text", "동영상 봤어?": "text", "(이모티콘)반갑습니다.": "text",
             "파일": "text", "보이스톡할래?": "text", "f1" * 32 + ".jpg": "photo", "a0" * 32 + ".mp4": "video",
             "라이브톡 시작": "call", "부재중 보이스톡": "call", "(emoticon_Muzi and Friends) ": "emoticon"}
    body = "".join(f"[a] [오후 3:00] {t}\n" for t in cases)
    df = read_chat(write(tmp_path, PC_KO.split("[김철수] [오전 12:05]")[0] + body))
    assert dict(zip(df["text"], df["kind"])) == cases


def test_photo_bundle_with_extra_unprefixed_lines(tmp_path):
    h1, h2 = "f1" * 32 + ".jpg", "67" * 32 + ".jpg"
    text = ANDROID_KO.replace("<사진>", f"{h1}\r\n{h2}")
    df = read_chat(write(tmp_path, text))
    assert df["text"].iloc[-1] == f"{h1}\n{h2}" and df["kind"].iloc[-1] == "photo"
    assert df.attrs["warnings"] == []


def test_policy_notice_glued_to_join_line_is_one_system_row(tmp_path):
    text = PC_KO.replace("영희님이 들어왔습니다.", "영희님이 들어왔습니다.운영정책을 위반한 메시지로 신고 접수 시 카카오톡 이용에 "
                                                  "제한이 있을 수 있습니다. ")
    df = read_chat(write(tmp_path, text))
    assert (df["kind"] == "system").sum() == 1 and df["speaker"].isna().sum() == 1


def test_unplaceable_lines_are_kept_and_warned(tmp_path):
    text = PC_KO.replace("[영희] [오후 11:59]", "--------------- 2023년 1월 6일 금요일 ---------------\n"
                                               "이상한 줄\n[영희] [오후 11:59]")
    df = read_chat(write(tmp_path, text))
    assert "이상한 줄" in df["text"][4]   # after the system row: kept as its continuation
    assert len(df.attrs["warnings"]) == 1 and "line 14" in df.attrs["warnings"][0]
    assert df["time"].iloc[-1] == pd.Timestamp("2023-01-06 23:59")


def test_second_export_appended_mid_file_is_merged(tmp_path):
    second = PC_KO.replace("[영희] [오후 11:59] 사진 보내줘\n", "[영희] [오후 11:59] 사진 보내줘\n[김철수] [오후 11:59] 새 메시지\n")
    df = read_chat(write(tmp_path, PC_KO + second))
    assert len(df) == 7 and df["text"].iloc[-1] == "새 메시지"
    assert df.attrs["title"] == "김철수"
    assert not any("김철수 님과 카카오톡 대화" in t for t in df["text"])


def test_header_only_export_is_an_empty_frame(tmp_path):
    for text in ("김철수 님과 카카오톡 대화\n저장한 날짜 : 2023-01-06 10:00:00\n\n",
                 "KakaoTalk Chats with Kim\nDate Saved : November 3, 2020, 1:08 PM\n\n\n", "Date,User,Message\n"):
        df = read_chat(write(tmp_path, text))
        assert list(df.columns) == kakao.COLUMNS and len(df) == 0


def test_truncated_mid_character_keeps_complete_records(tmp_path):
    data = PC_KO.encode("utf-8")
    cut = data[: data.index("사진 보내줘".encode()) + 4]  # inside the 3-byte '진'
    p = tmp_path / "cut.txt"
    p.write_bytes(cut)
    df = read_chat(p)
    assert rows(df)[:5] == EXPECTED["pc_ko"][1][:5]
    assert df["text"].iloc[-1] == "사" and any("mid-character" in w for w in df.attrs["warnings"])


def test_truncated_csv_and_cp949_keep_complete_records(tmp_path):
    p = tmp_path / "cut.csv"
    p.write_bytes(MAC.encode()[: MAC.encode().index(b"[\xea\xb0\x95")])  # inside the quoted 2-line message
    df = read_chat(p)
    assert rows(df)[:1] == EXPECTED["mac_csv"][1][:1]
    assert df["text"].iloc[-1] == "첫 줄" and len(df.attrs["warnings"]) == 1
    data = PC_KO.encode("cp949")
    p = tmp_path / "cut949.txt"
    p.write_bytes(data[: data.index("사진 보내줘".encode("cp949")) + 3])  # 사 + half of 진
    df = read_chat(p)
    assert rows(df)[:5] == EXPECTED["pc_ko"][1][:5] and df["text"].iloc[-1] == "사"


# ---------------------------------------------------------------------------------------------
# Clock words (issue 11 §5): old Android builds (DateUtils) write 정오/자정, noon/midnight instead of the
# clock at 12:00 and 0:00; ICU's flexible day periods write 새벽/아침/낮/저녁/밤 (in the morning, at night)
# in front of it. Such a line is a record of its own, never text of the message before it.

CLOCK_WORDS_KO = [("정오", "12:00"), ("자정", "00:00"), ("정오 12:05", "12:05"), ("자정 12:30", "00:30"),
                  ("새벽 2:10", "02:10"), ("새벽 5:59", "05:59"), ("아침 7:45", "07:45"), ("낮 1:20", "13:20"),
                  ("낮 11:50", "11:50"), ("낮 12:15", "12:15"), ("점심 12:40", "12:40"), ("저녁 7:05", "19:05"),
                  ("밤 9:00", "21:00"), ("밤 11:30", "23:30"), ("밤 12:10", "00:10"), ("밤 1:15", "01:15")]
CLOCK_WORDS_EN = [("noon", "12:00"), ("Noon", "12:00"), ("midnight", "00:00"), ("Midnight", "00:00"),
                  ("NOON", "12:00"), ("12:00 noon", "12:00"), ("12:00 midnight", "00:00"),
                  ("7:10 in the morning", "07:10"), ("3:45 in the afternoon", "15:45"),
                  ("7:05 in the evening", "19:05"), ("11:20 at night", "23:20"), ("1:05 at night", "01:05")]
RECORD_WITH_CLOCK = {  # how each format writes one record, given the clock text (date 2014-02-20)
    "pc_ko": lambda c, s, x: f"[{s}] [{c}] {x}",
    "pc_en": lambda c, s, x: f"[{s}] [{c}] {x}",
    "android_ko": lambda c, s, x: f"2014년 2월 20일 {c}, {s} : {x}",
    "android_en_old": lambda c, s, x: f"{c}, February 20, 2014, {s} : {x}",
    "android_en_new": lambda c, s, x: f"February 20, 2014, {c}, {s} : {x}",
    "android_en_dmy": lambda c, s, x: f"20 February 2014, {c}, {s} : {x}",
    "ios_ko": lambda c, s, x: f"2014. 2. 20. {c}, {s} : {x}",
    "ios_en": lambda c, s, x: f"Feb 20, 2014, {c}, {s} : {x}",
}


@pytest.mark.parametrize("fmt", list(RECORD_WITH_CLOCK))
def test_clock_words_start_a_record(tmp_path, fmt):
    first = pd.DataFrame({"time": [pd.Timestamp("2014-02-20 09:00")], "speaker": ["a"], "text": ["첫 줄\n둘째 줄"],
                          "kind": ["text"]})
    head = render_chat(first, fmt, title="a", saved_at=datetime(2014, 2, 21, 8, 0)).rstrip("\r\n")
    words = CLOCK_WORDS_KO if fmt.endswith("_ko") else CLOCK_WORDS_EN
    lines = [RECORD_WITH_CLOCK[fmt](c, "b", f"메시지 {i}") for i, (c, _) in enumerate(words)]
    df = read_chat(write(tmp_path, head + "\n" + "\n".join(lines) + "\n"))
    assert df.attrs["format"] == fmt and df.attrs["warnings"] == []
    assert rows(df) == [("2014-02-20 09:00:00", "a", "첫 줄\n둘째 줄", "text")] + [
        (f"2014-02-20 {hhmm}:00", "b", f"메시지 {i}", "text") for i, (_, hhmm) in enumerate(words)]


@pytest.mark.parametrize("fmt, saved, date_line, record", [
    ("android_ko", "2014년 2월 21일 정오", "2014년 2월 21일 자정", "2014년 2월 21일 자정, 김한길 : 잘 자"),
    ("android_en_old", "noon, February 21, 2014", "Midnight, February 21, 2014",
     "Midnight, February 21, 2014, 은진수 : good night"),
])
def test_midnight_date_line_and_saved_date_in_words(tmp_path, fmt, saved, date_line, record):
    """A day's first record at 0:00 repeats its stamp as the date line: 자정 / Midnight there too."""
    title = "김한길 님과 카카오톡 대화" if fmt == "android_ko" else "KakaoTalk Chats with 은진수"
    saved_label = "저장한 날짜" if fmt == "android_ko" else "Date Saved"
    prev = "2014년 2월 20일 오후 11:58, 회원님 : 늦었다" if fmt == "android_ko" else \
        "11:58PM, February 20, 2014, you : late"
    prev_date = prev[: prev.index(", 회원님")] if fmt == "android_ko" else prev[: prev.index(", you")]
    text = f"{title}\n{saved_label} : {saved}\n\n\n{prev_date}\n{prev}\n\n{date_line}\n{record}\n"
    df = read_chat(write(tmp_path, text))
    assert df.attrs["format"] == fmt and df.attrs["warnings"] == []
    assert df.attrs["saved_at"] == pd.Timestamp("2014-02-21 12:00")
    assert [t.strftime("%m-%d %H:%M") for t in df["time"]] == ["02-20 23:58", "02-21 00:00"]
    assert df["text"][0] in ("늦었다", "late")
    header_only = read_chat(write(tmp_path, f"{title}\n{saved_label} : {saved}\n\n\n", "h.txt"))
    assert header_only.attrs["format"] == fmt and header_only.attrs["saved_at"] == pd.Timestamp("2014-02-21 12:00")


# The app's operation-policy notice, in English as in Korean: a system row in every format, written with
# a timestamp (mobile), bare (PC, or mobile after a join line) or as a CSV row.
NOTICE_EN = ("You may temporarily be banned from using KakaoTalk if you are reported for sending messages "
             "that violate the Operation Policy.")
NOTICE_KO = "운영정책을 위반한 메시지로 신고 접수 시 카카오톡 이용에 제한이 있을 수 있습니다."


@pytest.fixture(scope="module")
def with_notice():
    t = pd.Timestamp("2018-03-03 20:50")
    data = [(t, "도영", "안녕하세요", "text"), (t, None, "최성현님이 들어왔습니다.", "system"),
            (t, None, NOTICE_EN, "system"), (t, None, NOTICE_KO, "system"),
            (t + pd.Timedelta(minutes=4), "최성현", "반가워요", "text")]
    df = pd.DataFrame(data, columns=kakao.COLUMNS).astype({"time": "datetime64[ns]"})
    df["speaker"] = pd.Series([d[1] for d in data], dtype=object)
    return df


@pytest.mark.parametrize("fmt", kakao.FORMATS)
def test_policy_notice_in_english_is_a_system_row(tmp_path, with_notice, fmt):
    text = render_chat(with_notice, fmt, title="방")
    back = read_chat(write(tmp_path, text, "x.csv" if fmt == "mac_csv" else "x.txt"))
    assert back.attrs["warnings"] == []
    assert rows(back) == rows(with_notice)
    if fmt != "mac_csv":  # the mobile apps also write it bare, on the line after a join line
        stamped = [line for line in text.splitlines() if line.endswith(NOTICE_EN)][0]
        bare = text.replace(stamped, NOTICE_EN)
        assert rows(read_chat(write(tmp_path, bare, "bare.txt"))) == rows(with_notice)


def test_policy_notice_in_english_glued_to_a_join_line(tmp_path):
    text = PC_EN.replace("[Kim] [12:01 PM] noon", f"Lee joined this chatroom.{NOTICE_EN}\n[Kim] [12:01 PM] noon")
    df = read_chat(write(tmp_path, text))
    assert (df["kind"] == "system").sum() == 1 and df["speaker"].isna().sum() == 1
    assert df.attrs["warnings"] == []


# Share placeholders: a message whose WHOLE text is the word the app writes for a shared map, event,
# poll, contact, money transfer or gift is kind "other"; a sentence with that word in it is text.
SHARE_WHOLE = ["지도", "일정", "투표", "연락처", "송금", "선물", "위치", "선물하기", "송금봉투", "카카오페이 송금",
               "(지도)", "<일정>", "송금 24,000원", "송금: 50,000원", "지도: 망원동 카페", "Map", "Location", "Event",
               "Calendar", "Poll", "Contact", "Gift", "Transfer", "Send money", "map", "poll", "Map: Seoul Station",
               "Poll: lunch?", "Gift: coffee coupon"]
SHARE_IN_A_SENTENCE = ["지도 보내줘", "일정 잡자", "투표했어?", "연락처 알려줘", "송금 좀 해줘", "송금했어", "선물 고마워",
                       "선물이야 ㅎㅎ", "위치 어디야", "지도앱 켜봐", "일정이 바뀌었어요", "Map looks wrong", "Poll results?",
                       "I sent you a gift", "Transfer done", "Event is at 5"]


@pytest.mark.parametrize("fmt", ["pc_ko", "android_en_new", "mac_csv", "ios_ko"])
def test_share_placeholders_whole_text_only(tmp_path, fmt):
    texts = SHARE_WHOLE + SHARE_IN_A_SENTENCE
    t0 = pd.Timestamp("2024-05-01 10:00")
    df = pd.DataFrame({"time": [t0 + pd.Timedelta(minutes=i) for i in range(len(texts))],
                       "speaker": ["a"] * len(texts), "text": texts, "kind": ["text"] * len(texts)})
    back = read_chat(write(tmp_path, render_chat(df, fmt), "x.csv" if fmt == "mac_csv" else "x.txt"))
    got = dict(zip(back["text"], back["kind"]))
    assert {t: got[t] for t in SHARE_WHOLE} == {t: "other" for t in SHARE_WHOLE}
    assert {t: got[t] for t in SHARE_IN_A_SENTENCE} == {t: "text" for t in SHARE_IN_A_SENTENCE}


# ---------------------------------------------------------------------------------------------
# Encodings and containers

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp949"])
def test_encodings_decided_by_decoding(tmp_path, encoding):
    df = read_chat(write(tmp_path, PC_KO, encoding=encoding))
    assert rows(df) == EXPECTED["pc_ko"][1]


def test_zip_is_read_through(tmp_path):
    z = tmp_path / "KakaoTalk_export.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("KakaoTalkChats.txt", ANDROID_KO.encode("utf-8"))
        f.writestr("__MACOSX/._KakaoTalkChats.txt", b"\x00\x05")
        f.writestr("photo.jpg", b"\xff\xd8\xff")
        f.writestr("readme.txt", "이 압축 파일은 대화 내보내기입니다.".encode())
    df = read_chat(z)
    assert rows(df) == EXPECTED["android_ko"][1]
    assert df.attrs["source"].endswith("!KakaoTalkChats.txt")
    assert len(df.attrs["warnings"]) == 1 and "readme.txt" in df.attrs["warnings"][0]
    empty = tmp_path / "photos.zip"
    with zipfile.ZipFile(empty, "w") as f:
        f.writestr("photo.jpg", b"\xff\xd8\xff")
    with pytest.raises(ChatFormatError, match="photos.zip.*no .txt/.csv"):
        read_chat(empty)


# ---------------------------------------------------------------------------------------------
# Bad input: always ChatFormatError naming the file, the expectation and the line

BAD = {
    "empty.txt": b"",
    "blank.txt": b"\n\n  \n",
    "binary.bin": bytes(range(256)) * 20,
    "page.html": b"<!DOCTYPE html>\n<html><head><title>KakaoTalk</title></head><body>[a] [\xec\x98\xa4\xed\x9b\x84 3:00] x</body>",
    "essay.txt": "카카오톡은 2010년에 출시되었다.\n많은 사람들이 사용한다.\n[a] [오후 3:00] 인용\n".encode(),
    "whatsapp.txt": b"12/31/20, 9:41 PM - Alice: Happy new year\n12/31/20, 9:42 PM - Bob: you too\n",
    "whatsapp_ios.txt": b"[31/12/2020, 21:41:00] Alice: Happy new year\n",
    "header_then_junk.txt": "김철수 님과 카카오톡 대화\n저장한 날짜 : 2023-01-06 10:00:00\n\n이건 대화가 아님\n".encode(),
    "csv_wrong.csv": b"Date,User,Message\nyesterday,\"a\",\"b\"\n",
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_raises_chat_format_error(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(BAD[name])
    with pytest.raises(ChatFormatError) as e:
        read_chat(p)
    msg = str(e.value)
    assert name in msg and "line" in msg and ("expected" in msg)
    assert isinstance(e.value, ValueError)


def test_bad_input_names_the_first_offending_line(tmp_path):
    p = tmp_path / "header_then_junk.txt"
    p.write_bytes(BAD["header_then_junk.txt"])
    with pytest.raises(ChatFormatError, match="line 4"):
        read_chat(p)
    p = tmp_path / "essay.txt"
    p.write_bytes(b"\n\n" + BAD["essay.txt"])
    with pytest.raises(ChatFormatError, match="line 3"):
        read_chat(p)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_chat(tmp_path / "nope.txt")


# ---------------------------------------------------------------------------------------------
# Merging several exports

def test_merge_overlapping_exports(tmp_path):
    a = render_chat(_frame(0, 6), "pc_ko", title="x")
    b = render_chat(_frame(3, 10), "android_ko", title="x")
    df = read_chat([write(tmp_path, a, "a.txt"), write(tmp_path, b, "b.txt")])
    full = _frame(0, 10)
    assert rows(df) == rows(full)
    assert df["time"].is_monotonic_increasing
    assert df.attrs["format"] == "android_ko+pc_ko" and len(df.attrs["source"]) == 2


def test_merge_keeps_repeated_identical_messages(tmp_path):
    # the same text at the same minute twice in one export is two messages, not an overlap
    f = _frame(0, 3)
    f.loc[1, ["time", "text"]] = f.loc[0, ["time", "text"]].values
    a = write(tmp_path, render_chat(f, "pc_ko"), "a.txt")
    b = write(tmp_path, render_chat(f.iloc[:2], "pc_ko"), "b.txt")
    df = read_chat([b, a])
    assert len(df) == 3 and rows(df) == rows(f)


def _frame(start: int, stop: int) -> pd.DataFrame:
    t0 = pd.Timestamp("2024-02-28 22:00")
    return pd.DataFrame({
        "time": [t0 + pd.Timedelta(minutes=97 * i) for i in range(start, stop)],
        "speaker": ["이도윤" if i % 2 else "최서연" for i in range(start, stop)],
        "text": [f"메시지 {i}" if i % 4 else f"줄 {i}\n다음 줄" for i in range(start, stop)],
        "kind": ["text"] * (stop - start),
    }).astype({"time": "datetime64[ns]", "speaker": object})


# ---------------------------------------------------------------------------------------------
# render_chat is the inverse of read_chat

@pytest.fixture(scope="module")
def tricky():
    t = pd.Timestamp("2024-12-31 23:30")
    data = [
        (t, "이도윤", "ㅋㅋ 진짜?", "text"), (t, "최서연", "사진 3장", "photo"),
        (t + pd.Timedelta(minutes=31), "최서연", "새해 복 많이 받아요\n\n올해도 잘 부탁해요 : )", "text"),
        (t + pd.Timedelta(minutes=31), None, "김민준님이 나갔습니다.", "system"),
        (t + pd.Timedelta(hours=12, minutes=40), "Kayla😘 [유부]", "\"따옴표\", 쉼표", "text"),
        (t + pd.Timedelta(hours=13), "이도윤", "이모티콘", "emoticon"),
        (t + pd.Timedelta(hours=13), "이도윤", "", "text"),
        (t + pd.Timedelta(days=40, hours=1), "최서연", "삭제된 메시지입니다.", "deleted"),
    ]
    df = pd.DataFrame(data, columns=kakao.COLUMNS).astype({"time": "datetime64[ns]"})
    df["speaker"] = pd.Series([d[1] for d in data], dtype=object)  # None stays None (not NaN)
    return df


@pytest.mark.parametrize("fmt", kakao.FORMATS)
def test_render_round_trip(tmp_path, tricky, fmt):
    saved = datetime(2025, 2, 10, 9, 5, 7)
    text = render_chat(tricky, fmt, title="최서연", saved_at=saved)
    back = read_chat(write(tmp_path, text, "x.csv" if fmt == "mac_csv" else "x.txt"))
    assert back.attrs["format"] == fmt
    assert back.attrs["warnings"] == []
    assert rows(back) == rows(tricky)
    if fmt != "mac_csv":
        assert back.attrs["title"] == "최서연"
        assert back.attrs["saved_at"] == pd.Timestamp(saved).floor("s" if fmt.startswith("pc") else "min")


def test_render_rejects_unknown_format(tricky):
    with pytest.raises(ValueError, match="unknown format"):
        render_chat(tricky, "telegram")


# ---------------------------------------------------------------------------------------------
# speakers, exporter, CLI

def test_speakers_and_exporter(tmp_path):
    df = read_chat(write(tmp_path, IOS_KO))
    s = kakao.speakers(df)
    assert isinstance(s, pd.Series) and list(s.index) == ["회원님", "유림뿌 "] and list(s) == [1, 1]
    assert kakao.exporter(df) == "회원님"
    assert kakao.exporter(read_chat(write(tmp_path, PC_KO))) is None
    counts = kakao.speakers(read_chat(write(tmp_path, PC_KO)))
    assert counts.is_monotonic_decreasing and list(counts) == [2, 2, 1]


def test_cli(tmp_path):
    p = write(tmp_path, PC_KO)
    out = subprocess.run([sys.executable, "-m", "lib.kakao", p], capture_output=True, text=True, cwd=config.ROOT)
    assert out.returncode == 0, out.stderr
    assert "pc_ko" in out.stdout and "2023-01-05 00:05:00" in out.stdout and "김철수" in out.stdout
    assert "photo" in out.stdout and "warnings: 0" in out.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n")
    out = subprocess.run([sys.executable, "-m", "lib.kakao", str(bad)], capture_output=True, text=True,
                         cwd=config.ROOT)
    assert out.returncode == 2 and "bad.txt" in out.stderr and "line 1" in out.stderr


def test_large_export_is_vectorised(tmp_path):
    """A few MB in well under the time a per-line Python loop would need (a loose guard, not the benchmark)."""
    base = _frame(0, 400)
    big = pd.concat([base.assign(time=base["time"] + pd.Timedelta(days=30 * i)) for i in range(100)],
                    ignore_index=True)
    p = write(tmp_path, render_chat(big, "android_ko"))
    import time
    t = time.perf_counter()
    df = read_chat(p)
    assert len(df) == len(big) and time.perf_counter() - t < 5
    assert np.array_equal(df["time"].to_numpy(), big["time"].to_numpy())


def test_benchmark_synthetic_export_tiles_the_sample(tmp_path):
    """benchmarks/parse_speed.write_synthetic (also used by the dataset benchmark) writes copies of the
    sample chat with shifted dates that read back exactly."""
    sys.path.insert(0, str(config.ROOT / "benchmarks"))
    from parse_speed import write_synthetic

    from lib import sample

    base = sample.generate(0)
    one = len(render_chat(base, "android_ko").encode())
    p = write_synthetic(tmp_path / "syn.txt", size_mb=2.4 * one / 1e6, fmt="android_ko", seed=0)
    df = read_chat(p)
    assert df.attrs["format"] == "android_ko" and df.attrs["warnings"] == []
    assert len(df) == 2 * len(base) and df["time"].is_monotonic_increasing
    assert list(df["text"][len(base):]) == list(base["text"])
    assert (df["time"][len(base):].reset_index(drop=True) - base["time"]).nunique() == 1
