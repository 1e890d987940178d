"""His rhythm between bubbles: the pauses he leaves between the bubbles of one turn, measured on the chat
when the dataset is built (card.json, copied into the run's malbeot.json) and drawn again on the page.

    pacing = bubble_gaps(times, is_me, turn)      # {"resolution_s", "gaps", "quantiles": [[q, s], ...]}
    pause = draw(pacing, random.random(), cap_s=3.0)

KakaoTalk exports mostly stamp minutes (seconds only in Mac's CSV). With minute stamps a gap inside
the same minute is unknown, so each of his turns counts once, at its span spread over its bubbles:
k bubbles in one minute are taken as evenly spread over it (k uniform points span 60(k-1)/(k+1) s on
average), a turn over several minutes as its stamped span.
"""
from __future__ import annotations

import bisect

QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
DEFAULT_CAP_S = 3.0     # the page never waits longer than this between two bubbles


def bubble_gaps(times, is_me, turn) -> dict:
    """Seconds between his consecutive bubbles within a turn, as quantiles. `times` in time order
    (datetime64 or anything numpy turns into it), `is_me` booleans, `turn` ids as lib.pairs.segment."""
    import numpy as np

    t = np.asarray(times, dtype="datetime64[ns]").astype("int64") / 1e9
    me = np.asarray(is_me, dtype=bool)
    turn = np.asarray(turn)
    minutes = bool(len(t)) and bool(np.all(np.mod(t, 60) == 0))
    gaps: list[float] = []
    if len(t):
        starts = np.flatnonzero(np.r_[True, turn[1:] != turn[:-1]])
        ends = np.r_[starts[1:], len(t)]
        for a, b in zip(starts, ends):
            k = b - a
            if k < 2 or not me[a]:
                continue
            if minutes:
                span = float(t[b - 1] - t[a])
                gaps.append(max(span, 60.0 * (k - 1) / (k + 1)) / (k - 1))
            else:
                gaps += np.diff(t[a:b]).tolist()
    qs = np.quantile(np.asarray(gaps), QUANTILES).round(2).tolist() if gaps else []
    return {"resolution_s": 60 if minutes else 1, "gaps": len(gaps),
            "quantiles": [[q, s] for q, s in zip(QUANTILES, qs)]}


def draw(pacing: dict | None, u: float, cap_s: float = DEFAULT_CAP_S) -> float:
    """The pause before his next bubble: quantile `u` (0..1) of the measured gaps, linear between the
    stored quantiles, at most `cap_s`. 0 when nothing was measured (an older run)."""
    points = (pacing or {}).get("quantiles") or []
    if not points:
        return 0.0
    qs, secs = [p[0] for p in points], [float(p[1]) for p in points]
    if u <= qs[0]:
        value = secs[0]
    elif u >= qs[-1]:
        value = secs[-1]
    else:
        i = bisect.bisect_right(qs, u)
        w = (u - qs[i - 1]) / (qs[i] - qs[i - 1])
        value = secs[i - 1] + w * (secs[i] - secs[i - 1])
    return max(0.0, min(float(cap_s), value))
