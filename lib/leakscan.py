"""The final leak scan: finds personal values in already masked text without trusting lib.privacy.
Owns its own number/ID shapes, name forms and kiwi proper-noun check; never imports lib.privacy.

Why separate: a scan that only looks for what the masker replaced cannot see what the masker missed.
So every shape here is written anew (different regexes, digits normalised first), names come from the
caller (speakers, known names, the review inventory) with their inflected forms, and kiwipiepy is asked
on its own which words with a person-only ending (…아/야, …씨/님, …이가) are proper nouns.

For the dataset builder (lib.dataset runs it over every distinct message it writes, and the card):
    found = scan(texts, names=names, keep_words=keep, pseudonyms=anon.seen.pseudonyms)
    g = guard(texts, names=..., pseudonyms=..., replace=..., drop=False)   # re-mask (or drop) flagged texts
    g.texts, g.flagged (Counter per type), g.remaining (must end up empty, else LeakError: fail closed)
lib.guards uses the number shapes on every generated reply.
"""
from __future__ import annotations

import bisect
import re
from collections import Counter
from itertools import accumulate
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable

TYPES = ("전화번호", "주민번호", "외국인번호", "카드번호", "계좌", "여권번호", "운전면허", "차량번호", "이메일",
         "아이디", "주소", "IP", "URL", "생년월일", "이름")


class LeakError(ValueError):
    """Personal data is still in what a build would write: the build stops and writes nothing."""


@dataclass(frozen=True)
class Finding:
    type: str    # one of TYPES
    value: str   # the text found
    index: int   # which text (position in the list given to scan)
    start: int   # span inside that text
    end: int


# ------------------------------------------------------------------------------------ digits
# Spoken digits (공일공 칠칠팔구) and full-width digits become ASCII, one character for one, so spans
# stay valid. Hangul numerals only in runs of 3+, so 이거 / 사이 / 오늘 are not read as digits.
_HANGUL_DIGIT = dict(zip("공영빵일이삼사오육륙칠팔구", "0001234566789"))
_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)}
_HANGUL_RUN = re.compile(r"[공영빵일이삼사오육륙칠팔구]{3,}")


def normalise_digits(text: str) -> str:
    text = text.translate(str.maketrans(_FULLWIDTH))
    return _HANGUL_RUN.sub(lambda m: "".join(_HANGUL_DIGIT[c] for c in m.group(0)), text)


_D6DATE = r"\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_SHAPES: list[tuple[str, str]] = [
    # written addresses of things online first, so their digits are not read as phones
    ("URL", r"(?:https?://|www\.)[^\s\x00]+|(?<![\w\-.])[\w\-]+(?:\.[\w\-]+)*\.(?:com|net|org|kr|io|me|ly|be|gl|app|dev|co)/[^\s\x00]*"),
    ("이메일", r"(?<![\w.+\-])[\w.+\-]+\s?(?:@|＠|골뱅이|\(at\)|\[at\])\s?[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}"),
    ("IP", r"(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
           r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}:?[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{1,4}){0,6}(?![\w:])"),
    ("주민번호", rf"(?<!\d){_D6DATE}\s?[-–]?\s?[1-4]\d{{6}}(?!\d)"),
    ("외국인번호", rf"(?<!\d){_D6DATE}\s?[-–]?\s?[5-8]\d{{6}}(?!\d)"),
    ("운전면허", r"(?<!\d)(?:\d\d|서울|부산|대구|인천|광주|대전|울산|경기|강원|충북|충남|전북|전남|경북|경남|제주)"
             r"[\s\-]?\d\d[\s\-]\d{6}[\s\-]\d\d(?!\d)"),
    ("카드번호", r"(?<!\d)\d{4}(?P<sep>[\s\-.]?)\d{4}(?P=sep)\d{4}(?P=sep)\d{4}(?!\d)|(?<!\d)3[47]\d\d[\s\-]?\d{6}[\s\-]?\d{5}(?!\d)"),
    # mobile numbers: the prefix, then 7-8 more digits with at most a few words of filler between groups
    ("전화번호", r"(?<!\d)(?:\+\s?82[\s\-.]*0?1|01)[016789](?:[^\d\n\x00]{0,12}?\d){7,8}(?!\d)"
             r"|(?<!\d)0(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)[\s\-.)]{0,2}\d{3,4}[\s\-.]{0,2}\d{4}(?!\d)"),
    ("여권번호", r"(?<![A-Za-z0-9])[MSRODmsrod](?:\d{8}|\d{3}[A-Za-z]\d{4})(?!\d)"),
    ("차량번호", r"(?<!\d)\d{2,3}\s?[가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호]\s?\d{4}(?!\d)"),
    ("계좌", r"(?<![\d\-])(?=(?:\d-?){10})\d{2,6}-\d{2,6}-\d{2,7}(?:-\d{1,3})?(?![\d\-])|(?<!\d)\d{10,16}(?!\d)"),
    ("주소", r"(?<!\d)\d{1,4}\s?동\s?\d{1,4}\s?호|(?<![가-힣])[가-힣]+(?:대로|로|길)\s?\d+\s?번?길\s?\d+(?:-\d+)?(?![\d가-힣])"
           r"|(?<![가-힣])[가-힣]{2,}(?:동|리)\s\d{1,4}-\d{1,4}(?!\d)"
           # a road and house number after a city district: 마포구 월드컵로 123, 강남구 테헤란로 427
           r"|(?<![가-힣])[가-힣]{1,6}(?:시|구|군)\s[가-힣]{1,10}(?:대로|로|길)\s?\d{1,4}(?:-\d{1,4})?(?![\d가-힣])"),
    # a handle after its cue word (and a space or colon), holding a digit, "_" or "." as handles do
    ("아이디", r"(?<![A-Za-z])(?:아이디|아디|ID|id|인스타|카톡|insta)(?![A-Za-z])\s?[:은는]?\s"
              r"@?(?=[\w.\-]*[\d_.])[A-Za-z][\w.\-]{2,}|(?<![\w@])@[A-Za-z][\w.]{2,}"),
]
_SHAPE_RX = re.compile("|".join(f"(?P<s{i}>{p})" for i, (_, p) in enumerate(_SHAPES)))
_SHAPE_TYPE = {f"s{i}": t for i, (t, _) in enumerate(_SHAPES)}
# texts worth the number pass: 4+ digits close together (every number shape has them), or an
# address/ID/birthday cue; "3시 30분" and "2명" are not looked at again
_SHAPE_HINT = re.compile(r"\d(?:[^\d\x00]{0,12}\d){3}|(?:시|구|군)\s[가-힣]{1,10}(?:대로|로|길)\s?\d|@|＠|골뱅이|\(at\)|www\.|://|[공영일이삼사오육칠팔구]{3}|아이디|아디|ID|id|"
                         r"인스타|카톡|생일|생년|출생|DOB")
# birth dates: a full date with a birth cue before it, or anywhere in identity-like text
_BIRTH_CUE = re.compile(r"생년|생일|출생|DOB|[Bb]irth|태어난")
_ID_TEXT = re.compile(r"생년|생일|출생|여권|[Pp]assport|성명|이름|DOB|[Bb]irth|신분|주민|탑승|예약자|<여권번호>|<주민번호>")
_DATE = re.compile(r"(?<![\d.])(?:(?:19|20)\d\d[.\-/년]\s?\d{1,2}[.\-/월]\s?\d{1,2}일?|(?:19|20)\d\d(?:0[1-9]|1[0-2])"
                   r"(?:0[1-9]|[12]\d|3[01])|\d\d\.\d\d\.\d\d)(?![\d.])|\d{1,2}월\s?\d{1,2}일")


def _shapes(text: str):
    """(type, start, end) of every number or ID shape in `text` (one text, or texts joined by \x00)."""
    norm = normalise_digits(text)
    for m in _SHAPE_RX.finditer(norm):
        typ = _SHAPE_TYPE[m.lastgroup]
        s, e = m.span()
        if typ == "IP" and ":" in m.group(0) and not re.search(r"[0-9A-Fa-f]{3}", m.group(0)):
            continue  # 12:30:45 is a clock
        if typ == "계좌" and "-" not in m.group(0) and (
                m.group(0).startswith("080") or re.search(r"(?:주문|송장|승인|예약)\s?번호\s?:?\s?$|거부\s?$", norm[:s])
                or re.match(r"\.(?:jpe?g|png|gif|mp4|pdf)", norm[e:], re.I)):
            continue  # an order/tracking number, a toll-free opt-out line, a file name: no one's account
        if typ == "아이디":  # report the handle, not its cue word
            s = e - len(m.group(0).split()[-1].split(":")[-1])
        yield typ, s, e
    lo = 0
    for part in norm.split("\x00"):  # birth dates: decided per text, by the cues in that text
        if _BIRTH_CUE.search(part) or _ID_TEXT.search(part):
            cue_anywhere = bool(_ID_TEXT.search(part))
            for m in _DATE.finditer(part):
                before = part[max(0, m.start() - 12):m.start()]
                if (cue_anywhere and m.group(0)[:2] in ("19", "20")) or _BIRTH_CUE.search(before):
                    yield "생년월일", lo + m.start(), lo + m.end()
        lo += len(part) + 1


# ------------------------------------------------------------------------------------ names
# What may follow a name inside one word: particles, the hypocoristic 이, vocatives, titles, copula.
_AFTER_NAME = sorted(set("""이 가 은 는 을 를 의 도 만 랑 이랑 와 과 한테 한테서 에게 에게서 께 하고 보고 까지 부터 처럼 보다 네 이네
아 야 이야 이가 이는 이도 이를 이랑 이한테 이한테서 이에게 이의 이만 이랑은 랑은 한테는 한테도 이네집 네집 씨 님 쌤 선배 형 누나
언니 오빠 씨가 씨는 씨도 씨한테 님이 님은 님도 님께 인데 이던가 던가 이라고 라고 이래 래 이었 였 이지 이고 예요 이에요 잖아 이잖아
""".split()), key=len, reverse=True)
# endings that follow a person, not an ordinary noun (for names that are also words: 수영, 하늘)
_PERSON_ONLY = set("아 야 이가 이는 이도 이를 이랑 이한테 이에게 이한테서 씨 님 쌤 한테 에게 한테서 께 형 누나 언니 오빠 선배 "
                   "이네집 네집 씨가 씨는 씨도 씨한테 님이 님은 님도 님께".split())
_PERSON_END = re.compile(r"([가-힣]{2,4}?)(아|야|씨|님|이가|이는|이랑|이한테|이도|이를)")
_WORD = re.compile(r"(?<![가-힣<])[가-힣]{3,7}(?![가-힣])")
# the tag kiwi must give the ending for it to be a person's: vocative, the bound noun 씨, the suffix 님
# or the hypocoristic 이 (지훈이가); a case particle alone (서울이가?) is not enough
_ENDING_TAG = {"아": "JKV", "야": "JKV", "씨": "NNB", "님": "XSN"}


_KIWI: list = []


def use_kiwi(kiwi) -> None:
    """Share an already loaded kiwipiepy.Kiwi (loading one takes seconds and ~300 MB). Only the
    tokenizer is shared: what counts as a name here is decided by this module's own rules."""
    _KIWI[:] = [kiwi]


def _kiwi():
    if not _KIWI:  # loaded once, lazily: a scan without name checks never needs it
        from kiwipiepy import Kiwi
        _KIWI.append(Kiwi(num_workers=0))
    return _KIWI[0]


@lru_cache(maxsize=200_000)
def _dictionary_word(word: str) -> bool:
    """kiwi knows `word` as an ordinary word (수영, 하늘), so it is a name only with a person cue."""
    toks = _kiwi().tokenize(word)
    return len(toks) == 1 and toks[0].form == word and toks[0].tag != "NNP" and not toks[0].oov


_NNP_FLOOR = -25.0  # kiwi's own score for the proper noun: nicknames sit near -16..-22, typos far below


@lru_cache(maxsize=200_000)
def _person_nnp(word: str, stem: str) -> bool:
    """kiwi reads `stem` inside `word` (민준아, 서연씨) as a proper noun followed by a person ending."""
    toks = _kiwi().tokenize(word)
    ending = word[len(stem):]
    if not toks or toks[0].score < _NNP_FLOOR:
        return False  # a string kiwi only guessed to be a name (오바잔아 for 오바잖아, 돈렛뎀씨)
    if len(toks) >= 2 and toks[0].tag == "NNP" and toks[0].form == stem + "이" and ending[0] == "이":
        return toks[1].tag.startswith("J")  # kiwi keeps the hypocoristic 이 in the name: 지훈이 + 가
    if len(toks) < 2 or toks[0].tag != "NNP" or toks[0].form != stem:
        return False
    return toks[1].tag == _ENDING_TAG.get(ending, "XSN")


def _hangul(name: str) -> bool:
    return bool(re.fullmatch(r"[가-힣]+", name))


def name_forms(names: Iterable[str]) -> set[str]:
    """Each name as written, without spaces, and (for a 3-4 syllable Korean name) its given part."""
    out = set()
    for n in names:
        n = re.sub(r"[^\w가-힣 ]", "", str(n)).strip()
        if not n:
            continue
        compact = n.replace(" ", "")
        out |= {n, compact}
        if _hangul(n) and len(n) in (3, 4):  # one word: 김민지 -> 민지, 남궁민수 -> 민수 (not "알 수 없음")
            out.add(n[-2:])
    return {f for f in out if len(f) >= 2}


def _alternation(words) -> str:
    """One regex alternative for many literal words, factored by prefix (민(?:준|지)): sre then branches
    on a character instead of trying every word at every position of a long text."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node) -> str:
        alts = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body
    return emit(trie)


@dataclass
class Guarded:
    texts: list            # re-masked texts (None where a text was dropped)
    flagged: Counter       # findings per type before re-masking
    dropped: set = field(default_factory=set)  # indices dropped (drop=True)
    remaining: list = field(default_factory=list)  # findings after re-masking: must be empty


class Scanner:
    """Scans many texts for personal values. `names`: speakers, known names and the names of the review
    inventory (every form is looked for); `keep_words` are never reported as names; `pseudonyms` (the
    fake names the masker wrote) and words starting with them are never reported; `proper_nouns`: ask
    kiwi about words with a person-only ending (slower, off for a numbers-only scan)."""

    def __init__(self, names: Iterable[str] = (), keep_words: Iterable[str] = (), pseudonyms: Iterable[str] = (),
                 proper_nouns: bool = True):
        self.keep = {str(w).strip() for w in keep_words if str(w).strip()}
        self.fakes = {str(p) for p in pseudonyms if p}
        self._fake_lengths = sorted({len(f) for f in self.fakes})
        self.names = name_forms(names) - self.keep - self.fakes
        self.proper_nouns = proper_nouns

    @staticmethod
    @lru_cache(maxsize=8)
    def _name_rx(forms: frozenset) -> re.Pattern:
        """A name starts a word (or follows 우리/울/내) and ends it, or a particle/cue ends it."""
        return re.compile(rf"(?:(?<![가-힣A-Za-z])|(?<=우리)|(?<=울)|(?<=내))(?P<n>{_alternation(forms)})"
                          rf"(?P<a>{_alternation(_AFTER_NAME)})?(?![가-힣A-Za-z])")

    def _is_fake(self, text: str, start: int) -> bool:
        return any(text[start:start + n] in self.fakes for n in self._fake_lengths)

    def scan(self, texts) -> list[Finding]:
        texts = ["" if t is None or t != t else str(t) for t in texts]
        per_text: dict[str, list[tuple]] = {}
        uniq = [t for t in dict.fromkeys(texts) if t]  # each distinct text is scanned once
        joined = "\x00".join(uniq)
        starts = [0]
        for t in uniq[:-1]:
            starts.append(starts[-1] + len(t) + 1)
        def add(at: int, end: int, typ: str):
            k = bisect.bisect_right(starts, at) - 1
            per_text.setdefault(uniq[k], []).append((typ, at - starts[k], end - starts[k]))

        pos, hinted = 0, []  # one search over all texts finds those worth the number pass
        while (m := _SHAPE_HINT.search(joined, pos)) is not None:
            k = bisect.bisect_right(starts, m.start()) - 1
            hinted.append(k)
            pos = starts[k] + len(uniq[k]) + 1
        for a in range(0, len(hinted), 5000):  # then the shapes over those texts joined, in chunks
            ks = hinted[a:a + 5000]
            sub_starts = list(accumulate([0] + [len(uniq[k]) + 1 for k in ks[:-1]]))
            for typ, s0, e0 in _shapes("\x00".join(uniq[k] for k in ks)):
                j = bisect.bisect_right(sub_starts, s0) - 1
                k = ks[j]
                add(starts[k] + s0 - sub_starts[j], starts[k] + e0 - sub_starts[j], typ)

        names = set(self.names)
        if self.proper_nouns:
            # kiwi once per distinct word with a person ending, then find the flagged words again
            flagged = {}
            for w in set(_WORD.findall(joined)):
                m = _PERSON_END.fullmatch(w)
                if m and m.group(1) not in self.keep and m.group(1) not in self.names and \
                        not self._is_fake(w, 0) and _person_nnp(w, m.group(1)):
                    flagged[w] = len(m.group(1))
            if flagged:
                rx = re.compile(r"(?<![가-힣<])(?:" + "|".join(map(re.escape, sorted(flagged, key=len, reverse=True)))
                                + r")(?![가-힣])")
                for m in rx.finditer(joined):
                    add(m.start(), m.start() + flagged[m.group(0)], "이름")
                # a person found once (지훈이가) is looked for in every form (지훈이랑, 지훈 왔어), as a known name
                names |= {w[:n] for w, n in flagged.items()}
        if names:
            for m in self._name_rx(frozenset(names)).finditer(joined):
                n, a = m.group("n"), m.group("a") or ""
                if self._is_fake(joined, m.start("n")):
                    continue
                if _hangul(n) and a not in _PERSON_ONLY and _dictionary_word(n):
                    continue  # 수영 하러 가자, 수영이 좋아: the word; 수영이가, 수영아, 수영씨: the person
                add(m.start("n"), m.end("n"), "이름")
        spans = {t: sorted(set(found), key=lambda f: (f[1], -f[2])) for t, found in per_text.items()}
        # every position holding a flagged text gets its findings (a set lookup per text)
        return [Finding(typ, t[s:e], i, s, e) for i, t in enumerate(texts) if t in spans for typ, s, e in spans[t]]


def scan(texts, names: Iterable[str] = (), keep_words: Iterable[str] = (), pseudonyms: Iterable[str] = (),
         proper_nouns: bool = True) -> list[Finding]:
    """Every personal value found in `texts` (see Scanner)."""
    return Scanner(names, keep_words, pseudonyms, proper_nouns).scan(texts)


def redact(texts, findings: Iterable[Finding], replace: Callable[[Finding], str] | None = None) -> list[str]:
    """`texts` with each finding replaced by replace(finding) (default "<type>", the masker's token
    form; for names pass e.g. the masker's pseudonym function so grammar and consistency survive)."""
    replace = replace or (lambda f: f"<{f.type}>")
    out = ["" if t is None or t != t else str(t) for t in texts]
    by_text: dict[int, list[Finding]] = {}
    for f in findings:
        by_text.setdefault(f.index, []).append(f)
    for i, fs in by_text.items():
        t, last = out[i], None
        for f in sorted(fs, key=lambda f: f.start, reverse=True):
            if last is not None and f.end > last:
                continue  # overlaps a span already replaced
            t = t[:f.start] + replace(f) + t[f.end:]
            last = f.start
        out[i] = t
    return out


def guard(texts, *, names: Iterable[str] = (), keep_words: Iterable[str] = (), pseudonyms: Iterable[str] = (),
          replace: Callable[[Finding], str] | None = None, drop: bool = False,
          proper_nouns: bool = True) -> Guarded:
    """Scan, then re-mask every flagged text and scan the re-masked ones again (or, with drop=True, blank
    them to None). `replace` may emit new pseudonyms: pass a live set (e.g. Anonymizer.seen.pseudonyms)
    so the second scan sees them. The caller must drop or fail on what is left in `remaining`."""
    texts = list(texts)
    found = scan(texts, names, keep_words, pseudonyms, proper_nouns)
    flagged = Counter(f.type for f in found)
    touched = sorted({f.index for f in found})
    if drop:
        return Guarded([None if i in touched else t for i, t in enumerate(texts)], flagged, set(touched), [])
    out = redact(texts, found, replace)
    # only the re-masked texts can hold something new: scan those again, findings indexed as in `texts`
    again = scan([out[i] for i in touched], names, keep_words, pseudonyms, proper_nouns) if touched else []
    remaining = [Finding(f.type, f.value, touched[f.index], f.start, f.end) for f in again]
    return Guarded(out, flagged, set(), remaining)
