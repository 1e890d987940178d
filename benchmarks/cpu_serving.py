"""CPU serving benchmark (issue 6 §3): which engine makes the chat page fast inside Streamlit Community
Cloud's ~2 CPUs / ~2.7 GB. Full-size polyglot-ko-1.3b and EEVE-2.8B with random weights (lib.models.standin,
no download); every backend in a FRESH process on 2 threads: peak RSS including loading, time to first
token for a 200-token prompt, tokens/s over 64 forced new tokens (EOS banned). JSON to
benchmarks/results/cpu_serving.json, ratios vs the torch bf16 baseline measured in the same run.

    flock /tmp/malbeot-heavy.lock .venv/bin/python benchmarks/cpu_serving.py
    .venv/bin/python benchmarks/cpu_serving.py --models polyglot-ko-1.3b --backends llamacpp-Q4_K_M torch-bf16

--chat measures the page's own path instead (issue 13 §4): lib.chat.Chatbot.stream on LlamaCppBackend with
the Q4_K_M GGUF at the page's n_ctx (2048), 2 threads, a 6-turn conversation with the rtx3060ti profile's
generation settings; per turn the first-token time (the first sampled token), tokens/s, the process CPU
seconds to the first token and how much of the prompt llama.cpp had cached, and the peak RSS including
load. With warm-up = the page now (prefix read at load, next prompt read while she types) and without
(the page before issue 13); the first-turn ratio is printed;
--python runs the workers in another venv, e.g. the page's own install with the portable llama.cpp build:

    flock /tmp/malbeot-heavy.lock .venv/bin/python benchmarks/cpu_serving.py --chat
    .venv/bin/python benchmarks/cpu_serving.py --chat --python /tmp/appvenv/venv/bin/python --build portable

Artefacts (several GB, not committed) go to outputs/bench/<model>/: hf/ (random weights + a byte-level
tokenizer padded to the model's vocab), model-Q8_0.gguf, model-Q4_K_M.gguf, nf4/.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib import config, fileio, models  # noqa: E402  (export and tiny only where weights are built)

OUT = ROOT / "benchmarks" / "results" / "cpu_serving.json"
BENCH = config.outputs() / "bench"
MODELS = ["polyglot-ko-1.3b", "eeve-2.8b"]
BACKENDS = ["torch-bf16", "torch-nf4", "nf4-prequantized", "llamacpp-Q8_0", "llamacpp-Q4_K_M",
            "llamacpp-Q4_K_M-nommap", "llamacpp-Q4_0", "torch-int8-dynamic"]
# llamacpp-<q> maps the GGUF (use_mmap=True); -nommap reads it into llama.cpp's buffers, which is
# LlamaCppBackend's default since it measured lower (Q4 weights are repacked into a copy anyway).
FOLLOWUP_TOKENS = 30   # her next message: llama.cpp re-reads only these (KV cache of the shared prefix)
THREADS = 2
PROMPT_TOKENS = 200
NEW_TOKENS = 64
GOALS = {"polyglot-ko-1.3b": dict(tokens_per_s=30.0, ttft_s=1.0, peak_rss_gb=1.8),
         "eeve-2.8b": dict(tokens_per_s=18.0, peak_rss_gb=2.2)}
INT8_FREE_GB = {"polyglot-ko-1.3b": 14.0, "eeve-2.8b": 30.0}   # it peaked at 12.9 GB for polyglot
GB = 1024 ** 3


# ------------------------------------------------------------------------------------ artefacts
def prepare(name: str, quants=("Q8_0", "Q4_K_M", "Q4_0"), nf4: bool = True) -> Path:
    """Random full-size weights + tokenizer, the GGUFs and the nf4 folder (each built once)."""
    import torch

    from lib import export, tiny

    root = BENCH / name
    hf = root / "hf"
    if not (hf / "config.json").is_file():
        tok = models.load_tokenizer(tiny.ensure("tiny-neox"))   # byte-level BPE like polyglot's
        t0 = time.perf_counter()
        model = models.standin(name, device="cpu")
        with fileio.atomic_path(hf) as tmp:
            model.save_pretrained(tmp, max_shard_size="2GB")
            tok.save_pretrained(tmp)
        del model
        print(f"[{name}] random weights saved in {time.perf_counter() - t0:.0f}s", flush=True)
    for q in quants:
        path = root / f"model-{q}.gguf"
        if not path.is_file():
            t0 = time.perf_counter()
            export.to_gguf(hf, path, q, threads=THREADS)
            print(f"[{name}] {path.name}: {path.stat().st_size / GB:.2f} GB in {time.perf_counter() - t0:.0f}s",
                  flush=True)
    if nf4 and not (root / "nf4" / "config.json").is_file():
        t0 = time.perf_counter()
        export.quantize_4bit(hf, root / "nf4")
        print(f"[{name}] nf4 folder in {time.perf_counter() - t0:.0f}s", flush=True)
    torch.set_num_threads(THREADS)
    return root


# --------------------------------------------------------------------------------------- worker
def _prompts(vocab: int) -> list[list[int]]:
    """Two different 200-token prompts (no shared prefix, so llama.cpp cannot reuse its KV cache)."""
    import random

    rng = random.Random(0)
    return [[rng.randrange(100, min(vocab, 1900)) for _ in range(PROMPT_TOKENS)] for _ in range(2)]


def _torch_round(model, ids, eos_id: int) -> dict:
    import torch
    from transformers.generation.streamers import BaseStreamer

    class Clock(BaseStreamer):
        def __init__(self):
            self.times, self.seen_prompt = [], False

        def put(self, value):
            if self.seen_prompt:
                self.times.append(time.perf_counter())
            self.seen_prompt = True

        def end(self):
            pass

    clock = Clock()
    t0 = time.perf_counter()
    with torch.inference_mode():
        model.generate(torch.tensor([ids]), max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                       do_sample=False, streamer=clock, pad_token_id=eos_id, eos_token_id=eos_id)
    return _timing(t0, clock.times)


def _llama_round(llm, ids, n: int = NEW_TOKENS) -> dict:
    import numpy as np

    eos = llm.token_eos()

    def ban_eos(_ids, scores):
        scores[eos] = -np.inf
        return scores

    times, out = [], []
    t0 = time.perf_counter()
    for tok in llm.generate(ids, top_k=1, temp=0.0, repeat_penalty=1.0, logits_processor=[ban_eos]):
        times.append(time.perf_counter())
        out.append(tok)
        if len(times) == n:
            break
    return {**_timing(t0, times), "tokens": out}


def _timing(t0: float, times: list[float]) -> dict:
    n = len(times)
    return {"ttft_s": round(times[0] - t0, 3), "new_tokens": n,
            "tokens_per_s": round((n - 1) / (times[-1] - times[0]), 2) if n > 1 else None,
            "total_s": round(times[-1] - t0, 2)}


def worker(name: str, backend: str) -> dict:
    """One backend in this (fresh) process: load, two rounds, peak RSS from the kernel's high-water mark.
    torch is imported only by the torch backends: a llama.cpp page does not need it (~0.3 GB)."""
    if not backend.startswith("llamacpp"):
        import torch

        torch.set_num_threads(THREADS)
    root = BENCH / name
    hf = root / "hf"
    vocab = models.REGISTRY[name].arch["vocab_size"]
    eos = json.loads((hf / "config.json").read_text()).get("eos_token_id") or 0
    t0 = time.perf_counter()
    info: dict = {}
    if backend.startswith("llamacpp"):
        from lib.backends import LlamaCppBackend

        q = backend.split("-")[1]
        path = root / f"model-{q}.gguf"
        be = LlamaCppBackend(path, hf, n_ctx=512, threads=THREADS, n_batch=512,
                             use_mmap=not backend.endswith("nommap"))
        run = lambda ids: _llama_round(be.llm, ids)  # noqa: E731
        info["file_gb"] = round(path.stat().st_size / GB, 3)
    elif backend == "torch-int8-dynamic":
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32)
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8).eval()
        run = lambda ids: _torch_round(model, ids, eos)  # noqa: E731
    else:
        from lib.backends import LocalBackend

        if backend == "torch-bf16":
            be = LocalBackend(hf, quant=None, device="cpu")
        elif backend == "torch-nf4":      # quantized by bitsandbytes while loading the 16-bit weights
            be = LocalBackend(hf, quant="nf4", device="cpu")
        elif backend == "nf4-prequantized":  # lib.export.save_4bit output: PyPI wheels only
            be = LocalBackend(root / "nf4", device="cpu")
            info["file_gb"] = round(sum(f.stat().st_size for f in (root / "nf4").glob("*.safetensors")) / GB, 3)
        else:
            raise ValueError(f"unknown backend {backend!r}: expected one of {BACKENDS}")
        info["dtype"] = str(next(be.model.parameters()).dtype).replace("torch.", "")
        run = lambda ids: _torch_round(be.model, ids, eos)  # noqa: E731
    load_s = time.perf_counter() - t0
    rss_loaded = _rss_now()
    prompts = _prompts(vocab)
    cold, warm = (run(ids) for ids in prompts)
    if backend.startswith("llamacpp"):
        # the chat goes on: same history + what the bot said + her next message
        follow = prompts[1] + warm["tokens"] + prompts[0][:FOLLOWUP_TOKENS]
        info["ttft_followup_s"] = _llama_round(be.llm, follow, n=2)["ttft_s"]
    peak = _peak_rss_gb()
    return {"model": name, "backend": backend, "tokens_per_s": warm["tokens_per_s"], "ttft_s": warm["ttft_s"],
            "peak_rss_gb": round(peak, 3), "load_s": round(load_s, 1), "rss_after_load_gb": round(rss_loaded, 3),
            "ttft_first_request_s": cold["ttft_s"], "tokens_per_s_first_request": cold["tokens_per_s"],
            "prompt_tokens": PROMPT_TOKENS, "new_tokens": warm["new_tokens"], "threads": THREADS,
            "torch_imported": "torch" in sys.modules, **info}


def _peak_rss_gb() -> float:
    """This process's resident high-water mark (VmHWM). Not getrusage's ru_maxrss: Linux carries the
    parent's peak over fork+exec into it, which hid every child below the parent's 4.3 GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / GB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB


def _rss_now() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / GB
    return float("nan")



# ------------------------------------------------------------------------- the page's path, 6 turns
CHAT_GOALS = {"polyglot-ko-1.3b": dict(ttft_s=1.0, peak_rss_gb=1.8), "eeve-2.8b": dict(peak_rss_gb=2.2)}
# A fictional conversation in the sample couple's style. His side is replayed from this script rather
# than from the random model's output (96 tokens of noise a turn would make prompts no real chat has);
# llama.cpp therefore re-reads his reply each turn, a little more than it would in the app.
HER = ["오빠 오늘 점심 뭐 먹었어요? 나는 회사 앞에서 김치찌개 먹었어요 ㅎㅎ",
       "맞다 이번 주말에 영화 보기로 한 거 기억하죠? 예매는 내가 할게요",
       "토요일 저녁 7시 어때요? 끝나고 근처에서 파스타 먹어요",
       "오늘 비 온대요 우산 챙겼어요? 퇴근할 때 조심해요",
       "방금 집 도착했어요 ㅎㅎ 오빠는 아직 회사예요?",
       "너무 늦게까지 일하지 말고 들어가서 푹 자요 내일 아침에 연락할게요"]
HIS = ["난 제육 ㅋㅋ", "당연하지\n고마워 ㅎㅎ", "좋아 ㅋㅋ\n파스타 콜", "아 깜빡했다 ㅠ\n편의점에서 살게",
       "응 아직 ㅠ\n한 시간만 더 하고 갈게"]


def chat_worker(name: str, warm: bool, n_ctx: int | None = None) -> dict:
    """Load the page's backend as the page does (its n_ctx unless given), then six turns through Chatbot.stream."""
    sys.path.insert(0, str(ROOT / "app"))
    import common                                 # the page's own helpers (no Streamlit session needed)

    n_ctx = n_ctx or common.LLAMACPP_N_CTX
    import inspect
    from datetime import datetime, timedelta, timezone

    from lib import chat
    from lib.backends import LlamaCppBackend


    if not warm:                                  # the comparison: the page as it was before issue 13
        LlamaCppBackend.warm = lambda self, system=None, text=None: 0
    root = BENCH / name
    t0 = time.perf_counter()
    be = LlamaCppBackend(root / "model-Q4_K_M.gguf", root / "hf", n_ctx=n_ctx, threads=THREADS)
    load_s, rss_loaded = time.perf_counter() - t0, _rss_now()
    bot = chat.Chatbot(be, generation=config.load_profile("rtx3060ti")["generation"])
    attempts: list[dict] = []
    engine, sample = be.stream, be.llm.sample

    def timed_sample(*args, **kw):                # llama.cpp samples once per new token, right after decoding
        row = attempts[-1]
        row["times"].append(time.perf_counter() - row["start"])
        row.setdefault("cpu_first", sum(os.times()[:2]) - row["cpu0"])   # both threads' work, not the waiting
        return sample(*args, **kw)

    def timed(prompt, **kw):                      # the backend's stream, with the clock started on the call
        ids = be.prompt_ids(prompt)
        cached = next((i for i, (a, b) in enumerate(zip(be.llm._input_ids, ids)) if a != b),
                      min(be.llm.n_tokens, len(ids)))
        attempts.append({"prompt_tokens": len(ids), "cached_tokens": cached, "times": [],
                         "start": time.perf_counter(), "cpu0": sum(os.times()[:2])})
        yield from engine(prompt, **kw)

    be.llm.sample = timed_sample
    be.stream = timed
    tz_kw = {"tz": timezone(timedelta(hours=9))} if "tz" in inspect.signature(bot.stream).parameters else {}
    now = datetime.now(timezone.utc)
    history, turns = [], []
    for k, text in enumerate(HER):
        history.append({"role": "user", "content": text, "time": (now + timedelta(minutes=2 * k)).isoformat()})
        attempts.clear()
        t = time.perf_counter()
        bubbles = list(bot.stream(history, **tz_kw))
        total = time.perf_counter() - t
        first = attempts[0]
        n = len(first["times"])
        turns.append({"turn": k + 1, "prompt_tokens": first["prompt_tokens"], "cached_tokens": first["cached_tokens"],
                      "ttft_s": round(first["times"][0], 3) if n else None,
                      "ttft_cpu_s": round(first.get("cpu_first", float("nan")), 3),
                      # an estimate, not a measurement: the same work on two cores nobody else uses
                      "ttft_free_cores_est_s": round(first.get("cpu_first", float("nan")) / THREADS, 3), "new_tokens": n,
                      "tokens_per_s": round((n - 1) / (first["times"][-1] - first["times"][0]), 2) if n > 2 else None,
                      "attempts": len(attempts), "bubbles": len(bubbles), "turn_s": round(total, 2)})
        if k < len(HIS):
            history.append({"role": "assistant", "content": HIS[k],
                            "time": (now + timedelta(minutes=2 * k + 1)).isoformat()})
            if warm:                              # the page primes the next prompt while she types
                t = time.perf_counter()
                be.warm(text=common.next_prompt_start(bot, history))
                turns[-1]["primed_s"] = round(time.perf_counter() - t, 2)
    ttfts = [t["ttft_s"] for t in turns if t["ttft_s"] is not None]
    speeds = [t["tokens_per_s"] for t in turns if t["tokens_per_s"]]
    return {"model": name, "backend": "llamacpp-Q4_K_M", "mode": "chat-6-turns", "warm": warm, "n_ctx": be.context_length,
            "threads": THREADS, "llama_cpp": _llama_version(), "time_aware_prompt": bool(tz_kw), "nice": os.nice(0),
            "load_s": round(load_s, 1), "rss_after_load_gb": round(rss_loaded, 3), "peak_rss_gb": round(_peak_rss_gb(), 3),
            "max_ttft_s": max(ttfts) if ttfts else None, "first_turn_ttft_s": turns[0]["ttft_s"],
            "max_ttft_free_cores_est_s": max(t["ttft_free_cores_est_s"] for t in turns),
            "median_tokens_per_s": sorted(speeds)[len(speeds) // 2] if speeds else None, "turns": turns}


def summarize_chat(rows: list[dict]) -> None:
    """Ratios of the page now (warm-up + priming) to before, per model and build, into the warm rows."""
    for on in [r for r in rows if r.get("mode") == "chat-6-turns" and r.get("warm") and "error" not in r]:
        off = next((r for r in rows if r.get("mode") == "chat-6-turns" and r.get("warm") is False and "error" not in r
                    and r["model"] == on["model"] and r.get("build") == on.get("build")
                    and r.get("n_ctx") == on.get("n_ctx")), None)
        if off is None:
            continue
        on["first_turn_ttft_ratio_vs_no_warm"] = round(on["first_turn_ttft_s"] / off["first_turn_ttft_s"], 2)
        cpu = [(a["ttft_cpu_s"], b["ttft_cpu_s"]) for a, b in zip(on["turns"][1:], off["turns"][1:])]
        on["later_turns_cpu_ratio_vs_no_warm"] = round(sum(a for a, _ in cpu) / sum(b for _, b in cpu), 2)
        moved = max(range(1, len(off["turns"])), key=lambda i: off["turns"][i]["prompt_tokens"] - off["turns"][i]["cached_tokens"])
        on["window_move_turn"] = moved + 1
        on["window_move_turn_cpu_ratio_vs_no_warm"] = round(on["turns"][moved]["ttft_cpu_s"] / off["turns"][moved]["ttft_cpu_s"], 2)
        print(f"[{on['model']}, {on.get('build')}] page now vs before: first turn {on['first_turn_ttft_ratio_vs_no_warm']}x"
              f" wall; turns 2-6 {on['later_turns_cpu_ratio_vs_no_warm']}x CPU to the first token; the turn whose"
              f" window moved (turn {moved + 1}) {on['window_move_turn_cpu_ratio_vs_no_warm']}x")


def _llama_version() -> str:
    import llama_cpp

    return llama_cpp.__version__


def run_chat(a) -> list[dict]:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), TOKENIZERS_PARALLELISM="false",
               OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    rows = []
    for name in a.models:
        prepare(name, quants=("Q4_K_M",), nf4=False)
        for warm in ([True, False] if name == "polyglot-ko-1.3b" else [True]):
            print(f"[{name}] chat, warm-up {'on' if warm else 'off'}, {a.build} build ...", flush=True)
            load_before = round(os.getloadavg()[0], 2)
            cmd = [a.python, __file__, "--chat-worker", "warm" if warm else "cold", "--models", name]
            cmd += ["--n-ctx", str(a.n_ctx)] if a.n_ctx else []
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=a.timeout)
            line = next((ln for ln in reversed(p.stdout.splitlines()) if ln.startswith("RESULT ")), None)
            row = json.loads(line[7:]) if line else {"model": name, "mode": "chat-6-turns", "warm": warm,
                                                     "error": (p.stderr or p.stdout)[-400:]}
            row.update(build=a.build, load_avg_1m_before=load_before)
            goal = CHAT_GOALS[name]
            if "error" not in row:
                row["meets_goal"] = all((row["max_ttft_s"] if k == "ttft_s" else row[k]) <= v for k, v in goal.items())
                row["meets_goal_on_free_cores_est"] = all(
                    (row["max_ttft_free_cores_est_s"] if k == "ttft_s" else row[k]) <= v for k, v in goal.items())
                for t in row["turns"]:
                    print(f"    turn {t['turn']}: prompt {t['prompt_tokens']:4d} tok ({t['cached_tokens']:4d} cached)"
                          f"  first token {t['ttft_s']:.2f} s (CPU {t['ttft_cpu_s']:.2f} s)  {t['tokens_per_s']} tok/s"
                          f"  attempts {t['attempts']}  primed after it {t.get('primed_s', '-')} s")
                print(f"    peak {row['peak_rss_gb']} GB incl. load ({row['load_s']} s)  goal {goal}: "
                      f"{'met' if row['meets_goal'] else 'missed'} as measured (load average {load_before}), "
                      f"{'met' if row['meets_goal_on_free_cores_est'] else 'missed'} on two free cores "
                      f"(estimate: CPU seconds / {THREADS})", flush=True)
            else:
                print("    ERROR", row["error"], flush=True)
            rows.append(row)
    summarize_chat(rows)
    return rows


# ----------------------------------------------------------------------------------------- main
def run_one(name: str, backend: str, timeout: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS),
               TOKENIZERS_PARALLELISM="false", OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    cmd = [sys.executable, __file__, "--worker", backend, "--models", name]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"model": name, "backend": backend, "error": f"timed out after {timeout}s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
    return {"model": name, "backend": backend, "error": f"exit {p.returncode} after "
            f"{time.perf_counter() - t0:.0f}s: {' | '.join(tail)[:400]}"}


def summarize(rows: list[dict]) -> None:
    print(f"\n{'model':18} {'backend':24} {'tok/s':>7} {'ttft s':>7} {'peak GB':>8} {'load s':>7}  "
          f"vs bf16: speed  ttft  peak   goal")
    for r in rows:
        base = next((b for b in rows if b["model"] == r["model"] and b["backend"] == "torch-bf16"
                     and "error" not in b), None)
        if "error" in r:
            print(f"{r['model']:18} {r['backend']:24} ERROR {r['error']}")
            continue
        ratio = ""
        if base:
            r["speedup_vs_bf16"] = round(r["tokens_per_s"] / base["tokens_per_s"], 2)
            r["ttft_ratio_vs_bf16"] = round(r["ttft_s"] / base["ttft_s"], 2)
            r["peak_rss_ratio_vs_bf16"] = round(r["peak_rss_gb"] / base["peak_rss_gb"], 2)
            ratio = f"{r['speedup_vs_bf16']:>6.2f}x {r['ttft_ratio_vs_bf16']:>5.2f} {r['peak_rss_ratio_vs_bf16']:>5.2f}"
        goal = GOALS.get(r["model"], {})
        r["meets_goal"] = all((r[k] >= v) if k == "tokens_per_s" else (r[k] <= v) for k, v in goal.items())
        print(f"{r['model']:18} {r['backend']:24} {r['tokens_per_s']:>7.1f} {r['ttft_s']:>7.2f} "
              f"{r['peak_rss_gb']:>8.2f} {r['load_s']:>7.1f}  {ratio:22} {'yes' if r['meets_goal'] else 'no'}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    ap.add_argument("--backends", nargs="+", default=BACKENDS, choices=BACKENDS)
    ap.add_argument("--skip", nargs="*", default=[], choices=BACKENDS, help="backends to leave out")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--chat", action="store_true", help="the page's path: 6 turns through Chatbot.stream")
    ap.add_argument("--python", default=sys.executable, help="--chat: the interpreter the workers run in")
    ap.add_argument("--build", default="native", help="--chat: a label for that interpreter's llama.cpp build")
    ap.add_argument("--chat-worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--chat-summary", action="store_true", help="recompute the --chat ratios in --out")
    ap.add_argument("--n-ctx", type=int, default=None, help="--chat: context size (default: the page's)")
    a = ap.parse_args(argv)
    if a.worker:
        print("RESULT " + json.dumps(worker(a.models[0], a.worker)), flush=True)
        return 0
    if a.chat_worker:
        print("RESULT " + json.dumps(chat_worker(a.models[0], a.chat_worker == "warm", a.n_ctx)), flush=True)
        return 0
    if a.chat_summary:
        rows = json.loads(Path(a.out).read_text())
        summarize_chat(rows)
        fileio.write_json(a.out, rows)
        return 0
    if a.chat:
        started = time.strftime("%Y-%m-%dT%H:%M:%S")
        rows = run_chat(a)
        for r in rows:
            r.update(started=started, machine=f"{platform.machine()} {os.cpu_count()} CPUs")
        path = Path(a.out)
        kept = [r for r in (json.loads(path.read_text()) if path.is_file() else [])
                if not (r.get("mode") == "chat-6-turns" and r.get("build") == a.build and r.get("model") in a.models
                        and r.get("n_ctx") in {row.get("n_ctx") for row in rows})]   # replaces its own rows only
        fileio.write_json(path, kept + rows)
        print(f"\nwrote {path}")
        return 0

    import psutil

    rows = []
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    for name in a.models:
        prepare(name)
        for backend in [b for b in a.backends if b not in a.skip]:
            if backend == "torch-int8-dynamic":
                free = psutil.virtual_memory().available / GB
                if free < INT8_FREE_GB[name]:
                    rows.append({"model": name, "backend": backend,
                                 "error": f"skipped: needs ~{INT8_FREE_GB[name]:.0f} GB free while quantizing, "
                                          f"{free:.1f} GB available"})
                    continue
            print(f"[{name}] {backend} ...", flush=True)
            load_before = round(os.getloadavg()[0], 2)   # other users of these 2 CPUs skew timings
            rows.append(run_one(name, backend, a.timeout))
            r = rows[-1]
            r["load_avg_1m_before"] = load_before
            print("   ", r.get("error") or f"{r['tokens_per_s']} tok/s, ttft {r['ttft_s']} s "
                  f"(follow-up turn {r.get('ttft_followup_s', '-')} s), peak {r['peak_rss_gb']} GB", flush=True)
    summarize(rows)
    for r in rows:
        r.update(started=started, machine=f"{platform.machine()} {os.cpu_count()} CPUs")
    fileio.write_json(a.out, rows)
    print(f"\nwrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
