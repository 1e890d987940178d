"""What a reply may not be or show, and how a turn splits into bubbles. Small fine-tuned models fail in a few
known ways: they parrot her message, repeat one of their own last turns, loop, or say nothing; lib.chat checks
every bubble with these before she sees it, and lib.evaluate counts how often the raw model does it.
A model can also reproduce a number it memorised or make up a real-looking one: `mask_reply` puts a
<전화번호>-style token over anything shaped like a phone, card, account, registration or passport number
or an e-mail (lib.leakscan's shapes), before a reply is shown or evaluated.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from lib import leakscan
from lib.template import TAGS, URL_TAG

MIN_ECHO_CHARS = 5               # "잘자" -> "잘자" is an answer, not an echo
MIN_REPEAT_CHARS = 4             # "ㅋㅋ", "응응" may come back every turn
ECHO_RATIO = 0.85
REPEAT_RATIO = 0.9
MAX_CHAR_RUN = 40                # ㅋ x 20 is a person laughing, x 40 is a model stuck
# what a generated reply may never show; names are not here: the model only ever saw pseudonyms
REPLY_MASKED = ("전화번호", "주민번호", "외국인번호", "카드번호", "계좌", "여권번호", "운전면허", "이메일")


# ---------------------------------------------------------------------------------------- bubbles

def split_bubbles(text: str) -> list[str]:
    """One bubble per line: lib.dataset joins a turn's bubbles with "\\n". Blank lines are dropped."""
    return [line.strip() for line in str(text).replace("\r\n", "\n").split("\n") if line.strip()]


def join_bubbles(bubbles: Iterable[str]) -> str:
    """The inverse of `split_bubbles`, i.e. how a turn is stored in history and in the dataset."""
    return "\n".join(b.strip() for b in bubbles if b.strip())


# ----------------------------------------------------------------------------------------- guards

def mask_reply(text: str) -> str:
    """`text` with every phone, card, account, registration, passport or licence number and e-mail
    address replaced by its token (내 번호 010-1234-5678 -> 내 번호 <전화번호>); anything else unchanged."""
    text = str(text)
    found = [f for f in leakscan.scan([text], proper_nouns=False) if f.type in REPLY_MASKED]
    return leakscan.redact([text], found)[0] if found else text


_NON_WORD = re.compile(r"[\W_]+")
# lib.privacy tokens such as <전화번호>, lib.dataset tags such as (사진) for a photo she cannot see
_PLACEHOLDER = re.compile(r"<[^<>\s]{1,12}>|\((?:%s)\)" % "|".join(
    re.escape(t.strip("()")) for t in (*TAGS.values(), URL_TAG)))
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060\ufeff]+")
_HAS_CONTENT_CHAR = re.compile(r"[가-힣A-Za-z0-9]")


def norm(text: str) -> str:
    """Compare on letters only: spaces, punctuation and emoji do not make a reply different."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", str(text)).lower())


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def is_empty(reply: str) -> bool:
    """Nothing she could read: blank, invisible characters, or only masking placeholders."""
    return not _INVISIBLE.sub("", _PLACEHOLDER.sub("", str(reply)))


def is_echo(reply: str, her_msg: str) -> bool:
    """The reply parrots her message (or one of its lines). Short lines may be answered in kind."""
    r = norm(reply)
    if not r:
        return False
    candidates = {str(her_msg), *split_bubbles(her_msg)}
    for h in map(norm, candidates):
        if len(h) < MIN_ECHO_CHARS:
            continue
        if r == h or (h in r and len(r) < len(h) + 4) or _similar(r, h) >= ECHO_RATIO:
            return True
    return False


def is_self_repeat(reply: str, bot_turns: Sequence[str]) -> bool:
    """The reply (or bubble) says again what the bot said in one of `bot_turns` (or their bubbles)."""
    r = norm(reply)
    if len(r) < MIN_REPEAT_CHARS:
        return False
    for turn in bot_turns:
        for piece in {str(turn), *split_bubbles(turn)}:
            p = norm(piece)
            if p and (r == p or (len(p) >= MIN_REPEAT_CHARS and _similar(r, p) >= REPEAT_RATIO)):
                return True
    return False


def is_loop(reply: str) -> bool:
    """Degenerate repetition: one character 40+ times, a phrase 4+ times in a row, a word trigram
    3+ times, or the same line 3+ times. Laughter (ㅋㅋㅋ, ㅠㅠ, 😂😂) alone never counts."""
    text = str(reply)
    if re.search(rf"(.)\1{{{MAX_CHAR_RUN - 1},}}", text):
        return True
    for m in re.finditer(r"(.{2,24}?)(?:\s*\1){3,}", text, flags=re.S):
        unit = m.group(1)
        if len(set(unit.replace(" ", ""))) >= 2 and _HAS_CONTENT_CHAR.search(unit):
            return True
    words = text.split()
    trigrams = Counter(t for t in zip(words, words[1:], words[2:]) if _HAS_CONTENT_CHAR.search("".join(t)))
    if trigrams and max(trigrams.values()) >= 3:
        return True
    lines = Counter(n for n in map(norm, split_bubbles(text)) if _HAS_CONTENT_CHAR.search(n))
    return bool(lines) and max(lines.values()) >= 3


def rejection_reason(bubble: str, *, her_msg: str, bot_turns: Sequence[str],
                     earlier: Sequence[str] = ()) -> str | None:
    """Why a bubble may not be shown (None = fine). `earlier` = bubbles already in this reply."""
    if is_empty(bubble):
        return "empty"
    if is_echo(bubble, her_msg):
        return "echo"
    if is_self_repeat(bubble, bot_turns):
        return "repeat"
    if is_loop(bubble) or (earlier and norm(bubble) in {norm(b) for b in earlier}) \
            or is_loop("\n".join([*earlier, bubble])):
        return "loop"
    return None
