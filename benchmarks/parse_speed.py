"""Parse speed of lib.kakao.read_chat on a synthetic export of real size, against the floor of reading it.

The synthetic export tiles the fictional sample chat (lib.sample.generate) with shifted dates until the
file has the requested size, rendered with lib.kakao.render_chat, so it has the real mix of placeholders,
system lines and multi-line messages. The timing runs in a fresh process so peak memory is the parser's.

    flock /tmp/malbeot-heavy.lock .venv/bin/python benchmarks/parse_speed.py              # 93 MB pc_ko
    .venv/bin/python benchmarks/parse_speed.py --size-mb 5 --format android_ko             # quick look
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from lib import kakao  # noqa: E402
from lib.fileio import write_json  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "parse_speed.json"


def write_synthetic(path: str | Path, size_mb: float = 93, fmt: str = "pc_ko", seed: int = 0) -> Path:
    """Write a deterministic synthetic `fmt` export of about `size_mb` MB to `path`; returns the path.

    The sample chat is repeated back to back, each copy moved past the end of the previous one, so
    times keep increasing and every copy renders exactly like the original.
    """
    from lib import sample

    base = sample.generate(seed)
    span = (base["time"].max().normalize() - base["time"].min().normalize()) + pd.Timedelta(days=1)
    one = kakao.render_chat(base, fmt, title="최서연", saved_at=base["time"].max())
    per_copy = len(one.encode("utf-8"))
    copies = max(1, int(round(size_mb * 1_000_000 / per_copy)))
    # datetime64[ns] ends in 2262: keep all copies inside it by starting early enough
    start = pd.Timestamp("1900-01-01") - base["time"].min().normalize()
    if pd.Timestamp("1900-01-01") + span * copies > pd.Timestamp("2260-01-01"):
        raise ValueError(f"size_mb={size_mb}: too many copies ({copies}) for datetime64[ns]")
    frames = []
    for i in range(copies):
        f = base.copy()
        f["time"] = f["time"] + start + span * i
        frames.append(f)
    big = pd.concat(frames, ignore_index=True)
    text = kakao.render_chat(big, fmt, title="최서연", saved_at=big["time"].max())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a file that is written whole or not at all
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.replace(path)
    return path


def _measure(path: str) -> dict:
    """Run in a fresh interpreter: floor (read + decode + split lines), then read_chat; peak RSS."""
    import resource

    t = time.perf_counter()
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8").split("\n")
    floor_s = time.perf_counter() - t
    n_lines = len(lines)
    del lines
    t = time.perf_counter()
    df = kakao.read_chat(path)
    parse_s = time.perf_counter() - t
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"floor_s": floor_s, "parse_s": parse_s, "n_records": len(df), "n_lines": n_lines,
            "format_detected": df.attrs["format"], "warnings": len(df.attrs["warnings"]),
            "peak_rss_gb": peak_kb * 1024 / 1e9}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=float, default=93)
    ap.add_argument("--format", default="pc_ko", choices=kakao.FORMATS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="timing runs; the best is reported")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--measure", help=argparse.SUPPRESS)  # internal: time this file in this process
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(_measure(args.measure)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"synthetic_{args.format}.txt"
        t = time.perf_counter()
        write_synthetic(path, args.size_mb, args.format, args.seed)
        print(f"wrote {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f}s", flush=True)
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--measure", str(path)], capture_output=True,
                                 text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  parse {runs[-1]['parse_s']:.2f}s  floor {runs[-1]['floor_s']:.2f}s  "
                  f"peak {runs[-1]['peak_rss_gb']:.2f} GB", flush=True)
        size_mb = path.stat().st_size / 1e6
    best = min(runs, key=lambda r: r["parse_s"] / r["floor_s"])
    result = {
        "format": args.format, "size_mb": round(size_mb, 1), "n_records": best["n_records"],
        "parse_s": round(best["parse_s"], 3), "floor_s": round(best["floor_s"], 3),
        "ratio": round(best["parse_s"] / best["floor_s"], 2),
        "peak_rss_gb": round(max(r["peak_rss_gb"] for r in runs), 3),
        "runs": [{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in runs],
        "goal": "parse_s < 5 and ratio < 8 and peak_rss_gb < 2",
    }
    write_json(args.out, result)
    print(f"{args.format} {result['size_mb']} MB, {result['n_records']} records: parse {result['parse_s']}s, "
          f"floor {result['floor_s']}s, ratio {result['ratio']}x, peak {result['peak_rss_gb']} GB -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
