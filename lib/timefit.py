"""Time-typed phrases (a morning greeting, a night sign-off, a sorry after a silence) and whether a reply's
phrases fit the moment of her message: the time-appropriateness lib.evaluate reports.

    fit("굿모닝 ㅋㅋ", hour=8, gap_hours=9.5)   # -> True;  at hour=23 -> False;  "배고파" -> None

A phrase fits when the hour (local time of her last turn) or the silence before it makes it natural:
good morning 5:00-12:59, good night 21:00-4:59, sorry after an hour or more (what lib.template's time
line shows as "N시간 만"). The lists are common Korean chat phrases, the sample persona's included.
"""
from __future__ import annotations

import math
import re

from lib.template import MIN_GAP_HOURS

PHRASES = {
    "morning": re.compile(r"굿모닝|좋은 ?아침|모닝|잘 ?잤|푹 ?잤|일어났|아침 먹었"),
    "night": re.compile(r"잘 ?자|굿밤|굿나잇|좋은 ?꿈|꿈나라|꿈에서|잘게|자야겠|누울게|잘 시간|자러 가"),
    "sorry": re.compile(r"미안|이제 봤|지금 봤|못 봤|늦게 봤|답장 늦|연락 못 했"),
}
MORNING_HOURS = range(5, 13)
NIGHT_HOURS = (*range(21, 24), *range(0, 5))


def kinds(text: str) -> set[str]:
    """Which time-typed phrases a reply holds: a subset of {"morning", "night", "sorry"}."""
    return {k for k, rx in PHRASES.items() if rx.search(text or "")}


def fits_kind(kind: str, hour: int, gap_hours: float | None) -> bool:
    """Does a phrase of `kind` fit her message at `hour` after `gap_hours` of silence?"""
    if kind == "morning":
        return hour in MORNING_HOURS
    if kind == "night":
        return hour in NIGHT_HOURS
    if kind == "sorry":
        return gap_hours is not None and not math.isnan(gap_hours) and gap_hours >= MIN_GAP_HOURS
    raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(PHRASES)}")


def fit(text: str, hour: int, gap_hours: float | None) -> bool | None:
    """True when the reply has time-typed phrases and all of them fit; False when one does not;
    None when it has none (it says nothing about the time)."""
    found = kinds(text)
    if not found:
        return None
    return all(fits_kind(k, hour, gap_hours) for k in found)


def scores(replies: list[str], real: list[str], hours: list[int], gaps: list[float | None]) -> dict[str, float]:
    """`appropriate`: on the prompts whose real reply has a time-typed phrase, the share of replies
    whose phrases all fit (a reply without one does not count as fitting); `misplaced`: over all
    prompts, the share of replies with a phrase that does not fit; `prompts`: how many were timed."""
    timed = [i for i, r in enumerate(real) if kinds(r)]
    verdicts = [fit(r, h, g) for r, h, g in zip(replies, hours, gaps)]
    return {"appropriate": sum(verdicts[i] is True for i in timed) / len(timed) if timed else math.nan,
            "misplaced": sum(v is False for v in verdicts) / len(verdicts) if verdicts else math.nan,
            "prompts": float(len(timed))}
