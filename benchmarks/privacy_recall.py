"""Recall of lib.privacy per type on tests/data/privacy_cases.jsonl, share of innocent words kept, and
masking throughput on ~2.5 M synthetic chat messages (batched `mask_many` vs a per-message loop).

    .venv/bin/python benchmarks/privacy_recall.py                 # recall + keep + speed (2.5 M)
    .venv/bin/python benchmarks/privacy_recall.py --messages 0    # recall + keep only (what the test runs)
Writes benchmarks/results/privacy_recall.json. Run the speed part under `flock /tmp/malbeot-heavy.lock`.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.fileio import write_json  # noqa: E402
from lib.privacy import Anonymizer  # noqa: E402

CASES = ROOT / "tests" / "data" / "privacy_cases.jsonl"
OUT = ROOT / "benchmarks" / "results" / "privacy_recall.json"


def load_cases(path: Path = CASES) -> list[dict]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            c = json.loads(line)
            if "text" not in c or "spans" not in c:
                raise ValueError(f"{path}:{n}: expected keys text, spans (and known_names)")
            cases.append(c)
    return cases


def _innocent_tokens(text: str, values: list[str]) -> list[str]:
    """Whitespace tokens of `text` that overlap no personal value."""
    covered = [False] * len(text)
    for v in values:
        for m in re.finditer(re.escape(v), text):
            for i in range(m.start(), m.end()):
                covered[i] = True
    return [m.group(0) for m in re.finditer(r"\S+", text) if not any(covered[m.start():m.end()])]


def evaluate(cases: list[dict], key: str = "bench") -> dict:
    """Recall per type (value gone from the output) and the share of innocent tokens kept verbatim."""
    hit, total = Counter(), Counter()
    kept = innocent = 0
    misses, changed = [], []
    for c in cases:
        anon = Anonymizer(known_names=c.get("known_names", []), key=key)
        out = anon.mask(c["text"])
        for s in c["spans"]:
            total[s["type"]] += 1
            if s["value"] in out:
                misses.append({"text": c["text"], "value": s["value"], "type": s["type"], "masked": out})
            else:
                hit[s["type"]] += 1
        toks = _innocent_tokens(c["text"], [s["value"] for s in c["spans"]])
        out_toks = Counter(out.split())
        for t in toks:
            innocent += 1
            if out_toks[t] > 0:
                out_toks[t] -= 1
                kept += 1
            else:
                changed.append({"text": c["text"], "token": t, "masked": out})
    per_type = {t: round(hit[t] / total[t], 4) for t in sorted(total)}
    n_all = sum(total.values())
    return {
        "cases": len(cases), "personal_values": n_all,
        "recall": round(sum(hit.values()) / n_all, 4) if n_all else 1.0,
        "recall_per_type": per_type, "values_per_type": dict(sorted(total.items())),
        "innocent_tokens": innocent, "keep_rate": round(kept / innocent, 4) if innocent else 1.0,
        "misses": misses, "innocent_changed": changed,
    }


# ----------------------------------------------------------------------------- speed
_FRAG = ("ㅋㅋㅋ ㅋㅋㅋㅋㅋ ㅎㅎ 응 ㅇㅇ 아니 웅웅 헐 대박 진짜? 알겠어 고마워 미안해 사랑해 보고싶어 뭐해? 자? 잘자 굿모닝 "
         "배고파 밥먹었어? 나 지금 퇴근 출근했어 오늘 너무 피곤하다 내일 몇시에 볼까 주말에 영화 볼래 그거 재밌대 "
         "집에 가는 중 버스 탔어 지하철 사람 개많아 날씨 좋다 비온대 우산 챙겨 감기 조심해 약 먹었어? 회의 길어짐 "
         "점심 뭐먹지 저녁 같이 먹자 카페 갈까 여기 분위기 좋다 사진 보내줘 이거 봐봐 완전 귀엽다 ㅠㅠ 너무해 "
         "오빠 언니 자기야 엄마가 아빠가 친구가 동생이 회사에서 학교에서 오늘은 어제 내일 다음주 토요일에 일요일에").split()
_NAMES = "지훈 민준 서현 수빈 하은 예린 현우 은지 태훈 준영 다인 혜린 동현 상훈 유진 성민".split()
_CUES = ["이가", "이랑", "이한테", "아", "이도", "씨", "이는"]
_NUM = ["{h}시 {m}분에", "{p},000원", "{n}명", "{n}개", "{y}년 {mo}월", "{mo}월 {d}일", "{n}번 출구", "{h}:{m}"]


def synth_messages(n: int, seed: int = 0) -> list[str]:
    """Chat-like messages: mostly short fragments, ~10% numbers, ~7% names, ~0.3% real identifiers."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        r = rng.random()
        k = 1 if r < 0.55 else 2 if r < 0.85 else 3
        parts = [rng.choice(_FRAG) for _ in range(k)]
        r = rng.random()
        if r < 0.10:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(_NUM).format(
                h=rng.randint(1, 12), m=rng.randint(0, 59), p=rng.randint(1, 99), n=rng.randint(1, 20),
                y=rng.randint(2015, 2025), mo=rng.randint(1, 12), d=rng.randint(1, 28)))
        elif r < 0.17:
            name = rng.choice(_NAMES)
            cue = rng.choice(_CUES)
            if cue[0] == "이" and not ((ord(name[-1]) - 0xAC00) % 28):
                cue = cue[1:] or "야"
            if cue == "아" and not ((ord(name[-1]) - 0xAC00) % 28):
                cue = "야"
            parts.insert(0, name + cue)
        elif r < 0.173:
            parts.append(rng.choice([f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                                     f"user{rng.randint(1, 999)}@naver.com", f"카뱅 3333-{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}",
                                     f"{rng.randint(101, 120)}동 {rng.randint(101, 1504)}호"]))
        if rng.random() < 0.25:
            parts.append("ㅋ" * rng.randint(2, 8))
        out.append(" ".join(parts))
    return out


SHARED = Path("/work/shared/corpora/kakao")


def real_vocab_messages(n: int, seed: int = 0) -> list[str] | None:
    """Messages of 1-4 words drawn (by frequency) from the words of the shared real exports: the
    vocabulary, and so the number of kiwi look-ups, of real chat. None if the exports are absent."""
    from lib.kakao import read_chat
    words: Counter = Counter()
    for f in sorted(SHARED.glob("*.txt")) if SHARED.is_dir() else []:
        try:
            df = read_chat(f)
        except Exception:
            continue
        for t in df.text[df.kind == "text"]:
            words.update(t.split())
    if not words:
        return None
    rng = random.Random(seed)
    pool, weights = zip(*words.items())
    picks = iter(rng.choices(pool, weights=weights, k=n * 3))
    return [" ".join(next(picks) for _ in range(rng.choice((1, 1, 2, 2, 3, 4)) if i % 3 else 1))
            for i in range(n)]


def speed(n: int, known=("김민지", "박준호"), texts: list[str] | None = None) -> dict:
    texts = texts or synth_messages(n)
    from lib import privacy
    kiwi_caches = (privacy._is_common, privacy._is_word, privacy._kiwi_nnp, privacy._vocative, privacy._nominal,
                   privacy._full_name_level, privacy._known_given, privacy._surname_first, privacy._unknown)
    for f in kiwi_caches:  # each run pays for its own kiwi look-ups
        f.cache_clear()
    t0 = time.perf_counter()
    anon = Anonymizer(known_names=known, key="bench")
    anon.mask("지훈이가 010-1234-5678")  # load kiwi outside the timed region (counted separately)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    masked = anon.mask_many(texts)
    t_batch = time.perf_counter() - t0
    # per-message loop on a slice, no cache or prefilter: what a naive implementation would do
    sub = texts[:20_000]
    naive = Anonymizer(known_names=known, key="bench")
    naive.mask("지훈이가")
    t0 = time.perf_counter()
    for t in sub:
        naive._cache.clear()  # per message, no string cache: what a naive loop would do
        naive.mask(t)
    t_naive = (time.perf_counter() - t0) * len(texts) / len(sub)
    assert len(masked) == len(texts)
    kiwi_calls = sum(f.cache_info().currsize for f in kiwi_caches)
    return {"messages": n, "unique": len(set(texts)), "seconds": round(t_batch, 2), "kiwi_lookups": kiwi_calls,
            "candidate_words_decided": len(anon._decision),
            "messages_per_s": round(n / t_batch), "kiwi_load_s": round(t_load, 2),
            "naive_loop_seconds_extrapolated": round(t_naive, 1),
            "speedup_vs_naive_loop": round(t_naive / t_batch, 1),
            "counts": dict(anon.counts)}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=2_500_000, help="synthetic messages for the speed run (0 = skip)")
    ap.add_argument("--show", type=int, default=20, help="misses / changed tokens to print")
    args = ap.parse_args(argv)
    res = evaluate(load_cases())
    print(f"cases {res['cases']}  personal values {res['personal_values']}  recall {res['recall']:.2%}  "
          f"innocent tokens {res['innocent_tokens']}  kept {res['keep_rate']:.2%}")
    for t, r in res["recall_per_type"].items():
        print(f"  {t:6s} {r:7.2%}  (n={res['values_per_type'][t]})")
    for m in res["misses"][:args.show]:
        print("  MISS", m["type"], repr(m["value"]), "|", m["masked"])
    for m in res["innocent_changed"][:args.show]:
        print("  CHANGED", repr(m["token"]), "|", m["text"], "->", m["masked"])
    if args.messages:
        res["speed"] = speed(args.messages)
        real = real_vocab_messages(args.messages)
        if real:
            res["speed_real_vocabulary"] = speed(args.messages, texts=real)
        for key in ("speed", "speed_real_vocabulary"):
            if key in res:
                s = res[key]
                print(f"{key}: {s['messages']:,} messages ({s['unique']:,} unique) in {s['seconds']} s = "
                      f"{s['messages_per_s']:,}/s; kiwi load {s['kiwi_load_s']} s; "
                      f"{s['speedup_vs_naive_loop']}x faster than a per-message loop")
    elif OUT.exists():  # keep the last speed measurement when only recall was rerun
        old = json.loads(OUT.read_text(encoding="utf-8"))
        for key in ("speed", "speed_real_vocabulary"):
            if key in old:
                res[key] = old[key]
    write_json(OUT, res)
    return res


if __name__ == "__main__":
    main()
