"""Recall of lib.privacy per type and share of innocent words kept, on the old labelled set and on each
fresh batch (written after a round of fixes, never tuned on), before (a git baseline) and after; plus
masking throughput on synthetic chat messages.

    .venv/bin/python benchmarks/privacy_recall.py                 # recall + keep + speed (1.6 M messages)
    .venv/bin/python benchmarks/privacy_recall.py --messages 0    # recall + keep only
    .venv/bin/python benchmarks/privacy_recall.py --baseline 2ecb5cc   # "before" = privacy.py at that commit
    .venv/bin/python benchmarks/privacy_recall.py --review-real   # outputs/privacy/review_real.tsv + a sample to label
    .venv/bin/python benchmarks/privacy_recall.py --score-labels outputs/privacy/review_sample_labels.tsv
        # the sample with a `real` column filled by hand (1 real, 0 not, link): precision into the JSON
    .venv/bin/python benchmarks/privacy_recall.py --score-detections outputs/privacy/detected_all_labels.tsv ...
        # every detection of the masker's own (not a speaker name, not a link) on the real exports, joined
        # with hand labels per distinct value (type, value, real): precision into the JSON; the values
        # still unlabelled go to outputs/privacy/detected_unlabelled.tsv (label them, then run again)
Writes benchmarks/results/privacy_recall.json. Run the speed part under `flock /tmp/malbeot-heavy.lock`.

A value counts as masked only if neither it nor any 4+ character alphanumeric (or Hangul-numeral) chunk
of it survives: "010 다음에 3847 그다음 9216" with 9216 left over is a miss. Cases may list `hard`
words (ordinary words that look like names or addresses); their keep rate is reported on its own.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.fileio import write_json  # noqa: E402

DATA = ROOT / "tests" / "data"
CASES = DATA / "privacy_cases.jsonl"          # the old set: rules were tuned on it
OUT = ROOT / "benchmarks" / "results" / "privacy_recall.json"
BASELINE = "2ecb5cc"  # the commit before issue 11's privacy work


def case_files() -> dict[str, Path]:
    """{"old": privacy_cases.jsonl, "fresh1": privacy_fresh1.jsonl, ...}"""
    files = {"old": CASES}
    for p in sorted(DATA.glob("privacy_fresh*.jsonl")):
        files[p.stem.removeprefix("privacy_")] = p
    return files


def load_cases(path: Path = CASES) -> list[dict]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            c = json.loads(line)
            if "text" not in c or "spans" not in c:
                raise ValueError(f"{path}:{n}: expected keys text, spans (and known_names, keep_words, hard)")
            for v in [s["value"] for s in c["spans"]] + c.get("hard", []):
                if v not in c["text"]:
                    raise ValueError(f"{path}:{n}: {v!r} is not in the text")
            cases.append(c)
    return cases


_CHUNK = re.compile(r"[A-Za-z0-9]{4,}|(?<![가-힣])[공영일이삼사오육칠팔구]{4}(?![가-힣])")


def leaked(value: str, out: str) -> bool:
    """The value, or an identifying piece of it (a 4+ char alphanumeric run), is still in `out`."""
    if value in out:
        return True
    chunks = _CHUNK.findall(value)
    return len(chunks) > 1 and any(re.search(rf"(?<![A-Za-z0-9]){re.escape(c)}(?![A-Za-z0-9])", out) for c in chunks)


def _innocent_tokens(text: str, values: list[str]) -> list[str]:
    """Whitespace tokens of `text` that overlap no personal value."""
    covered = [False] * len(text)
    for v in values:
        for m in re.finditer(re.escape(v), text):
            for i in range(m.start(), m.end()):
                covered[i] = True
    return [m.group(0) for m in re.finditer(r"\S+", text) if not any(covered[m.start():m.end()])]


def evaluate(cases: list[dict], key: str = "bench", privacy=None) -> dict:
    """Recall per type, share of innocent tokens kept verbatim, share of `hard` words kept."""
    if privacy is None:
        from lib import privacy
    hit, total = Counter(), Counter()
    kept = innocent = hard_kept = hard_total = 0
    misses, changed, hard_changed = [], [], []
    takes_keep = "keep_words" in privacy.Anonymizer.__init__.__code__.co_varnames
    t0 = time.perf_counter()
    for c in cases:
        kw = {"keep_words": c.get("keep_words", [])} if takes_keep else {}
        anon = privacy.Anonymizer(known_names=c.get("known_names", []), key=key, **kw)
        out = anon.mask(c["text"])
        for s in c["spans"]:
            total[s["type"]] += 1
            if leaked(s["value"], out):
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
        for w in c.get("hard", []):
            hard_total += 1
            if w in out:
                hard_kept += 1
            else:
                hard_changed.append({"text": c["text"], "word": w, "masked": out})
    n_all = sum(total.values())
    return {
        "cases": len(cases), "personal_values": n_all,
        "recall": round(sum(hit.values()) / n_all, 4) if n_all else 1.0,
        "recall_names": round(hit["이름"] / total["이름"], 4) if total["이름"] else 1.0,
        "recall_non_names": round((sum(hit.values()) - hit["이름"]) / (n_all - total["이름"]), 4)
        if n_all > total["이름"] else 1.0,
        "recall_per_type": {t: round(hit[t] / total[t], 4) for t in sorted(total)},
        "values_per_type": dict(sorted(total.items())),
        "innocent_tokens": innocent, "keep_rate": round(kept / innocent, 4) if innocent else 1.0,
        "hard_words": hard_total, "keep_rate_hard": round(hard_kept / hard_total, 4) if hard_total else None,
        "seconds": round(time.perf_counter() - t0, 2),
        "misses": misses, "innocent_changed": changed, "hard_changed": hard_changed,
    }


def baseline_module(ref: str):
    """lib/privacy.py as it was at git `ref`, imported under another name (it imports no lib module)."""
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:lib/privacy.py"], check=True,
                         capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / f"privacy_{ref}.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"privacy_{ref}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


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


SHARED = ROOT.parent / "shared" / "corpora" / "kakao"


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


def _kiwi_caches(privacy) -> list:
    return [f for f in vars(privacy).values() if callable(getattr(f, "cache_clear", None)) and f is not privacy._kiwi]


def speed(n: int, known=("김민지", "박준호"), texts: list[str] | None = None, privacy=None) -> dict:
    if privacy is None:
        from lib import privacy
    texts = texts or synth_messages(n)
    caches = _kiwi_caches(privacy)
    for f in caches:  # each run pays for its own kiwi look-ups
        f.cache_clear()
    t0 = time.perf_counter()
    anon = privacy.Anonymizer(known_names=known, key="bench")
    anon.mask("지훈이가 010-1234-5678")  # load kiwi outside the timed region (counted separately)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    masked = anon.mask_many(texts)
    t_batch = time.perf_counter() - t0
    assert len(masked) == len(texts)
    return {"messages": len(texts), "unique": len(set(texts)), "seconds": round(t_batch, 2),
            "kiwi_lookups": sum(f.cache_info().currsize for f in caches),
            "messages_per_s": round(len(texts) / t_batch), "kiwi_load_s": round(t_load, 2),
            "counts": dict(anon.counts)}


def scan_speed(texts: list[str]) -> dict:
    """lib.leakscan over already masked texts (what the dataset builder's final check does)."""
    from lib import leakscan, privacy
    anon = privacy.Anonymizer(known_names=("김민지", "박준호"), key="bench")
    masked = anon.mask_many(texts)
    leakscan.use_kiwi(privacy._kiwi())  # as the builder would: one Kiwi per process
    t0 = time.perf_counter()
    found = leakscan.scan(masked, names=("김민지", "박준호"), pseudonyms=anon.seen.pseudonyms)
    return {"messages": len(texts), "seconds": round(time.perf_counter() - t0, 2),
            "findings": dict(Counter(f.type for f in found))}


def _real_replacements():
    """(file name, type, raw value, message, is a speaker name) for every replacement the masker makes in the
    shared real exports, speakers given as known names as the build does (exports that do not parse are
    skipped)."""
    from lib import privacy
    from lib.kakao import read_chat
    for f in sorted(SHARED.glob("*")):
        if f.suffix not in (".txt", ".csv"):
            continue
        try:
            df = read_chat(f)
        except Exception:
            continue
        anon = privacy.Anonymizer(known_names=sorted(set(df.speaker.dropna())), key="review")
        texts = df.text[df.kind == "text"].tolist()
        anon.mask_many(texts)
        for t in texts:
            for typ, raw in anon._cache[t][1]:
                yield f.name, typ, raw, t, typ == privacy.NAME and raw in anon._known_forms


def review_real(sample: int = 320, seed: int = 0) -> dict:
    """Mask every text message of the shared real exports (speakers as known names, as the build does)
    and write each replaced span with its count to outputs/privacy/review_real.tsv, plus a seeded random
    sample of replacements (with the raw message, to label by hand) to review_sample.tsv. Both stay
    under outputs/ (git-ignored): the exports are third-party data."""
    from lib import config
    rows, events = Counter(), []
    for name, typ, raw, t, speaker in _real_replacements():
        how = "speaker" if speaker else "detected"
        rows[(typ, how, raw)] += 1
        events.append((name, typ, how, raw, t))
    out = config.outputs() / "privacy"
    lines = ["type\thow\tvalue\tcount"] + [f"{t}\t{h}\t{v}\t{n}" for (t, h, v), n in rows.most_common()]
    from lib.fileio import write_text
    write_text(out / "review_real.tsv", "\n".join(lines) + "\n")
    rng = random.Random(seed)
    picks = rng.sample(range(len(events)), min(sample, len(events)))
    clean = lambda s: s.replace("\t", " ").replace("\n", " / ")  # noqa: E731
    write_text(out / "review_sample.tsv", "n\tfile\ttype\thow\tvalue\tmessage\treal\n" + "".join(
        f"{k}\t{events[i][0]}\t{events[i][1]}\t{events[i][2]}\t{clean(events[i][3])}\t{clean(events[i][4])}\t\n"
        for k, i in enumerate(picks)))
    return {"replacements": len(events), "distinct": len(rows), "sample": len(picks),
            "per_type": dict(Counter(e[1] for e in events)), "detected": sum(e[2] == "detected" for e in events)}


def score_labels(path: Path) -> dict:
    """Precision of a hand-labelled review sample (review_sample.tsv plus a `real` column: 1 = a real
    personal value, 0 = not, `link` = a URL, which the build tags anyway): the masker's own detections,
    the speaker names it was given, and both. Only counts leave outputs/."""
    import csv
    rows = list(csv.DictReader(open(path, encoding="utf-8"), delimiter="\t"))
    if not rows or "real" not in rows[0] or any(r["real"] not in ("0", "1", "link") for r in rows):
        raise ValueError(f"{path}: every row needs real = 1, 0 or link")

    def share(rs):
        return {"real": sum(r["real"] == "1" for r in rs), "labelled": len(rs),
                "precision": round(sum(r["real"] == "1" for r in rs) / len(rs), 4) if rs else None}
    labelled = [r for r in rows if r["real"] != "link"]
    return {"sample": len(rows), "links": len(rows) - len(labelled),
            "detected": share([r for r in labelled if r["how"] == "detected"]),
            "speaker": share([r for r in labelled if r["how"] != "detected"]), "all": share(labelled)}


def score_detections(label_files: list[Path]) -> dict:
    """Precision over ALL the masker's own detections on the shared real exports (speakers as known
    names, as the build does; links left out: the build tags every link), from hand labels per distinct
    (type, value). Writes the unlabelled ones, with two example messages, under outputs/ (third-party
    data stays there); only counts leave."""
    import csv
    from lib import config
    from lib.fileio import write_text
    labels = {}
    for path in label_files:
        for r in csv.DictReader(open(path, encoding="utf-8"), delimiter="\t"):
            labels[(r["type"], r["value"])] = r["real"]
    rows, examples = Counter(), {}
    for _, typ, raw, t, speaker in _real_replacements():
        if typ == "URL" or speaker:
            continue
        rows[(typ, raw)] += 1
        examples.setdefault((typ, raw), []).append(t.replace("\t", " ").replace("\n", " / ")[:160])
    unl = [(k, n) for k, n in rows.most_common() if k not in labels]
    write_text(config.outputs() / "privacy" / "detected_unlabelled.tsv", "type\tvalue\tcount\treal\texamples\n" + "".join(
        f"{t}\t{v}\t{n}\t\t{' || '.join(examples[(t, v)][:2])}\n" for (t, v), n in unl))
    labelled = {k: n for k, n in rows.items() if k in labels}
    real = sum(n for k, n in labelled.items() if labels[k] == "1")
    total = sum(labelled.values())
    return {"detections": sum(rows.values()), "distinct": len(rows), "labelled": total, "real": real,
            "precision": round(real / total, 4) if total else None,
            "unlabelled": sum(n for _, n in unl), "per_type": dict(Counter(t for (t, _), n in rows.items() for _ in range(n)))}


def _summary(res: dict) -> str:
    per = "  ".join(f"{t} {r:.2f}" for t, r in res["recall_per_type"].items())
    hard = f"{res['keep_rate_hard']:.2%}" if res["keep_rate_hard"] is not None else "-"
    return (f"recall {res['recall']:.2%} (names {res['recall_names']:.2%}, other {res['recall_non_names']:.2%})  "
            f"kept {res['keep_rate']:.2%}  hard kept {hard}\n    {per}")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_600_000, help="synthetic messages for the speed run (0 = skip)")
    ap.add_argument("--baseline", default=BASELINE, help="git ref whose lib/privacy.py is 'before' ('' = skip)")
    ap.add_argument("--show", type=int, default=15, help="misses / changed tokens to print per set")
    ap.add_argument("--round", help="also record this run's 'after' numbers under this name in `rounds`")
    ap.add_argument("--review-real", action="store_true", help="only write the real-export review files")
    ap.add_argument("--score-labels", type=Path, help="only score a hand-labelled review sample into the JSON")
    ap.add_argument("--score-detections", type=Path, nargs="+",
                    help="only score every real-export detection against hand labels per value into the JSON")
    args = ap.parse_args(argv)
    if args.review_real:
        res = review_real()
        print(res)
        return res
    old = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    if args.score_labels:
        old["real_review"] = score_labels(args.score_labels)
        print(old["real_review"])
        write_json(OUT, old)
        return old
    if args.score_detections:
        old["real_detections"] = score_detections(args.score_detections)
        print(old["real_detections"])
        write_json(OUT, old)
        return old
    base = baseline_module(args.baseline) if args.baseline else None
    res = {"baseline": args.baseline or old.get("baseline"), "sets": {}, "rounds": old.get("rounds", [])}
    for name, path in case_files().items():
        cases = load_cases(path)
        entry = {"file": str(path.relative_to(ROOT))}
        if base is not None:
            entry["before"] = evaluate(cases, privacy=base)
        elif "before" in old.get("sets", {}).get(name, {}):
            entry["before"] = old["sets"][name]["before"]
        entry["after"] = evaluate(cases)
        res["sets"][name] = entry
        for label in ("before", "after"):
            if label in entry:
                print(f"{name:7s} {label:6s} {_summary(entry[label])}")
        for m in entry["after"]["misses"][:args.show]:
            print("    MISS", m["type"], repr(m["value"]), "|", m["masked"])
        for m in (entry["after"]["hard_changed"] + entry["after"]["innocent_changed"])[:args.show]:
            print("    CHANGED", repr(m.get("word") or m.get("token")), "|", m["text"], "->", m["masked"])
    if args.round:  # the fresh number of a batch is the first round after it was written
        res["rounds"] = [r for r in res["rounds"] if r["round"] != args.round] + [{"round": args.round, **{
            name: {k: e["after"][k] for k in ("recall", "recall_names", "recall_non_names", "keep_rate", "keep_rate_hard")}
            for name, e in res["sets"].items()}}]
    if args.messages:
        texts = synth_messages(args.messages)
        res["speed"] = {"after": speed(args.messages, texts=texts)}
        if base is not None:
            res["speed"]["before"] = speed(args.messages, texts=texts, privacy=base)
        real = real_vocab_messages(args.messages)
        if real:
            res["speed_real_vocabulary"] = {"after": speed(args.messages, texts=real)}
            if base is not None:
                res["speed_real_vocabulary"]["before"] = speed(args.messages, texts=real, privacy=base)
        res["scan_speed"] = scan_speed(texts)
        for label, s in [(f"{k} {lb}", v) for k in ("speed", "speed_real_vocabulary") for lb, v in res.get(k, {}).items()]:
            print(f"{label}: {s['messages']:,} messages ({s['unique']:,} unique) in {s['seconds']} s = "
                  f"{s['messages_per_s']:,}/s; kiwi load {s['kiwi_load_s']} s")
        print(f"leak scan: {res['scan_speed']['seconds']} s")
    else:  # keep the last speed measurement when only recall was rerun
        for key in ("speed", "speed_real_vocabulary", "scan_speed"):
            if key in old:
                res[key] = old[key]
    for key in ("real_review", "real_detections"):  # hand labels are scored on their own (--score-labels)
        if key in old:
            res[key] = old[key]
    write_json(OUT, res)
    return res


if __name__ == "__main__":
    main()
