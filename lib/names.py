"""Who is who on her page: which pseudonym stands for each of the two participants (recorded at build
time, pseudonyms only) and the swap between those pseudonyms and the real names, particles included.

The model is trained on masked text, so it calls her by her pseudonym. The page shows her real name
instead and hands the model her messages with the pseudonyms back in:

    display, to_model = names.for_page(meta["participants"], her_name="김민지", my_name="이주형")
    display("다온아 뭐해")   # -> "민지야 뭐해"      to_model("주형님 바빠요?")  # -> "도겸님 바빠요?"

Pseudonyms keep the real name's final consonant (lib.privacy), so a plain swap keeps particles right;
a nickname ending differently (민지 -> 밍지 is the same, 지훈 -> 훈 is not) gets its particle adjusted.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable

ROLES = ("her", "me")
# Two-syllable surnames (a 4-syllable name with one of these is surname + given); else a 3-syllable
# Hangul name is one syllable of surname + a two-syllable given name, as lib.privacy splits them.
SURNAMES_2 = {"남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방", "어금", "망절", "장곡"}

# Particles whose form depends on whether the name ends in a final consonant: (after one, after none).
# The hypocoristic 이 (지훈이가, 지훈이랑) belongs to the consonant side. Longest first when matching.
_PAIRS = [
    ("이에요", "예요"), ("이었", "였"), ("이라고", "라고"), ("이라서", "라서"), ("이라면", "라면"), ("이니까", "니까"),
    ("이한테", "한테"), ("이랑", "랑"), ("이가", "가"), ("이는", "는"), ("이를", "를"), ("이도", "도"), ("이네", "네"),
    ("이의", "의"), ("이만", "만"), ("이나", "나"), ("이면", "면"), ("이지", "지"), ("이야", "야"), ("이여", "여"),
    ("으로", "로"), ("은", "는"), ("을", "를"), ("과", "와"), ("아", "야"), ("이", "가"),
]
# consonant-side form -> vowel-side form, and back (the vowel side maps to the plain particle: 민지도 -> 지훈도)
_TO_VOWEL = sorted(_PAIRS, key=lambda p: -len(p[0]))
_BACK = {"예요": "이에요", "였": "이었", "라고": "이라고", "라서": "이라서", "라면": "이라면", "니까": "이니까",
         "랑": "이랑", "가": "이", "는": "은", "를": "을", "네": "이네", "나": "이나", "면": "이면", "야": "아",
         "여": "이여", "로": "으로", "와": "과"}
_TO_CONSONANT = sorted(_BACK.items(), key=lambda p: -len(p[0]))
_LEFT = r"(?:(?<![가-힣A-Za-z])|(?<=우리)|(?<=울)|(?<=내))"   # as lib.privacy: 우리민지 is her too


def final_consonant(word: str) -> str | None:
    """None when the last syllable has no final consonant, "ㄹ" for ㄹ (로 not 으로), else "+"."""
    code = ord(word[-1]) - 0xAC00 if word else -1
    if not 0 <= code < 11172 or code % 28 == 0:
        return None
    return "ㄹ" if code % 28 == 8 else "+"


def split_name(name: str) -> tuple[str, str]:
    """(surname, given) of a Korean name: 김민지 -> (김, 민지), 남궁민수 -> (남궁, 민수), 민지 -> ("", 민지)."""
    name = re.sub(r"\s+", "", str(name or ""))
    if re.fullmatch(r"[가-힣]{4}", name) and name[:2] in SURNAMES_2:
        return name[:2], name[2:]
    if re.fullmatch(r"[가-힣]{3,4}", name):
        return name[:1], name[1:]
    return "", name


def _clean(name: str) -> str:
    # what lib.privacy.Anonymizer keeps of a known name (민지💕 -> 민지)
    return re.sub(r"[^\w가-힣 ]", "", str(name)).strip()


def participants(pseudonym: Callable[[str], str], *, me: str, her: str, masked: Iterable[str]) -> dict:
    """What the card records: for "her" and "me", the pseudonym of the full name and of the given name
    (None where that form is not masked). `pseudonym` = Anonymizer.pseudonym, `masked` = Anonymizer.known
    (names it masks everywhere). Never the real names."""
    masked = set(masked)
    out = {}
    for role, name in (("her", her), ("me", me)):
        name = _clean(name)
        entry = {"name": None, "given": None}
        if name in masked:
            compact = name.replace(" ", "")
            sur, given = split_name(compact) if len(compact) >= 3 else ("", compact)
            entry["name"] = pseudonym(name) if sur else None
            entry["given"] = pseudonym(given) if re.fullmatch(r"[가-힣]{2,3}", given) else None
            if not sur and entry["given"] is None:    # a Latin or unusual name: the one form the text has
                entry["name"] = pseudonym(name)
        out[role] = entry
    return out


def _adjust(tail: str, source: str, target: str) -> str:
    """The particle at the start of `tail`, rewritten for `target`'s final consonant."""
    src, dst = final_consonant(source), final_consonant(target)
    if (src is None) == (dst is None):
        if src and dst == "ㄹ" and tail.startswith("으로"):
            return tail[1:]                            # 하늘로, not 하늘으로
        if src == "ㄹ" and dst == "+" and tail.startswith("로") and not tail.startswith("로서"):
            return "으" + tail
        return tail
    table = _TO_VOWEL if dst is None else _TO_CONSONANT
    for old, new in table:
        if tail.startswith(old):
            if dst == "ㄹ" and new == "으로":
                new = "로"
            return new + tail[len(old):]
    return tail


class NameMap:
    """Replaces whole names (longest first) and fixes the particle glued to each one."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self.pairs = {a: b for a, b in pairs if a and b and a != b}
        if not self.pairs:
            self._re = None
            return
        alts = "|".join(re.escape(a) for a in sorted(self.pairs, key=len, reverse=True))
        self._re = re.compile(rf"{_LEFT}(?P<name>{alts})(?P<tail>[가-힣]*)(?![A-Za-z])")

    def __call__(self, text: str) -> str:
        if self._re is None or not text:
            return text

        def swap(m):
            old = m.group("name")
            new = self.pairs[old]
            return new + _adjust(m.group("tail"), old, new)

        return self._re.sub(swap, text)

    def __bool__(self) -> bool:
        return self._re is not None


def for_page(recorded: dict | None, *, her_name: str | None = None, my_name: str | None = None,
             her_nickname: str | None = None, my_nickname: str | None = None) -> tuple[NameMap, NameMap]:
    """(display, to_model) for the page. `recorded` = the card's / malbeot.json's "participants".

    On display her full pseudonym becomes `her_name`, her given pseudonym her nickname (if set) or the
    given part of `her_name`; the same for me. On input every real form (full, given, nickname) becomes
    the pseudonym the model was trained with. A participant without a recorded pseudonym or a real
    name set is left alone."""
    display, to_model = [], []
    for role, real, nick in (("her", her_name, her_nickname), ("me", my_name, my_nickname)):
        fake = (recorded or {}).get(role) or {}
        real = _clean(real or "")
        if not real:
            continue
        _, real_given = split_name(real)
        shown = _clean(nick or "") or real_given
        fake_full, fake_given = fake.get("name"), fake.get("given")
        if fake_full:
            display.append((fake_full, real if real != real_given else shown))
            to_model.append((real, fake_full))
        if fake_given:
            display.append((fake_given, shown))
            to_model += [(real_given, fake_given), (shown, fake_given)]
            if real == real_given:                      # her_name given as the given name alone
                to_model.append((real, fake_given))
    return NameMap(display), NameMap(to_model)
