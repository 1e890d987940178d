"""The bundled fictional couple: a deterministic KakaoTalk chat between 이도윤 ("me") and 최서연 ("her").

`generate(seed)` builds the frame (same columns as `lib.kakao.read_chat`); `write_sample()` renders it
in every export format into data/sample/ together with planted.json (the fake personal data inside).

Style comes from HOW they write, not from a list of sentences: each message is composed from topic stems
and slots (lib.sample_text), then their habits are applied on top. He answers in 1-4 short 반말 bubbles
(reactions, answers, questions back, fillers, ㅋ runs of any length, emoji, typos and spacing slips); she
writes longer ~요 sentences with ㅎㅎ. Time habits mostly only lib.template's time line gives away: his
answers of a morning open with 굿모닝 or say he just woke up, late at night he winds down (슬슬 자야겠다),
and when she writes again hours after he left her unanswered (오빠? … 2-5 h later, or next morning) he
apologises (미안 이제 봤어 ㅠ). `reuse_share` measures how many of his replies are new sentences.

    python -m lib.sample            # rewrite data/sample/ (`make sample`)
"""
from __future__ import annotations

import argparse
import math
import random
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from lib import config, kakao
from lib import sample_text as T
from lib.fileio import write_json, write_text

ME, HER = "이도윤", "최서연"
TITLE = HER                      # a 1:1 export is titled after the other person
START = datetime(2025, 3, 3)     # a Monday
DAYS = 122                       # ~4 months
SAVED_AT = datetime(2025, 7, 3, 0, 12, 41)
FULL_FORMATS = ("pc_ko",)  # the pipeline default holds the whole chat ...
WINDOW_DAYS = 49           # ... the other formats its first 7 weeks, to keep data/sample/ under 2 MB

# ---------------------------------------------------------------------------------------------
# Fake personal data. planted.json lists every raw value so the privacy tests can prove none leaks.
FRIENDS = ["민준", "지훈", "수빈", "하은", "예린"]  # all end in a batchim: 민준이가, 지훈아, 수빈이랑
PHONES = {  # one fictional number written the many ways people type it
    "dash": "010-2741-8836", "dot": "010.2741.8836", "plain": "01027418836",
    "space": "010 2741 8836", "hangul": "공일공 이칠사일 팔팔삼육",
}
PHONE_MOM = "010-5913-0472"
ADDRESS = "서울 마포구 월드컵로 123 107동 1203호"
ADDRESS_OFFICE = "서울 강남구 테헤란로 427 위워크 9층"
ACCOUNT = ("카카오뱅크", "3333-17-4829105")
ACCOUNT_HIS = ("신한", "110-482-771903")
EMAIL = "seoyeon.choi0412@naver.com"
INSTAGRAM = "@doyun_lee.film"
KAKAO_ID = "sy_choi0412"
URL = "https://naver.me/5xQk2Ld9"
PERSONAL = {"me": ME, "her": HER, "phone_mom": PHONE_MOM, "address": ADDRESS, "office": ADDRESS_OFFICE,
            "bank": ACCOUNT[0], "account": ACCOUNT[1], "his_bank": ACCOUNT_HIS[0], "his_account": ACCOUNT_HIS[1],
            "email": EMAIL, "instagram": INSTAGRAM, "kakao_id": KAKAO_ID, "url": URL, "friend0": FRIENDS[0]}

# ---------------------------------------------------------------------------------------------
# Composing text: [a|b] choices, {slot} values, a stem + an ending of its class.
_CHOICE = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def _fill(rng: random.Random, template: str, values: dict | None = None) -> str:
    """Resolve [a|b] choices, then {slot}s. `values` fixes slots and remembers new ones: his answer then
    names the movie or food her message named."""
    text = _CHOICE.sub(lambda m: rng.choice(m[1].split("|")), template)
    values = {} if values is None else values

    def slot(m):
        name = m[1]
        if name not in values:
            pool = FRIENDS if name in ("friend", "friend2") else T.SLOTS[name]
            values[name] = rng.choice([v for v in pool if v != values.get("friend")])  # friend2: another friend
        return values[name]
    return _SLOT.sub(slot, text)


def _clause(rng: random.Random, stem: str, cls: str, question: bool = False, ends: dict = T.HIS_END,
            values: dict | None = None) -> str:
    return _fill(rng, stem, values) + rng.choice(ends[cls][1 if question else 0])


def _typo(rng: random.Random, b: str) -> str:
    """A slip of the thumb: a dropped space, a colloquial misspelling, a stray jamo or a doubled syllable."""
    r, spaces, hits = rng.random(), [i for i, c in enumerate(b) if c == " "], [k for k in T.TYPOS if k in b]
    if r < 0.35 and spaces:
        i = rng.choice(spaces)
        return b[:i] + b[i + 1:]
    if r < 0.6 and hits:
        k = rng.choice(hits)
        return b.replace(k, T.TYPOS[k], 1)
    if r < 0.8 and re.search(r"[가-힣]$", b):
        return b + rng.choice(T.STRAY_JAMO)
    return b + b[-1] if len(b) > 3 else b


def _his_style(rng: random.Random, parts: list[str], laugh: bool = True) -> list[str]:
    """His habits on top of content parts: fillers, bubbles, ㅋ runs, emoji, typos; 1-4 bubbles.
    laugh=False (an apology, a plain "ok"): no ㅋ and no emoji."""
    bubbles: list[str] = []
    for i, p in enumerate(parts):
        if i and rng.random() < 0.18:
            p = rng.choice(T.FILLERS) + " " + p
        if bubbles and (i == 1 and len(bubbles[-1]) <= 4 and rng.random() < 0.65 or rng.random() < 0.06):
            bubbles[-1] += " " + p   # a short reaction usually shares the bubble of what follows
        elif (head := p.split(" ", 1)[0]) in T.HEADS and len(p) > len(head) + 4 and rng.random() < 0.15:
            bubbles += p.split(" ", 1)  # "나 | 방금 일어났어": a thought sent in two bubbles
        else:
            bubbles.append(p)
    r = rng.random()
    if laugh and r < 0.42:
        k = rng.choice([i for i in range(len(bubbles)) for _ in range(1 + 2 * (i == len(bubbles) - 1))])
        bubbles[k] += rng.choice([" ", "", " "]) + "ㅋ" * rng.choice([2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 8, 10])
    elif laugh and r < 0.48:
        bubbles.insert(0, "ㅋ" * rng.randint(3, 12))
    if laugh and rng.random() < 0.34:
        bubbles[-1] += rng.choice([" ", "", " "]) + rng.choice(T.EMOJI) * rng.choice([1, 1, 1, 2])
    elif laugh and rng.random() < 0.05:
        bubbles.append(rng.choice(T.EMOJI))
    names = ME[1:], HER[1:], *FRIENDS
    bubbles = [b + ("?" if b[-1] == "?" else rng.choice(T.DECOR)) if rng.random() < 0.12 else b for b in bubbles]
    bubbles = [_typo(rng, b) if rng.random() < 0.08 and not any(n in b for n in names) else b for b in bubbles]
    return [b.strip() for b in bubbles if b.strip()][:4]


def _his_reply(rng: random.Random, topic: str, thread: int, slot: str = "", values: dict | None = None,
               greet: bool = False, hour: int | None = None) -> list[str]:
    """His answer to her message (a thread of `topic`) at `hour`: [good morning | early: just woke up | late:
    winding down | a reaction] answer [second thought | question back]."""
    t = T.TOPICS[topic]
    answers = t["threads"][thread][1]
    parts = []
    habit = next((tails for hours, p, tails in ((T.LATE, T.P_WINDING_DOWN, T.WINDING_DOWN),
                                                (T.EARLY, T.P_WAKING, T.WAKING))
                  if hour in hours and rng.random() < p), None)
    if greet and rng.random() < T.P_GREET:
        parts.append(rng.choice(T.GREETING))
    elif habit:  # the time habit comes first, before he answers
        parts.append(_fill(rng, rng.choice(habit)))
    elif rng.random() < 0.42:
        parts.append(rng.choice(T.REACT[t["mood"]]))
    first, second = rng.sample(answers, 2)
    parts.append(_clause(rng, *first, values=values))
    if habit and len(parts) == 2 and rng.random() < 0.5:  # often in one breath: "슬슬 자야겠다 근데 그거 재밌어?"
        parts[-2:] = [" ".join(parts[-2:])]
    r = rng.random()
    if r < 0.28 and t["back"] and not first[2]:
        parts.append(_clause(rng, *rng.choice(t["back"]), values=values))
    elif r < 0.46:
        parts.append(_clause(rng, *second, values=values))
    elif r < 0.58:
        extras = [e for e in T.EXTRAS if slot == "night" or "졸리" not in e[0]]
        parts.append(_clause(rng, *rng.choice(extras)))
    return _his_style(rng, parts)


def _her_msg(rng: random.Random, topic: str, thread: int, values: dict | None = None) -> list[str]:
    """Her message on a thread of `topic`: a polite sentence, often a second one; mostly one bubble."""
    t = T.TOPICS[topic]
    stem, cls, q = rng.choice(t["threads"][thread][0])
    lead = rng.choice(["", "", "", "오빠 ", "오빠 ", "오빠오빠 "]) if not stem.startswith("오빠") else ""
    bubbles = [lead + _clause(rng, stem, cls, q, T.HER_END, values)]
    more = rng.choice(t["more"]) if t["more"] else None
    if more and (not q or not more[0].endswith("?")) and rng.random() < 0.9:  # never two questions in a row
        more = _clause(rng, *more, ends=T.HER_END)
        if rng.random() < 0.9:
            bubbles[0] = _join(bubbles[0], more)
        else:
            bubbles.append(more)
    return [_her_tail(rng, b) for b in bubbles]


def _join(a: str, b: str) -> str:
    """Two of her sentences in one bubble: "…요, …" (a question ends with its ? and a space)."""
    a = a.rstrip("~.")
    return f"{a} {b}" if a.endswith("?") else f"{a}, {b}"


def _her_tail(rng: random.Random, b: str) -> str:
    r = rng.random()
    return b + (" ㅎㅎ" if r < 0.3 else " ㅎㅎㅎ" if r < 0.36 else " 🥰" if r < 0.375 else "")


# ---------------------------------------------------------------------------------------------
# The chat, session by session.

class _Writer:
    """Accumulates rows; each record is one bubble (time, speaker, text, kind)."""

    def __init__(self, rng: random.Random):
        self.rng, self.rows = rng, []

    def add(self, t: datetime, speaker: str | None, text: str, kind: str = "text") -> None:
        self.rows.append((t, speaker, text, kind))

    def say(self, t: datetime, speaker: str, bubbles: list[str], pause: float = 0.2) -> datetime:
        """Bubbles sent one after another; a few of them a minute later."""
        for b in bubbles:
            self.add(t, speaker, b)
            t += timedelta(minutes=self.rng.random() < pause)
        return t


def _latency(rng: random.Random) -> int:
    """Minutes before the other one answers: usually at once, sometimes after a meeting."""
    r = rng.random()
    return 0 if r < 0.45 else rng.randint(1, 4) if r < 0.85 else rng.randint(8, 45)


def _script(w: _Writer, t: datetime, name: str, values: dict | None = None) -> datetime:
    """Play one special exchange from sample_text.SCRIPTS (placeholders, planted data, system lines)."""
    rng = w.rng
    a = rng.choice([ME, HER])
    roles = {"me": ME, "her": HER, "A": a, "B": HER if a == ME else ME, "sys": None}
    values = {**PERSONAL, **dict(zip(("f1", "f2", "f3"), rng.sample(FRIENDS, 3))), **(values or {})}
    for delay, who, text, *kind in T.SCRIPTS[name]:
        t += timedelta(minutes=_latency(rng) if delay == "L" else rng.randint(*delay) if isinstance(delay, tuple)
                       else delay)
        if who == "me*":  # his habits on top (ㅋ, emoji, bubbles)
            t = w.say(t, ME, _his_style(rng, _fill(rng, text, values).split(" / ")), 0.1)
        elif who == "me@":  # his composed answer on a topic
            t = w.say(t, ME, _his_reply(rng, text, 0), 0.1)
        else:
            w.add(t, roles[who], _fill(rng, text, values), *kind)
    return t


def _exchange(w: _Writer, t: datetime, topic: str, thread: int, slot: str, greet: bool = False) -> datetime:
    rng = w.rng
    said = {}  # the slot values she used: his answer names the same movie, food, day
    t = w.say(t, HER, _her_msg(rng, topic, thread, said), 0.3)
    t += timedelta(minutes=_latency(rng))
    t = w.say(t, ME, _his_reply(rng, topic, thread, slot, said, greet, t.hour), 0.15)
    if rng.random() < 0.45:  # her reaction, often his closing word
        t += timedelta(minutes=_latency(rng))
        follow = _fill(rng, rng.choice(T.HER_REACT))
        if rng.random() < 0.75:
            follow = _join(follow, rng.choice(T.HER_CLOSE))
        w.add(t, HER, _her_tail(rng, follow))
        if rng.random() < 0.55:
            t += timedelta(minutes=rng.random() < 0.5)
            parts = [rng.choice(T.ACKS)] + ([_fill(rng, rng.choice(T.ACK_TAILS))] if rng.random() < 0.7 else [])
            t = w.say(t, ME, _his_style(rng, parts, laugh=rng.random() < 0.5), 0.1)
    return t


def _sorry(rng: random.Random, lines: list[str]) -> list[str]:
    """His apology in his words: a "sorry" bubble, then why (no ㅋ, no emoji)."""
    return _his_style(rng, [_fill(rng, lines[0]), _fill(rng, rng.choice(lines[1:])) + rng.choice([" ㅠ", " ㅠㅠ", "", " 🙏"])],
                      laugh=False)


def _dialog(w: _Writer, t: datetime, opener: list[str], thread: tuple[str, int], slot: str = "") -> datetime:
    """He opens (good morning, a question), she answers on `thread`, he answers her."""
    rng, said = w.rng, {}
    t = w.say(t, ME, opener) + timedelta(minutes=_latency(rng))
    t = w.say(t, HER, _her_msg(rng, *thread, said), 0.3) + timedelta(minutes=_latency(rng))
    return w.say(t, ME, _his_reply(rng, *thread, slot, said))


def _session(w: _Writer, t: datetime, slot: str, specials: list, pending: tuple | None,
             may_miss: bool = True) -> tuple:
    """One conversation; returns (end time, pending): pending = her late-night message he fell asleep
    over, as (time, topic, thread, its slot values), or None. She opens the next morning about it."""
    rng = w.rng
    pool = [(topic, i) for topic in dict.fromkeys(T.TOPICS_FOR[slot]) for i in range(len(T.TOPICS[topic]["threads"]))]
    first = pool[rng.randrange(len(pool))]  # what she asks when he does not answer
    greet = slot == "morning"  # his first answer of a morning may start with good morning
    if pending:  # she writes first after a night without his answer: good morning, sorry, then the answer
        _, topic, thread, said = pending
        t = w.say(t, HER, [rng.choice(T.HER_MORNING_NUDGE)]) + timedelta(minutes=_latency(rng))
        hello = [rng.choice(T.GREETING)] if rng.random() < 0.5 else []
        t = w.say(t, ME, hello + _sorry(rng, T.SORRY_MORNING) + _his_reply(rng, topic, thread, values=said), 0.1)
        t += timedelta(minutes=_latency(rng))
        w.add(t, HER, _her_tail(rng, _fill(rng, T.HER_FORGIVE)))
        greet = False
    elif slot == "morning" and rng.random() < 0.15:  # he says good morning first
        greeting = [rng.choice(T.GREETING), _clause(rng, *rng.choice(T.GREETING_Q), True)]
        t, greet = _dialog(w, t, _his_style(rng, greeting), ("morning", rng.choice(T.GREET_THREADS))), False
    elif slot in T.ME_OPEN and rng.random() < 0.25:  # he opens, she answers, he goes on
        words, topic, threads = rng.choice(T.ME_OPEN[slot])
        t = _dialog(w, t, _his_style(rng, [_clause(rng, *words)]), (topic, rng.choice(threads)), slot)
    for topic, thread in rng.sample(pool, min(len(pool), rng.randint(2, 4))):  # no thread twice a session
        t += timedelta(minutes=rng.randint(1, 6))
        if specials and rng.random() < 0.5:  # a planted or placeholder exchange replaces a plain one
            name, values = specials.pop(0)
            t = _script(w, t, name, values)
        else:
            t, greet = _exchange(w, t, topic, thread, slot, greet), False
    t += timedelta(minutes=rng.randint(1, 5))
    if may_miss and slot != "morning" and not pending and rng.random() < T.P_MISS:  # he won't see it for hours
        said = {}
        asked = t = w.say(t, HER, _her_msg(rng, *first, said), 0.3)
        room = T.LAST_NUDGE - (t.hour * 60 + t.minute if t.hour >= 3 else T.LAST_NUDGE)
        if room < T.NUDGE_AFTER[0]:
            return t, (asked, *first, said)  # too late for today
        # hours later she writes again: "오빠?", or just a new message as if nothing happened; he sees it
        t += timedelta(minutes=rng.randint(T.NUDGE_AFTER[0], min(T.NUDGE_AFTER[1], room)))
        if rng.random() < 0.6:
            w.add(t, HER, rng.choice(T.HER_NUDGE))
        else:
            topic = rng.choice(T.NUDGE_TOPICS)
            t = w.say(t, HER, _her_msg(rng, topic, rng.randrange(len(T.TOPICS[topic]["threads"]))), 0.3)
        t += timedelta(minutes=_latency(rng))
        t = w.say(t, ME, _sorry(rng, T.SORRY) + _his_reply(rng, *first, values=said), 0.1)
        if rng.random() < 0.7:
            t += timedelta(minutes=_latency(rng))
            w.add(t, HER, _her_tail(rng, _fill(rng, T.HER_FORGIVE)))
        return t, None
    late = t.hour < 3 or t.hour * 60 + t.minute >= 22 * 60 + 30
    if slot in ("night", "date night") and late and rng.random() < 0.85:  # good night, late at night only
        if rng.random() < 0.6:
            w.add(t, HER, _her_tail(rng, rng.choice(T.HER_SIGNOFF)))
            t += timedelta(minutes=_latency(rng) // 3)
        parts = [_fill(rng, s) for s, _ in rng.sample(T.SIGNOFF, rng.randint(1, 2))]
        t = w.say(t, ME, _his_style(rng, parts), 0.1)
    return t, None


def _specials() -> list[tuple[str, dict | None]]:
    """Every special exchange of the chat once (planted values with the values they plant), unordered."""
    plants = [("phone_hangul" if form == "hangul" else "phone", {"phone": number, "friend": FRIENDS[i]})
              for i, (form, number) in enumerate(PHONES.items())]
    plants.append(("friends_fixed", {"f1": FRIENDS[0], "f2": FRIENDS[2], "f3": FRIENDS[1]}))
    return plants + [(name, None) for name, k in T.SPECIALS.items() for _ in range(k)]


def generate(seed: int = 0) -> pd.DataFrame:
    """The fictional chat as a frame shaped like `lib.kakao.read_chat`'s (minute resolution, file order)."""
    rng = random.Random(seed)
    w = _Writer(rng)
    specials = _specials()
    rng.shuffle(specials)
    # spread the specials over the days: each day gets its share, handed to its sessions
    per_day = [specials[i::DAYS] for i in range(DAYS)]
    for i, name in enumerate(T.SHOWCASE):
        per_day[i].insert(0, (name, None))
    last, pending = START, None
    for d in range(DAYS):
        day = START + timedelta(days=d)
        weekend = day.weekday() >= 5
        todays = list(per_day[d])
        for slot, wk, we, p in T.SLOTS_OF_DAY:
            window = we if weekend else wk
            if window is None or (rng.random() > p and not (pending and slot == "morning")):
                continue  # (she always writes the morning after a night he fell asleep over)
            t = max(day + timedelta(minutes=rng.randint(*window)), last + timedelta(minutes=20))  # no overlap
            if pending and slot != "morning":
                continue  # her question of last night waits for the morning
            if weekend and slot == "night" and rng.random() < 0.6:
                slot = "date night"  # they met during the day; the night talk is about it
            # no missed message in the first two weeks: the SHOWCASE specials must happen there
            last, pending = _session(w, t, slot, todays, pending, may_miss=d >= 14)
        if pending and d + 1 < DAYS:  # her question waits for tomorrow: so do the specials nobody had time for
            per_day[d + 1][:0] = todays
            continue
        for name, values in todays:  # specials the sessions did not use: a short session of their own
            last = _script(w, max(last + timedelta(minutes=30), day + timedelta(hours=21)), name, values)
    time, speaker, text, kind = zip(*w.rows)
    df = pd.DataFrame({
        "time": pd.to_datetime(list(time)).astype("datetime64[ns]"),
        "speaker": pd.Series(speaker, dtype=object),  # None (not NaN) for system rows, as read_chat gives
        "text": pd.Series(text, dtype=object), "kind": pd.Series(kind, dtype=object),
    })
    df.attrs.update(title=TITLE, saved_at=SAVED_AT, format="sample", warnings=[], source="lib.sample")
    return df


def reuse_share(df: pd.DataFrame, speaker: str, val_fraction: float = 0.1, session_gap_hours: float = 6) -> float:
    """Share of `speaker`'s validation bubbles whose exact text occurs in an earlier bubble of the chat.

    Sessions start after a silence > `session_gap_hours` (between messages; system rows left out); the
    latest ceil(val_fraction x sessions) are validation, as lib.dataset's time split. Counted: the
    speaker's text bubbles there; "earlier" = any message row before it, of either speaker. A template-heavy
    persona scores high; a real chat, where nearly every reply is new, scores low.
    """
    msgs = df[df["speaker"].notna() & df["kind"].ne("system")].reset_index(drop=True)
    session = (msgs["time"].diff() > pd.Timedelta(hours=session_gap_hours)).cumsum().to_numpy()
    n = int(session.max()) + 1 if len(msgs) else 0
    val = session >= n - math.ceil(val_fraction * n)
    seen, hits, total = set(), 0, 0
    for text, spk, kind, v in zip(msgs["text"], msgs["speaker"], msgs["kind"], val):
        if v and spk == speaker and kind == "text":
            total, hits = total + 1, hits + (text in seen)
        seen.add(text)
    if not total:
        raise ValueError(f"reuse_share: no text bubbles of {speaker!r} in the validation sessions")
    return hits / total


def planted() -> dict[str, list[str]]:
    """Every fake personal value in the sample, by type (what a masker must remove)."""
    return {
        "name": [ME, HER, ME[1:], HER[1:], *FRIENDS],  # given names too: 서연아, 도윤 오빠
        "phone": [*PHONES.values(), PHONE_MOM],
        "address": [ADDRESS, ADDRESS_OFFICE],
        "account": [ACCOUNT[1], ACCOUNT_HIS[1]],
        "email": [EMAIL],
        "instagram": [INSTAGRAM],
        "kakao_id": [KAKAO_ID],
        "url": [URL],
    }


def window(df: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """The part of the chat written in format `fmt`: all of it for pc_ko, the first WINDOW_DAYS otherwise."""
    if fmt in FULL_FORMATS:
        return df
    return df[df["time"] < pd.Timestamp(START + timedelta(days=WINDOW_DAYS))]


def sample_path(fmt: str, out_dir: str | Path = config.SAMPLE) -> Path:
    return Path(out_dir) / (f"{fmt}.csv" if fmt == "mac_csv" else f"{fmt}.txt")


def write_sample(out_dir: str | Path = config.SAMPLE, seed: int = 0) -> dict[str, Path]:
    """Render `generate(seed)` in every export format into `out_dir` (+ planted.json, README.md).

    Returns {format: path}. `read_chat(path)` gives back `window(generate(seed), format)` exactly.
    """
    df = generate(seed)
    written = {}
    for fmt in kakao.FORMATS:
        part = window(df, fmt)
        written[fmt] = write_text(sample_path(fmt, out_dir),
                                  kakao.render_chat(part, fmt, title=TITLE, saved_at=SAVED_AT))
    write_json(Path(out_dir) / "planted.json", planted())
    end = window(df, "android_ko")["time"].max().date()
    write_text(Path(out_dir) / "README.md", T.README.format(
        n=len(df), me=ME, her=HER, start=df.time.min().date(), end=df.time.max().date(),
        n_window=len(window(df, "android_ko")), weeks=WINDOW_DAYS // 7, window_end=end,
        others=", ".join(f"`{sample_path(f).name}`" for f in kakao.FORMATS if f not in FULL_FORMATS)))
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="write the fictional sample chat in every export format")
    ap.add_argument("--out", default=str(config.SAMPLE), help="output folder (default data/sample/)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for fmt, path in write_sample(args.out, seed=args.seed).items():
        print(f"{fmt:15s} {path} ({Path(path).stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
