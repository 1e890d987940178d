"""KakaoTalk exports -> one tidy DataFrame (time, speaker, text, kind), for every export format.

Owns reading (encodings, zip, format detection, vectorised parsing, merging) and the inverse `render_chat`.

    python -m lib.kakao data/raw/KakaoTalkChats.txt     # format, date range, counts, warnings

How it stays fast on a ~93 MB export: the text is decoded once, CRs dropped, and ONE compiled regex per
format splits every line in a single `findall` pass (record groups, or the whole line). Columns are then
numpy/pandas operations; dates and times are parsed once per distinct string; only the few lines that
are not records (date lines, headers, system sentences, continuation text) see a Python loop.
"""
from __future__ import annotations

import argparse
import codecs
import gc
import io
import itertools
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

COLUMNS = ["time", "speaker", "text", "kind"]
KINDS = ["text", "photo", "video", "emoticon", "file", "audio", "call", "deleted", "system", "other"]
FORMATS = ["pc_ko", "pc_en", "mac_csv", "android_ko", "android_en_old", "android_en_new", "android_en_dmy",
           "ios_ko", "ios_en"]
EXPORTER_NAMES = ("회원님", "You", "you")  # how mobile exports name the person who exported


class ChatFormatError(ValueError):
    """The input is not a KakaoTalk export we can read; the message names file, expectation and line."""


# ---------------------------------------------------------------------------------------------
# Placeholders: what the apps write instead of a photo, sticker, call ... (per platform and version).
# A line is a placeholder only if it is exactly one of these; "사진 보내줘" stays text.
_IMG = r"(?:jpe?g|png|gif|webp|heic|bmp)"
_VID = r"(?:mp4|mov|avi|m4v|3gp)"
# what the apps write for a shared map, event, poll, contact, money transfer or gift (Korean and English UI)
_SHARE = (r"(?:지도|위치|일정|투표|연락처|선물(?:하기)?|(?:카카오페이 )?송금(?:봉투)?|[Mm]ap|[Ll]ocation|[Ee]vent|[Cc]alendar"
          r"|[Pp]oll|[Cc]ontact|[Gg]ift|[Tt]ransfer|[Ss]end [Mm]oney)")
_PLACEHOLDERS = {
    "photo": [r"사진", r"사진 \d+장", r"\(사진\)", r"<사진>", r"<사진 읽지 않음>", r"[Pp]hotos?", r"\([Pp]hoto\)",
              r"<[Pp]hoto>", r"\d+ [Pp]hotos", r"<\d+ [Pp]hotos>", r"[0-9a-f]{64}\." + _IMG],
    "video": [r"동영상", r"\(동영상\)", r"<동영상>", r"<동영상 읽지 않음>", r"[Vv]ideo", r"\([Vv]ideo\)", r"<[Vv]ideo>",
              r"[0-9a-f]{64}\." + _VID],
    "emoticon": [r"이모티콘 ?", r"\(이모티콘\) ?", r"<이모티콘>", r"[Ee]moticons? ?", r"\([Ee]moticon\) ?",
                 r"\(이모티콘_[^()]*\) ?", r"\(emoticon_[^()]*\) ?", r"[Ss]ticker", r"\([Ss]ticker\)", r"스티커"],
    "file": [r"파일: .+", r"File: .+", r"[0-9a-f]{64}\.\w{1,5}"],
    "audio": [r"음성메시지", r"음성 메시지", r"Voice [Mm]essage", r"\(음성메시지\)", r"<음성메시지>"],
    "call": [r"(?:부재중 )?(?:보이스톡|페이스톡|그룹콜|라이브톡)(?: .{1,20})?", r"(?:Missed )?(?:Voice|Video|Face ?Talk|Group) [Cc]all.{0,20}",
             r"Voice Talk.{0,20}", r"Face Talk.{0,20}"],
    "deleted": [r"삭제된 메시지입니다\.", r"채팅방 관리자가 메시지를 가렸습니다\.", r"This message was deleted\.",
                r"This message has been deleted\."],
    # shares: the bare word (or the word in brackets), "word: details", a transfer with its amount
    "other": [_SHARE, rf"\({_SHARE}\)", rf"<{_SHARE}>", rf"{_SHARE}: .+", r"(?:카카오페이 )?송금(?:봉투)?:? [\d,]+ ?원",
              r"라이브톡.+", r"\d[\d,]* ?원을 보냈어요\.?"],
}
_PH_RX = "|".join(p for ps in _PLACEHOLDERS.values() for p in ps)
_KIND_RX = [(k, re.compile("(?:" + "|".join(ps) + ")")) for k, ps in _PLACEHOLDERS.items()]
_BUNDLE_LINE = re.compile(r"[0-9a-f]{64}\.\w{1,5}|사진|[Pp]hoto|<사진 읽지 않음>|<[Pp]hoto>")


def _kind_of(text: str) -> str:
    for kind, rx in _KIND_RX:
        if rx.fullmatch(text):
            return kind
    if "\n" in text and all(_BUNDLE_LINE.fullmatch(x) for x in text.split("\n") if x):
        # several photos sent together: one record, one file name (or placeholder) per line
        exts = {x.rsplit(".", 1)[-1].lower() for x in text.split("\n") if "." in x}
        return "video" if exts and exts <= {"mp4", "mov", "avi", "m4v", "3gp"} else "photo"
    return "text"


# System lines. Mobile formats mark them by a timestamp without "name : "; PC exports write them bare,
# so there a bare line is a system row only if it is exactly one of these sentences.
_NOTICE_RX = (r"You may (?:be )?temporarily (?:be )?(?:banned|restricted|suspended) from using[^\n]*"
              r"|운영정책을 위반한 메시지로 신고 접수 시[^\n]*|Messages that violate the operational policy[^\n]*")
_SYS_KO = (r"[^\n]+님이 (?:들어왔습니다|나갔습니다|[^\n]+(?:을|를) 초대했습니다|[^\n]+(?:을|를) 내보냈습니다)\.(?:운영정책[^\n]*)?"
           r"|[^\n]+님을 내보냈습니다\.|채팅방 관리자가 [^\n]+|[^\n]+님이 방장[^\n]+|방장이 [^\n]+|[^\n]+님이 부방장[^\n]+")
_SYS_EN = (r"[^\n]+ (?:joined this chatroom|left this chatroom|has left this chatroom|left the chatroom)\.(?:You may[^\n]*)?"
           r"|[^\n]+ invited [^\n]+\.|[^\n]+ removed [^\n]+ from this chatroom\.|[^\n]+ has been removed[^\n]*")

# ---------------------------------------------------------------------------------------------
# Date and time strings, parsed once per distinct value.
_MONTHS = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"])}
_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"]
_WEEKDAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_WEEKDAYS_KO = ["월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일"]
_D_KO = re.compile(r"(\d{4})년 (\d{1,2})월 (\d{1,2})일")
_D_DOT = re.compile(r"(\d{4})\. ?(\d{1,2})\. ?(\d{1,2})\.?")
_D_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_D_MDY = re.compile(r"(?:[A-Za-z]+, )?([A-Za-z]{3,9})\.? (\d{1,2}), (\d{4})")
_D_DMY = re.compile(r"(\d{1,2}) ([A-Za-z]{3,9}) (\d{4})")

# Clock words. Old Android builds (DateUtils) write the whole time as 정오 / 자정 (noon / midnight) at 12:00
# and 0:00; ICU's flexible day periods put 새벽 아침 낮 저녁 밤 (in the morning, at night ...) where 오전/오후
# (AM/PM) would stand. Each maps a 12-hour clock to 24 hours (None: that hour cannot carry the word).
_CLOCK_WORDS = {
    **dict.fromkeys(("오전", "새벽", "아침", "a", "in the morning"), lambda h: h % 12),
    **dict.fromkeys(("오후", "저녁", "p", "in the afternoon", "in the evening"), lambda h: h % 12 + 12),
    **dict.fromkeys(("낮", "점심"), lambda h: h if 7 <= h <= 11 else h % 12 + 12),  # 낮 11:50 am, 낮 1:20 pm
    **dict.fromkeys(("밤", "at night"), lambda h: h % 12 if h <= 5 or h == 12 else h + 12),  # 밤 1:15 = 01:15
    **dict.fromkeys(("정오", "noon"), lambda h: 12 if h == 12 else None),
    **dict.fromkeys(("자정", "midnight"), lambda h: 0 if h == 12 else None),
}
_KO_PART = r"(?:오전|오후|새벽|아침|낮|점심|저녁|밤|정오|자정)"   # before the clock
_EN_PART = r"(?i:in the (?:morning|afternoon|evening)|at night|noon|midnight)"  # after it
_WORD = r"(?:정오|자정|(?i:noon|midnight))"                      # the whole time
_T_RX = re.compile(rf"(?:(?P<ko>{_KO_PART}) )?(?P<h>\d{{1,2}}):(?P<m>\d\d)(?::(?P<s>\d\d))?"
                   rf"(?:[ \u202f\u00a0]?(?P<ap>[AaPp])\.?[Mm]\.?| (?P<en>{_EN_PART}))?|(?P<word>{_WORD})")


def _parse_date(s: str) -> int | None:
    """Days since 1970-01-01 for any date spelling the exports use, or None."""
    ymd = None
    if m := _D_KO.match(s) or _D_DOT.match(s) or _D_ISO.match(s) or _D_KO.search(s):
        ymd = int(m[1]), int(m[2]), int(m[3])
    elif m := _D_MDY.search(s):
        mo = _MONTHS.get(m[1][:3].lower())
        ymd = (int(m[3]), mo, int(m[2])) if mo else None
    elif m := _D_DMY.search(s):
        mo = _MONTHS.get(m[2][:3].lower())
        ymd = (int(m[3]), mo, int(m[1])) if mo else None
    if ymd is None:
        return None
    try:
        return (datetime(*ymd) - datetime(1970, 1, 1)).days
    except ValueError:
        return None


def _parse_time(s: str) -> int | None:
    """Seconds after midnight; 오전 12:xx / 12:xx AM is 00:xx, 오후 12:xx / 12:xx PM is 12:xx; 정오 / noon
    is 12:00, 자정 / midnight 0:00; 새벽 아침 낮 저녁 밤 (in the morning ... at night) as _CLOCK_WORDS says."""
    m = _T_RX.fullmatch(s.strip())
    if not m:
        return None
    if m["word"]:
        return _CLOCK_WORDS[m["word"].lower()](12) * 3600
    h, mi, sec = int(m["h"]), int(m["m"]), int(m["s"] or 0)
    word = m["ko"] or (m["ap"] or m["en"] or "").lower()
    if word:
        if not 1 <= h <= 12 or (h := _CLOCK_WORDS[word](h)) is None:
            return None
    if h > 23 or mi > 59 or sec > 59:
        return None
    return h * 3600 + mi * 60 + sec


def _parse_stamp(s: str) -> pd.Timestamp | None:
    """A free-standing date+time (the header's saved date); None if it is not one."""
    s = s.strip()
    d = _parse_date(s)
    if d is None:
        return None
    # the time is whatever follows (or precedes, in old Android English) the date
    for m in _T_RX.finditer(s):
        t = _parse_time(m[0])
        if t is not None and not s[m.start():m.end()].isdigit():
            return pd.Timestamp("1970-01-01") + pd.Timedelta(days=d, seconds=t)
    return pd.Timestamp("1970-01-01") + pd.Timedelta(days=d)


# ---------------------------------------------------------------------------------------------
# Line grammars. Per format: the FULL record line (only a line matching it starts a record), the date
# line, and whether system sentences come bare (PC) or behind a timestamp (mobile). Group names are
# shared (time, date, spk, text, ph, sys), so one engine reads all of them.

@dataclass
class Grammar:
    name: str
    record: str                    # the FULL record line: defines time; may define date, spk, text, ph, sys
    dateline: str                  # a date line; defines dl (a string _parse_date reads)
    bare_system: bool = False      # PC: system sentences have no timestamp
    dateline_needs_blank: bool = True  # mobile date lines follow an empty line or the header; else text
    sample: str = ""               # what a record looks like (for error messages)
    rx: re.Pattern = field(init=False, repr=False)
    other_rx: re.Pattern = field(init=False, repr=False)

    def __post_init__(self):
        # one findall over the whole text gives a tuple per line: record groups, or the date line, or
        # the whole line in "other". The record alternative comes first: a full record prefix wins.
        self.rx = re.compile(f"^(?:{self.record}|(?P<other>[^\\n]*))$", re.M)
        # the few "other" lines: date line, header, app notice, bare system sentence, else continuation
        alts = [f"(?P<dline>{self.dateline})", r"(?P<saved>(?:저장한 날짜|Date Saved) ?: [^\n]*\d[^\n]*)",
                f"(?P<notice>{_NOTICE_RX})"]
        if self.bare_system:
            alts.append(f"(?P<bsys>{_SYS_KO}|{_SYS_EN})")
        self.other_rx = re.compile("(?:" + "|".join(alts) + ")")


# the lookahead on the first character keeps the placeholder alternation off most lines
_PH_FIRST = r"[사(<PpVv동이Ee스Ss파F음보페부그라Mm삭채Tt송카선지Ll연Cc일투Gg위\da-f]"
_TEXT = rf"(?P<text>(?:(?={_PH_FIRST})(?P<ph>{_PH_RX})$)?[^\n]*)"
_SPK_TEXT = rf"(?P<spk>[^\n]*?) :(?: {_TEXT}|$)"          # first " : " splits name from message
_KO_TIME = rf"(?:{_KO_PART} \d{{1,2}}:\d\d|정오|자정)"
_MONTH_FULL = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_MONTH_ABBR = r"(?:Jan|Feb|Mar|Apr|May|June?|July?|Aug|Sept?|Oct|Nov|Dec)\.?"
_EN_TIME = rf"(?:\d{{1,2}}:\d\d(?:[ \u202f\u00a0][AP]M| {_EN_PART})|{_WORD})"
_EN_OLD_TIME = rf"(?:\d{{1,2}}:\d\d(?:[AaPp][Mm]| {_EN_PART})|{_WORD})"  # 9:46AM / 8:34pm
_MOBILE_TAIL = rf", (?:{_SPK_TEXT}|(?P<sys>[^\n]*))"

GRAMMARS = {
    "pc_ko": Grammar("pc_ko", rf"\[(?P<spk>[^\n]*?)\] \[(?P<time>{_KO_TIME})\] ?{_TEXT}",
                     r"-{15} (?P<dl>\d{4}년 \d{1,2}월 \d{1,2}일 \S+|[A-Z][a-z]+, [A-Z][a-z]+ \d{1,2}, \d{4}) -{15}",
                     bare_system=True, dateline_needs_blank=False, sample="[이름] [오후 3:17] 메시지"),
    "pc_en": Grammar("pc_en", rf"\[(?P<spk>[^\n]*?)\] \[(?P<time>{_EN_TIME})\] ?{_TEXT}",
                     r"-{15} (?P<dl>[A-Z][a-z]+, [A-Z][a-z]+ \d{1,2}, \d{4}|\d{4}년 \d{1,2}월 \d{1,2}일 \S+) -{15}",
                     bare_system=True, dateline_needs_blank=False, sample="[name] [2:37 PM] message"),
    "android_ko": Grammar("android_ko", rf"(?P<date>\d{{4}}년 \d{{1,2}}월 \d{{1,2}}일) (?P<time>{_KO_TIME}){_MOBILE_TAIL}",
                          rf"(?P<dl>\d{{4}}년 \d{{1,2}}월 \d{{1,2}}일) {_KO_TIME}",
                          sample="2026년 2월 8일 오후 3:17, 이름 : 메시지"),
    "android_en_old": Grammar("android_en_old", rf"(?P<time>{_EN_OLD_TIME}), (?P<date>{_MONTH_FULL} \d{{1,2}}, "
                              rf"\d{{4}}){_MOBILE_TAIL}", rf"{_EN_OLD_TIME}, (?P<dl>{_MONTH_FULL} \d{{1,2}}, \d{{4}})",
                              dateline_needs_blank=True, sample="9:46AM, February 20, 2014, name : message"),
    "android_en_new": Grammar("android_en_new", rf"(?P<date>{_MONTH_FULL} \d{{1,2}}, \d{{4}}), (?P<time>{_EN_TIME}){_MOBILE_TAIL}",
                              rf"(?P<dl>{_MONTH_FULL} \d{{1,2}}, \d{{4}}), {_EN_TIME}",
                              sample="September 21, 2022, 5:12 PM, name : message"),
    "android_en_dmy": Grammar("android_en_dmy", rf"(?P<date>\d{{1,2}} {_MONTH_FULL} \d{{4}}), (?P<time>{_EN_TIME}){_MOBILE_TAIL}",
                              rf"(?P<dl>\d{{1,2}} {_MONTH_FULL} \d{{4}}), {_EN_TIME}",
                              sample="14 October 2018, 7:29 PM, name : message"),
    "ios_ko": Grammar("ios_ko", rf"(?P<date>\d{{4}}\. \d{{1,2}}\. \d{{1,2}}\.) (?P<time>{_KO_TIME}|\d{{1,2}}:\d\d)"
                      rf"(?:, {_SPK_TEXT}|: (?P<sys>[^\n]*))",
                      r"(?P<dl>\d{4}년 \d{1,2}월 \d{1,2}일 \S요일)", sample="2015. 7. 9. 오후 8:35, 이름 : 메시지"),
    "ios_en": Grammar("ios_en", rf"(?P<date>{_MONTH_ABBR} \d{{1,2}}, \d{{4}})(?:,| at) "
                      rf"(?P<time>{_EN_TIME}|\d{{1,2}}:\d\d)(?:, {_SPK_TEXT}|: (?P<sys>[^\n]*))",
                      rf"(?P<dl>[A-Z][a-z]+day, {_MONTH_FULL} \d{{1,2}}, \d{{4}})", sample="Jul 9, 2015, 8:35 PM, name : message"),
}
_CSV_HEADER = re.compile(r"^\ufeff?Date,User,Message\s*$")
_TITLE_RX = re.compile(r"^(?:KakaoTalk Chats with (?P<a>.*?)|(?P<b>.*?) with KakaoTalk Chats|(?P<c>.*?) ?님과 카카오톡 대화"
                       r"|(?P<d>.*?)(?:과|와) 카카오톡 대화|(?P<e>.*?) 카카오톡 대화|KakaoTalk Chats (?P<f>.*?))(?:-\d+)?(?:\.txt)?$")


def _title_of(line: str) -> str:
    m = _TITLE_RX.match(line.strip())
    if not m:
        return line.strip()
    return next(g for g in m.groups() if g is not None).strip()


# ---------------------------------------------------------------------------------------------
# Bytes -> text

def _decode(data: bytes, name: str, warnings: list[str]) -> str:
    """UTF-8 (±BOM), UTF-16 (BOM) or CP949, decided by decoding; a cut-off last character is dropped."""
    if not data or data.isspace():  # (not data.strip(): that copies the whole file)
        raise ChatFormatError(f"{name}: empty file; expected a KakaoTalk export (line 1)")
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        enc = "utf-16"
        if len(data) % 2:
            data = data[:-1]
            warnings.append(f"{name}: file ends mid-character (cut off?); the partial character was dropped")
        candidates = ["utf-16"]
    else:
        if data[:3] == codecs.BOM_UTF8:
            data = data[3:]
            candidates = ["utf-8"]
        elif data[:4096].count(b"\x00") > min(len(data), 4096) // 4:
            # UTF-16 without a BOM: every other byte of ASCII text is NUL
            candidates = ["utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"]
        else:
            candidates = ["utf-8", "cp949"]
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as e:
            if e.start >= len(data) - 3 and e.reason in ("unexpected end of data", "incomplete multibyte sequence",
                                                         "truncated data"):
                text = data[:e.start].decode(enc)
                warnings.append(f"{name}: file ends mid-character (cut off?); the partial character was dropped")
            else:
                continue
        if "\x00" in text:
            break
        return text.lstrip("\ufeff")
    line = data[: max(0, data.find(b"\x00"))].count(b"\n") + 1 if b"\x00" in data else 1
    raise ChatFormatError(f"{name}: not a text file (binary data, or an encoding other than UTF-8/UTF-16/CP949); "
                          f"expected a KakaoTalk export (.txt or .csv); first undecodable data near line {line}")


def _read_bytes(path: Path) -> list[tuple[str, bytes]]:
    """[(name, bytes)] of the export(s) in `path`; a zip is read through to the text export(s) inside."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise ChatFormatError(f"{path}: is a folder; expected a KakaoTalk export file (.txt, .csv or .zip) (line 1)")
    data = path.read_bytes()
    if data[:4] != b"PK\x03\x04":
        return [(str(path), data)]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [i for i in z.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX")
                       and i.filename.lower().endswith((".txt", ".csv"))]
            if not members:
                names = [i.filename for i in z.infolist()][:5]
                raise ChatFormatError(f"{path}: zip holds no .txt/.csv export (found {names}); expected the "
                                      "KakaoTalk export text file inside (line 1)")
            return [(f"{path}!{i.filename}", z.read(i)) for i in members]
    except zipfile.BadZipFile as e:
        raise ChatFormatError(f"{path}: broken zip archive ({e}); expected a KakaoTalk export (line 1)") from None


# ---------------------------------------------------------------------------------------------
# Format detection: the first lines decide, by counting full-record-prefix matches per grammar.

def _detect(text: str, name: str) -> str:
    head = text[:200_000].split("\n", 400)[:400]
    if head and _CSV_HEADER.match(head[0]):
        return "mac_csv"
    best, best_n = None, 0
    for fmt, g in GRAMMARS.items():
        # score = records + date lines in the format's own spelling (breaks ties such as "May 3, 2018")
        rec = re.compile("^(?:" + g.record + ")$")
        dl = re.compile("^(?:" + g.dateline + ")$")
        n = 0
        for line in head:
            if rec.match(line):
                n += 2
            elif dl.match(line):
                n += 1
        if n > best_n:
            best, best_n = fmt, n
    if best:
        return best
    # no record: a header-only export still counts (its saved-date line says which app wrote it)
    for i, line in enumerate(head[:6]):
        m = re.match(r"(?:저장한 날짜|Date Saved) ?: (.*)$", line)
        if m:
            return _format_of_saved(m[1], head[i - 1] if i else "")
    first = next(((i, l) for i, l in enumerate(head) if l.strip()), (0, ""))
    raise ChatFormatError(
        f"{name}: not a KakaoTalk export: expected a header ('X 님과 카카오톡 대화' / 'KakaoTalk Chats with X' + "
        f"saved date) or record lines such as '{GRAMMARS['pc_ko'].sample}', '{GRAMMARS['android_ko'].sample}', "
        f"'{GRAMMARS['ios_en'].sample}' or a 'Date,User,Message' CSV; line {first[0] + 1} matches none: "
        f"{first[1][:80]!r}")


def _format_of_saved(saved: str, title: str) -> str:
    s = saved.strip()
    english = "KakaoTalk Chats" in title
    if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", s):
        return "pc_en" if english and "with KakaoTalk Chats" not in title else "pc_ko"
    if re.match(r"\d{4}년", s):
        return "android_ko"
    if re.match(r"\d{4}\. ", s):
        return "ios_ko"
    if re.match(rf"{_EN_OLD_TIME}, ", s):
        return "android_en_old"
    if re.match(r"\d{1,2} [A-Z][a-z]+ \d{4}", s):
        return "android_en_dmy"
    if re.match(r"[A-Z][a-z]{2}\.? \d{1,2}, \d{4}", s) and not re.match(r"(?:May|June|July) ", s):
        return "ios_en"
    return "android_en_new"


# ---------------------------------------------------------------------------------------------
# The engine for the line-based formats.

def _parse_lines(text: str, fmt: str, name: str, warnings: list[str]) -> tuple[pd.DataFrame, dict]:
    g = GRAMMARS[fmt]
    gi = g.rx.groupindex
    gc_was = gc.isenabled()
    gc.disable()  # millions of small tuples: the cyclic GC would rescan them over and over
    try:
        found = g.rx.findall(text)
        n_lines = len(found)
        # flat fromiter is ~2x faster than np.array(list of tuples), which probes every tuple's shape
        table = np.fromiter(itertools.chain.from_iterable(found), dtype=object,
                            count=n_lines * g.rx.groups).reshape(n_lines, g.rx.groups)
        del found
    finally:
        if gc_was:
            gc.enable()

    def at(group: str, idx) -> np.ndarray:
        return table[idx, gi[group] - 1]

    is_rec = table[:, gi["time"] - 1] != ""
    other_all = table[:, gi["other"] - 1]
    is_blank = ~is_rec & (other_all == "")
    is_other = ~is_rec & ~is_blank                     # non-blank and not a record: few lines
    rec_idx = np.flatnonzero(is_rec)
    n_rec = len(rec_idx)
    cum_rec = np.cumsum(is_rec)                         # records up to and including each line
    cum_blank = np.concatenate([[0], np.cumsum(is_blank)])
    other_idx = np.flatnonzero(is_other)
    other_lines = other_all[other_idx].tolist()

    # classify the few other lines: date line, header, notice, bare system sentence, continuation
    kind_of, day_of = {}, {}
    prev_blank = is_blank[np.maximum(other_idx - 1, 0)].tolist()
    fullmatch = g.other_rx.fullmatch
    for ln, line, pb in zip(other_idx.tolist(), other_lines, prev_blank):
        m = fullmatch(line)
        k = m.lastgroup if m else "cont"
        if k == "dline":
            # mobile apps write an empty line (or the header) before a date line; one inside a message is text
            if g.dateline_needs_blank and ln and not pb and kind_of.get(ln - 1) != "saved":
                k = "cont"
            else:
                day_of[ln] = _parse_date(m["dl"])
        kind_of[ln] = k
    for ln in [ln for ln, k in kind_of.items() if k == "saved"]:
        if kind_of.get(ln - 1) == "cont":      # the title line (also of an export appended mid-file)
            kind_of[ln - 1] = "title"
    date_idx = np.array(list(day_of), dtype=np.int64)
    date_days = np.array([np.nan if d is None else d for d in day_of.values()], dtype="float64")

    # records: speaker/text/kind/clock vectorised; mobile system records have no "name : "
    speaker = at("spk", rec_idx)
    rtext = at("text", rec_idx)
    is_sys = at("sys", rec_idx) != "" if "sys" in gi else np.zeros(n_rec, bool)
    if is_sys.any():
        rtext = np.where(is_sys, at("sys", rec_idx), rtext)
        speaker = np.where(is_sys, None, speaker)
    kinds = _kinds_from_placeholders(at("ph", rec_idx), rtext)
    kinds[is_sys] = "system"
    sec = _cached_parse(at("time", rec_idx), _parse_time)
    if "date" in gi:
        day = _cached_parse(at("date", rec_idx), _parse_date)
    else:  # PC: the day comes from the last date line above the record
        day = np.full(n_rec, np.nan)
        if len(date_idx):
            j = np.searchsorted(date_idx, rec_idx) - 1
            day = np.where(j >= 0, date_days[np.maximum(j, 0)], np.nan)
    ts = day * 86400.0 + sec
    table = None  # the per-line tuple table is no longer needed: free it before building rows

    header = {"title": None, "saved_at": None}
    struct = np.zeros(n_lines + 1, np.int64)  # date lines and headers seen so far (prefix sums)
    struct_lines = date_idx.tolist() + [ln for ln, k in kind_of.items() if k in ("saved", "title")]
    if struct_lines:
        np.add.at(struct, np.array(struct_lines) + 1, 1)
    struct = np.cumsum(struct)

    extra = []        # bare system rows: (records before, line number, text, clock)
    conts = {}        # row key ("rec", i) / ("extra", j) -> [(line number, text)]
    seg_starts = []   # (records before, extra rows before) for each appended export
    n_saved = 0
    last_row = None   # (key, line number, is system)
    rec_lines = rec_idx
    rest = [(ln, line, kind_of[ln], rb) for ln, line, rb in
            zip(other_idx.tolist(), other_lines, cum_rec[other_idx].tolist()) if kind_of[ln] != "dline"]
    for ln, line, k, rb in rest:  # rb: records before this line
        if rb and (last_row is None or last_row[0][0] == "rec" and last_row[0][1] < rb - 1
                   or last_row[0][0] == "extra" and extra[last_row[0][1]][0] < rb):
            last_row = (("rec", rb - 1), int(rec_lines[rb - 1]), bool(is_sys[rb - 1]))
        if k in ("notice", "bsys"):
            after_date = last_row is None or struct[ln] != struct[last_row[1]]
            if after_date:
                j = np.searchsorted(date_idx, ln) - 1
                clock = date_days[j] * 86400.0 if j >= 0 else np.nan
            else:
                key = last_row[0]
                clock = ts[key[1]] if key[0] == "rec" else extra[key[1]][3]
            extra.append((rb, ln, line, clock))
            last_row = (("extra", len(extra) - 1), ln, True)
        elif k == "saved":
            n_saved += 1
            if n_saved == 1:
                header["saved_at"] = _parse_stamp(line.split(":", 1)[1])
            elif rb:
                seg_starts.append((rb, len(extra)))
        elif k == "title":
            if header["title"] is None:
                header["title"] = _title_of(line)
        else:  # continuation text of the row before it
            if last_row is None:
                if not (n_rec or extra) or not any(kind_of.get(x) in ("saved", "title") for x in range(ln)):
                    raise ChatFormatError(
                        f"{name}: not a KakaoTalk {fmt} export: expected record lines like '{g.sample}' "
                        f"after the header; line {ln + 1} is neither header, date line nor record: {line[:80]!r}")
                warnings.append(f"{name}: line {ln + 1} before the first message could not be placed; kept as "
                                f"text of the first message: {line[:60]!r}")
                conts.setdefault(("lead", 0), []).append((ln, line))
                continue
            key, row_ln, row_sys = last_row
            prev_ln = conts[key][-1][0] if key in conts else row_ln
            if struct[ln] != struct[row_ln] or row_sys:
                what = "date line" if struct[ln] != struct[row_ln] else "system line"
                warnings.append(f"{name}: line {ln + 1} could not be placed (after a {what}); kept as "
                                f"continuation text: {line[:60]!r}")
            # blank lines between the previous line of this row and this one are part of the message
            blanks = int(cum_blank[ln] - cum_blank[prev_ln + 1])
            conts.setdefault(key, []).extend([(ln, "")] * blanks + [(ln, line)])
    if n_rec == 0 and not extra and not n_saved:
        raise ChatFormatError(f"{name}: not a KakaoTalk {fmt} export: expected record lines like '{g.sample}'; "
                              "found none (line 1)")

    # continuation lines joined onto their rows; multi-line rows re-classified (photo bundles)
    rtext = rtext.astype(object)
    extra_text = [e[2] for e in extra]
    lead = conts.pop(("lead", 0), None)
    for (where, i), lines in conts.items():
        joined = "\n".join(x for _, x in lines)
        if where == "rec":
            rtext[i] = rtext[i] + "\n" + joined
            if kinds[i] != "system":
                kinds[i] = _kind_of(rtext[i])
        else:
            extra_text[i] = extra_text[i] + "\n" + joined
    if lead and n_rec:
        rtext[0] = "\n".join(x for _, x in lead) + "\n" + rtext[0]
        kinds[0] = "system" if kinds[0] == "system" else _kind_of(rtext[0])

    speaker = speaker.astype(object)
    if extra:  # bare system rows slot in before record `rb`: file order is kept
        pos = np.array([e[0] for e in extra])
        speaker = np.insert(speaker, pos, None)
        rtext = np.insert(rtext, pos, np.array(extra_text, dtype=object))
        kinds = np.insert(kinds.astype(object), pos, "system")
        ts = np.insert(ts, pos, np.array([e[3] for e in extra], dtype="float64"))
    n_rows = len(rtext)

    bad_t = np.isnan(ts)
    if bad_t.any():
        for r in np.flatnonzero(bad_t)[:20]:
            warnings.append(f"{name}: row {r + 1} ({str(rtext[r])[:40]!r}): date/time could not be read; "
                            "time left empty")
        if bad_t.sum() > 20:
            warnings.append(f"{name}: ... {int(bad_t.sum()) - 20} more rows without a readable date/time")
    times = (np.where(bad_t, 0, ts).astype("int64") * 1_000_000_000).view("datetime64[ns]")
    times[bad_t] = np.datetime64("NaT")
    df = _frame(times, speaker, rtext, kinds)
    seg = None
    if seg_starts:
        seg = np.zeros(n_rows, int)
        for rb, n_ex in seg_starts:
            seg[rb + n_ex:] += 1
    return df, {**header, "segments": seg}


def _cached_parse(values: np.ndarray, parse: Callable[[str], int | None]) -> np.ndarray:
    """Parse an object array of strings once per distinct value; float array, NaN where unparsable."""
    codes, uniques = pd.factorize(values)
    parsed = np.array([np.nan if (v := parse(u)) is None else v for u in uniques] + [np.nan], dtype="float64")
    return parsed[codes]  # code -1 (missing) picks the trailing NaN

def _frame(time: np.ndarray, speaker: np.ndarray, text: np.ndarray, kind: np.ndarray) -> pd.DataFrame:
    """The result frame. Object columns: the values already are Python str (None for system speakers),
    and a conversion to pandas' arrow-backed str dtype would copy every string once more. Columns are
    assigned one by one so pandas does not stack them into one block (another full copy)."""
    df = pd.DataFrame({"time": time})
    for name, values in (("speaker", speaker), ("text", text), ("kind", kind)):
        df[name] = pd.Series(values, dtype=object, copy=False)
    return df


def _kinds_from_placeholders(ph: np.ndarray, text: np.ndarray) -> np.ndarray:
    kinds = np.empty(len(ph), dtype=object)
    kinds[:] = "text"
    has = ph != ""
    if has.any():
        codes, uniques = pd.factorize(ph[has])
        kinds[has] = np.array([_kind_of(u) for u in uniques], dtype=object)[codes]
    return kinds


# ---------------------------------------------------------------------------------------------
# Mac CSV

_CSV_ROW = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,"', re.M)
_CSV_SYS = re.compile(rf"(?:{_SYS_EN}|{_SYS_KO}|{_NOTICE_RX})")


def _parse_csv(text: str, name: str, warnings: list[str]) -> tuple[pd.DataFrame, dict]:
    lines = text.split("\n", 1)
    body = lines[1] if len(lines) > 1 else ""
    cut_row = None
    if body.count('"') % 2:
        # cut off inside a quoted message: keep the complete rows, and the cut row as far as it goes
        starts = [m.start() for m in _CSV_ROW.finditer(body)]
        if starts:
            tail = body[starts[-1]:]
            m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),"((?:[^"]|"")*)","((?:[^"]|"")*)$', tail, re.S)
            if m:
                body = body[:starts[-1]]
                cut_row = (m[1], m[2].replace('""', '"'), m[3].replace('""', '"').rstrip("\n"))
                warnings.append(f"{name}: file ends inside the last message (cut off?); kept what is there")
    try:
        raw = pd.read_csv(io.StringIO(body), header=None, names=["Date", "User", "Message"], dtype=str,
                          keep_default_na=False, engine="c", on_bad_lines="error", skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raw = pd.DataFrame({c: pd.Series([], dtype=str) for c in ["Date", "User", "Message"]})
    except (pd.errors.ParserError, ValueError) as e:
        row = re.search(r"(?:line|row) (\d+)", str(e))
        raise ChatFormatError(f"{name}: broken Mac CSV export: expected rows 'YYYY-MM-DD HH:MM:SS,\"name\",\"text\"'; "
                              f"near line {int(row[1]) + 1 if row else 2}: {e}") from None
    if cut_row:
        raw = pd.concat([raw, pd.DataFrame([cut_row], columns=raw.columns, dtype=str)], ignore_index=True)
    import pyarrow as pa
    import pyarrow.compute as pc

    # file line of each row: header + rows before + line breaks inside earlier quoted messages
    breaks = raw["Message"].str.count("\n").to_numpy(dtype="int64") + raw["User"].str.count("\n").to_numpy(dtype="int64")
    line_of = 2 + np.arange(len(raw)) + np.concatenate([[0], np.cumsum(breaks)[:-1]]) if len(raw) else breaks
    parsed = pd.to_datetime(raw["Date"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        dates = raw["Date"].to_numpy(dtype=object)
        i = int(np.flatnonzero(bad)[0])
        if bad.all() or i == 0:
            raise ChatFormatError(f"{name}: not a Mac CSV export: expected rows 'YYYY-MM-DD HH:MM:SS,\"name\",\"text\"'; "
                                  f"line {line_of[i]} has date {dates[i][:40]!r}")
        for i in np.flatnonzero(bad)[:20]:
            warnings.append(f"{name}: line {line_of[i]}: date {dates[i][:40]!r} could not be read; time left empty")
    user = raw["User"].to_numpy(dtype=object)
    msg = raw["Message"].to_numpy(dtype=object)
    # RE2 (pyarrow) prefilters over the whole column; Python regexes only on the few hits
    marr = pa.array(raw["Message"], type=pa.large_string())

    def hits(pattern: str) -> np.ndarray:
        return np.flatnonzero(pc.fill_null(pc.match_substring_regex(marr, pattern), False).to_numpy(zero_copy_only=False))

    # invite/join/leave rows: the app writes the actor as User and the event as Message
    sys_rows = np.zeros(len(msg), bool)
    for i in hits(r" invited | joined| left|님이 |님을 |채팅방 관리자|removed|^You may|^운영정책|^Messages that"):
        m = msg[i]
        if (m.startswith(user[i]) or not user[i]) and _CSV_SYS.fullmatch(m):
            sys_rows[i] = True
    kinds = np.full(len(msg), "text", dtype=object)
    for i in hits(f"^(?:{_PH_RX})$|\n"):
        kinds[i] = _kind_of(msg[i])
    kinds[sys_rows] = "system"
    df = _frame(parsed.astype("datetime64[ns]").to_numpy(), np.where(sys_rows, None, user), msg, kinds)
    return df, {"title": None, "saved_at": None, "segments": None}


# ---------------------------------------------------------------------------------------------
# Public API

def read_chat(path: str | Path | Iterable[str | Path]) -> pd.DataFrame:
    """Parse one export (or several, merged: overlaps de-duplicated, stable-sorted by time).

    Returns DataFrame[time, speaker, text, kind]; attrs: title, saved_at, format, warnings, source.
    Raises ChatFormatError (a ValueError) naming the file, what was expected and the offending line.
    """
    if isinstance(path, (list, tuple)):
        if not path:
            raise ValueError("read_chat: empty list of paths")
        frames = [read_chat(p) for p in path]
        return _merge(frames)
    path = Path(path)
    parts = _read_bytes(path)
    if len(parts) == 1:
        return _read_one(*parts[0])
    # a zip with several text files: read the ones that are exports, say which were skipped
    frames, errors = [], []
    for name, data in parts:
        try:
            frames.append(_read_one(name, data))
        except ChatFormatError as e:
            errors.append(str(e))
    if not frames:
        raise ChatFormatError(errors[0])
    df = frames[0] if len(frames) == 1 else _merge(frames)
    df.attrs["warnings"] = list(df.attrs["warnings"]) + [f"skipped (not an export): {e}" for e in errors]
    return df


def _read_one(name: str, data: bytes) -> pd.DataFrame:
    warnings: list[str] = []
    text = _decode(data, name, warnings)
    if "\r" in text:
        text = text.replace("\r", "")
    fmt = _detect(text, name)
    if fmt == "mac_csv":
        df, hdr = _parse_csv(text, name, warnings)
    else:
        df, hdr = _parse_lines(text, fmt, name, warnings)
    seg = hdr.pop("segments")
    if seg is not None and len(np.unique(seg)) > 1:
        # a second export appended to the first: read each part as its own export and merge them
        pieces = [df[seg == s].reset_index(drop=True) for s in np.unique(seg)]
        n = len(df)
        df = _dedupe(pieces)
        warnings.append(f"{name}: {len(pieces)} exports appended in one file; merged ({n - len(df)} overlapping "
                        "records dropped)")
    df.attrs.update(title=hdr["title"], saved_at=hdr["saved_at"], format=fmt, warnings=warnings, source=name)
    return df


def _dedupe(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, keep each (time, speaker, text, kind) as often as the export that has it most often."""
    keyed = []
    for i, f in enumerate(frames):
        f = f.reset_index(drop=True).copy()
        f["_occ"] = f.groupby(COLUMNS, dropna=False, sort=False).cumcount()
        f["_src"] = i
        keyed.append(f)
    allf = pd.concat(keyed, ignore_index=True)
    allf = allf.drop_duplicates(subset=COLUMNS + ["_occ"], keep="first")
    allf = allf.sort_values("time", kind="stable")
    out = allf[COLUMNS].reset_index(drop=True)
    out["speaker"] = out["speaker"].astype(object)
    return out


def _merge(frames: list[pd.DataFrame]) -> pd.DataFrame:
    out = _dedupe(frames)
    fmts = sorted({f.attrs.get("format") for f in frames})
    out.attrs.update(title=frames[0].attrs.get("title"),
                     saved_at=max((f.attrs.get("saved_at") for f in frames if isinstance(f.attrs.get("saved_at"),
                                                                                          pd.Timestamp)),
                                  default=None),
                     format=fmts[0] if len(fmts) == 1 else "+".join(fmts),
                     warnings=[w for f in frames for w in f.attrs.get("warnings", [])],
                     source=[f.attrs.get("source") for f in frames])
    return out


def speakers(df: pd.DataFrame) -> pd.Series:
    """Message counts per speaker (system rows excluded), most active first."""
    s = df["speaker"].dropna().value_counts()
    s.index.name = "speaker"
    s.name = "messages"
    return s


def exporter(df: pd.DataFrame) -> str | None:
    """The person who exported the chat, where the app names them (iOS 회원님/You, Android 회원님/you)."""
    names = set(df["speaker"].dropna().unique())
    return next((n for n in EXPORTER_NAMES if n in names), None)


# ---------------------------------------------------------------------------------------------
# Rendering: the inverse of read_chat (used by lib.sample, the benchmark and round-trip tests).

def _ko_clock(t: pd.Timestamp) -> str:
    return f"{'오전' if t.hour < 12 else '오후'} {(t.hour % 12) or 12}:{t.minute:02d}"


def _en_clock(t: pd.Timestamp, sep: str = " ") -> str:
    return f"{(t.hour % 12) or 12}:{t.minute:02d}{sep}{'AM' if t.hour < 12 else 'PM'}"


def _ko_date(t) -> str:
    return f"{t.year}년 {t.month}월 {t.day}일"


def _en_mdy(t, short=False) -> str:
    m = _MONTH_NAMES[t.month - 1]
    return f"{m[:3] if short else m} {t.day}, {t.year}"


_RENDER_RECORD = {
    "android_ko": lambda t: f"{_ko_date(t)} {_ko_clock(t)}",
    "android_en_old": lambda t: f"{_en_clock(t, '')}, {_en_mdy(t)}",
    "android_en_new": lambda t: f"{_en_mdy(t)}, {_en_clock(t)}",
    "android_en_dmy": lambda t: f"{t.day} {_MONTH_NAMES[t.month - 1]} {t.year}, {_en_clock(t)}",
    "ios_ko": lambda t: f"{t.year}. {t.month}. {t.day}. {_ko_clock(t)}",
    "ios_en": lambda t: f"{_en_mdy(t, short=True)}, {_en_clock(t)}",
}


def render_chat(df: pd.DataFrame, fmt: str, title: str = "대화", saved_at: datetime | None = None) -> str:
    """Write `df` as the export `fmt` would look; `read_chat` of the result gives `df` back.

    Times are written at the format's resolution (minutes; seconds for mac_csv). PC exports write system
    lines without a clock, so they read back with the previous message's time.
    """
    if fmt not in FORMATS:
        raise ValueError(f"render_chat: unknown format {fmt!r}; expected one of {FORMATS}")
    saved = pd.Timestamp(saved_at if saved_at is not None else
                         (df["time"].max() if len(df) else pd.Timestamp("2000-01-01")))
    times = pd.DatetimeIndex(df["time"])
    spk = df["speaker"].to_numpy(dtype=object)
    txt = df["text"].to_numpy(dtype=object)
    out: list[str] = []
    if fmt == "mac_csv":
        out.append("Date,User,Message")
        stamps = times.strftime("%Y-%m-%d %H:%M:%S")
        for st, s, x in zip(stamps, spk, txt):
            user = s if s is not None and s == s else _actor(x)
            out.append(f'{st},"{_q(user)}","{_q(x)}"')
        return "\n".join(out) + "\n"
    pc = fmt in ("pc_ko", "pc_en")
    stamp = _RENDER_RECORD.get(fmt)
    if pc:
        clock = _ko_clock if fmt == "pc_ko" else _en_clock
        saved_text = f"{saved:%Y-%m-%d %H:%M:%S}"
    else:
        saved_text = f"{_ko_date(saved)} {_ko_clock(saved)}" if fmt == "android_ko" else stamp(saved)
    if fmt in ("pc_ko", "android_ko", "ios_ko"):
        out += [f"{title} 님과 카카오톡 대화", f"저장한 날짜 : {saved_text}"]
    else:
        out += [f"{title} with KakaoTalk Chats" if pc else f"KakaoTalk Chats with {title}", f"Date Saved : {saved_text}"]
    out += [""] if pc else ["", ""]
    day_line = {
        "pc_ko": lambda d, t: f"--------------- {_ko_date(d)} {_WEEKDAYS_KO[d.weekday()]} ---------------",
        "pc_en": lambda d, t: f"--------------- {_WEEKDAYS_EN[d.weekday()]}, {_en_mdy(d)} ---------------",
        "ios_ko": lambda d, t: f"{_ko_date(d)} {_WEEKDAYS_KO[d.weekday()]}",
        "ios_en": lambda d, t: f"{_WEEKDAYS_EN[d.weekday()]}, {_en_mdy(d)}",
    }.get(fmt, lambda d, t: stamp(t))  # Android repeats the first record's stamp as its date line
    system_sep = ": " if fmt.startswith("ios") else ", "
    prev_day = None
    for t, d, s, x in zip(times, times.normalize(), spk, txt):
        if d != prev_day:
            if prev_day is not None:
                out.append("")
            out.append(day_line(d, t))
            prev_day = d
        if s is None or s != s:  # system row (None or NaN)
            out.append(x if pc else f"{stamp(t)}{system_sep}{x}")
        else:
            out.append(f"[{s}] [{clock(t)}] {x}" if pc else f"{stamp(t)}, {s} : {x}")
    nl = "\r\n"
    return nl.join(out) if pc else nl.join(out) + nl


def _q(s: str) -> str:
    return str(s).replace('"', '""')


def _actor(text: str) -> str:
    m = re.match(r"(.+?)(?:님이 | invited | joined| left)", str(text))
    return m[1] if m else ""


# ---------------------------------------------------------------------------------------------
# CLI

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.kakao", description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", help="export file(s) (.txt, .csv or .zip); several are merged")
    args = ap.parse_args(argv)
    try:
        df = read_chat(args.files if len(args.files) > 1 else args.files[0])
    except (ChatFormatError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    a = df.attrs
    print(f"format:   {a['format']}")
    print(f"title:    {a['title']}")
    print(f"saved at: {a['saved_at']}")
    if len(df):
        print(f"range:    {df['time'].min()} .. {df['time'].max()}")
    print(f"records:  {len(df)}  (exporter: {exporter(df)})")
    print("\nmessages per speaker:")
    print(speakers(df).to_string() if len(df) else "  (none)")
    print("\nrecords per kind:")
    print(df["kind"].value_counts().to_string() if len(df) else "  (none)")
    w = a["warnings"]
    print(f"\nwarnings: {len(w)}")
    for line in w[:50]:
        print(f"  {line}")
    if len(w) > 50:
        print(f"  ... and {len(w) - 50} more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
