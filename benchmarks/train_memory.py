"""Peak memory and speed of real QLoRA steps on the full-size stand-ins, against lib.plan.plan().

    python benchmarks/train_memory.py                 # GPU if present (8 GiB cap), else CPU RSS measurement
    python benchmarks/train_memory.py --device cpu --models polyglot-ko-1.3b --lengths 512 --steps 2
    python benchmarks/train_memory.py --smoke         # tiny stand-ins, seconds

GPU: torch.cuda.set_per_process_memory_fraction caps the process at 8 GiB, so a pass proves the 8 GB claim;
records peak allocated/reserved, tokens/s and the GPU name -> benchmarks/results/train_memory.json.
CPU (no GPU here): peak RSS above the loaded baseline (sampled every 20 ms) vs the planner's dynamic part,
and the model's static footprint vs the planner's weights -> benchmarks/results/train_memory_cpu.json.
Random weights (models.standin) behave like the real ones for memory and speed; no download needed.
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib import config, fileio, models, plan, tiny  # noqa: E402

GIB = 1024 ** 3
RESULTS = config.ROOT / "benchmarks" / "results"
STATIC = ("weights_4bit", "weights_fp32_upcast", "lora_weights")


class RssPeak:
    """Sample this process's RSS in a thread; `peak` since the last reset."""

    def __init__(self, every: float = 0.02):
        import psutil

        self.proc, self.every, self.peak, self._stop = psutil.Process(), every, 0, False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.every)

    def now(self) -> int:
        return self.proc.memory_info().rss

    def reset(self):
        self.peak = self.now()

    def stop(self):
        self._stop = True


def qlora_model(source: str, name: str, r: int, on_gpu: bool, checkpointing: bool = True):
    """The same model train.make_trainer builds: 4-bit base, kbit prep, LoRA on the targets, bf16 adapters."""
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    from transformers import AutoModelForCausalLM

    dtype = models.compute_dtype("auto" if on_gpu else "cpu")
    # the whole model on GPU 0, as lib.train loads it ("auto" could offload layers to the CPU)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, quantization_config=models.bnb_config("nf4", dtype),
                                                 device_map="cuda" if on_gpu else "cpu")
    assert models.count_quantized(model)["linear4bit"] > 0, "4-bit was not applied"
    if not on_gpu:
        models.disable_cpu_packing(model)
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=checkpointing,
                                            gradient_checkpointing_kwargs={"use_reentrant": False})
    model = get_peft_model(model, LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.05, task_type="CAUSAL_LM",
                                             target_modules=list(models.REGISTRY[name].lora_targets)))
    adapter_dtype = dtype if on_gpu else torch.bfloat16  # bf16 (fp16 on pre-Ampere cards), as TRL casts them
    for p in model.parameters():
        if p.requires_grad:
            p.data = p.data.to(adapter_dtype)  # as TRL's SFTTrainer does for quantized bases
    model.enable_input_require_grads()
    return model


def run_case(name: str, source: str, length: int, batch: int, steps: int, r: int, on_gpu: bool, rss: RssPeak | None):
    import torch

    gc.collect()
    before_load = rss.now() if rss else 0
    t0 = time.perf_counter()
    model = qlora_model(source, name, r, on_gpu)
    load_s = time.perf_counter() - t0
    footprint = model.get_memory_footprint()
    params = [p for p in model.parameters() if p.requires_grad]
    if on_gpu:
        import bitsandbytes as bnb

        opt = bnb.optim.PagedAdamW8bit(params, lr=2e-4)
    else:
        opt = torch.optim.AdamW(params, lr=2e-4)  # what lib.train uses on CPU
    dev = next(model.parameters()).device
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(0)
    gc.collect()
    if not on_gpu:
        # glibc keeps the freed bf16 load buffers; without handing them back, activations reuse that
        # memory and RSS growth under-reports the step's real allocations
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    if on_gpu:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base_alloc = torch.cuda.memory_allocated()
    else:
        rss.reset()
        base_rss = rss.now()
    times = []
    model.train()
    for _ in range(steps):
        ids = torch.randint(0, vocab, (batch, length), generator=g).to(dev)
        t = time.perf_counter()
        with torch.autocast(dev.type, dtype=models.compute_dtype("auto"), enabled=on_gpu):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if on_gpu:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    steady = times[1:] or times
    res = {"model": name, "max_length": length, "batch": batch, "lora_r": r, "steps": steps,
           "load_seconds": round(load_s, 1), "step_seconds": [round(x, 2) for x in times],
           "tokens_per_second": round(batch * length / (sum(steady) / len(steady)), 1),
           "model_footprint_gib": round(footprint / GIB, 3)}
    p = plan.plan(name, length, batch, r, device="cuda" if on_gpu else "cpu",
                   optim="paged_adamw_8bit" if on_gpu else "adamw_torch")
    p_static = sum(p["bytes"][k] for k in STATIC)
    p_dynamic = sum(v for k, v in p["bytes"].items() if k not in STATIC and k != "trl_metrics")
    res["planned"] = p
    res["planned_static_gib"] = round(p_static / GIB, 3)
    res["static_ratio_measured_over_planned"] = round(footprint / p_static, 3)
    if on_gpu:
        res["peak_allocated_gib"] = round(torch.cuda.max_memory_allocated() / GIB, 3)
        res["peak_reserved_gib"] = round(torch.cuda.max_memory_reserved() / GIB, 3)
        # this loop computes no TRL metrics (entropy, accuracy): compare with the plan without them
        planned_alloc = p["peak_allocated_gb"] * GIB - p["bytes"]["trl_metrics"]
        res["ratio_allocated_measured_over_planned"] = round(torch.cuda.max_memory_allocated() / planned_alloc, 3)
        res["ratio_reserved_measured_over_planned"] = round(torch.cuda.max_memory_reserved() / (planned_alloc * 1.08), 3)
        res["plan_within_15pct"] = abs(res["ratio_reserved_measured_over_planned"] - 1) <= 0.15
        res["inside_8gib"] = res["peak_reserved_gib"] <= 7.2  # the goal: 0.8 GiB left for the CUDA context and desktop
        res["accumulation_for_effective_16"] = -(-16 // batch)  # accumulation adds no activation memory
        res["dynamic_gib"] = round((torch.cuda.max_memory_allocated() - base_alloc) / GIB, 3)
    else:
        res["rss_before_load_gib"] = round(before_load / GIB, 3)
        res["rss_loaded_gib"] = round(base_rss / GIB, 3)
        res["rss_peak_gib"] = round(rss.peak / GIB, 3)
        res["measured_dynamic_gib"] = round((rss.peak - base_rss) / GIB, 3)
        res["planned_dynamic_gib"] = round(p_dynamic / GIB, 3)
        res["dynamic_ratio_measured_over_planned"] = round((rss.peak - base_rss) / p_dynamic, 3)
    del model, opt
    gc.collect()
    if on_gpu:
        torch.cuda.empty_cache()
    return res


def _fresh_process_cases(name: str, lengths, steps: int, args) -> list[dict]:
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cases.json"
        cmd = [sys.executable, __file__, "--device", "cpu", "--models", name, "--lengths", *map(str, lengths),
               "--steps", str(steps), "--batch", str(args.batch), "--lora-r", str(args.lora_r), "--out", str(out)]
        subprocess.run(cmd, check=True)
        return json.loads(out.read_text(encoding="utf-8"))["cases"]


def main(argv=None) -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--models", nargs="*")
    ap.add_argument("--lengths", nargs="*", type=int)
    ap.add_argument("--batch", type=int, help="per-device batch (default: 2 on GPU as in rtx3060ti, 1 on CPU)")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--lora-r", type=int, default=16)
    ap.add_argument("--smoke", action="store_true", help="tiny stand-ins only (seconds)")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--out", help="JSON path (default: benchmarks/results/train_memory[_cpu].json)")
    args = ap.parse_args(argv)
    on_gpu = args.device != "cpu" and torch.cuda.is_available()
    if args.device == "cuda" and not on_gpu:
        print("no CUDA GPU visible", file=sys.stderr)
        return 2
    out = {"device": "cuda" if on_gpu else "cpu", "torch": str(torch.__version__), "cases": []}
    if on_gpu:
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, 8 * GIB / total))  # behave like an 8 GB card
        out.update(gpu=torch.cuda.get_device_name(0), gpu_total_gib=round(total / GIB, 1), cap_gib=8)
        names = args.models or ["polyglot-ko-1.3b", "eeve-2.8b"]
        lengths = args.lengths or [512, 1024, 2048]
        steps = args.steps or 4
        args.batch = args.batch or 2
    else:
        import os

        out["cpu_threads"] = torch.get_num_threads()
        out["cpu_count"] = os.cpu_count()
        names = args.models or (["tiny-neox", "tiny-phi"] if args.smoke else ["polyglot-ko-1.3b"])
        lengths = args.lengths or ([128] if args.smoke else [512])
        steps = args.steps or 2
        args.batch = args.batch or 1
    if not on_gpu and len(names) > 1:
        # RSS only tells the truth in a fresh process: memory freed by one model is reused by the next
        out["cases"] = [case for name in names for case in _fresh_process_cases(name, lengths, steps, args)]
        names = []
    rss = None if on_gpu else RssPeak()
    for name in names:
        source = str(tiny.ensure(name)) if models.REGISTRY[name].tiny else str(models.standin_folder(name))
        for length in lengths:
            if length > models.REGISTRY[name].arch["max_position_embeddings"]:
                continue
            try:
                res = run_case(name, source, length, args.batch, steps, args.lora_r, on_gpu, rss)
            except torch.cuda.OutOfMemoryError:
                res = {"model": name, "max_length": length, "batch": args.batch, "oom": True}
            if res.get("oom"):  # out of the except block: the frames holding the model are gone
                gc.collect()
                torch.cuda.empty_cache()
            out["cases"].append(res)
            keys = [k for k in res if "ratio" in k or "peak" in k or "gib" in k
                    or k in ("tokens_per_second", "plan_within_15pct", "inside_8gib", "oom")]
            print(json.dumps({k: res[k] for k in ["model", "max_length"] + keys}, ensure_ascii=False))
    if rss:
        rss.stop()
    if not args.no_save:
        name = "train_memory.json" if on_gpu else ("train_memory_cpu_smoke.json" if args.smoke else "train_memory_cpu.json")
        path = Path(args.out) if args.out else RESULTS / name
        fileio.write_json(path, out)
        print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
