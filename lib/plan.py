"""The planner: predicted peak GPU memory of one QLoRA step from the architecture alone (meta device,
nothing downloaded), and the tokens, steps and hours a dataset asks for at a measured throughput.

    python -m lib.train plan --model polyglot-ko-1.3b --max-length 1024 --batch 2
"""
from __future__ import annotations

import math

from lib import models

GB = 1024 ** 3
GPU_LIMIT_GB = 8.0  # an RTX 3060 Ti


def plan(model: str, max_length: int = 1024, batch: int = 1, lora_r: int = 16, *, gradient_checkpointing=True,
         optim: str = "paged_adamw_8bit", device: str = "cuda", limit_gb: float = GPU_LIMIT_GB,
         lora_targets=None) -> dict:
    """Predict the memory of one QLoRA training step (bytes per component, GB totals, fits flag).

    4-bit weights: nf4 = 0.5 byte/param + double-quantized absmax (1 byte per 64-block + fp32 per 256 blocks);
    everything not quantized (embeddings, lm_head, norms, biases) is upcast to fp32 by
    prepare_model_for_kbit_training; LoRA weights and grads in bf16 (TRL casts them), 8-bit Adam = 2 bytes
    per param (fp32 Adam on CPU = 8); activations with checkpointing = one fp32 residual per layer plus one
    layer recomputed in backward; logits in fp32 (lm_head is fp32) x3 for the loss and its gradient, +1 for
    TRL's entropy/accuracy metrics; CUDA context outside PyTorch's allocator."""
    import torch

    spec = models.spec(model)
    net = models.standin(spec.name)
    cfg = net.config
    h, n_layers, V = cfg.hidden_size, cfg.num_hidden_layers, cfg.vocab_size
    inter = cfg.intermediate_size
    targets = set(lora_targets or spec.lora_targets)
    q_params = lora_params = 0
    largest = 0
    for name, mod in net.named_modules():
        if isinstance(mod, torch.nn.Linear) and ".layers." in f".{name}":
            n = mod.in_features * mod.out_features
            q_params += n
            largest = max(largest, n)
            if name.rsplit(".", 1)[-1] in targets:
                lora_params += lora_r * (mod.in_features + mod.out_features)
    total = models.param_count(net)
    other = total - q_params
    tokens = batch * max_length
    on_cpu = device == "cpu"
    act = 2 if not on_cpu else 4  # bytes of a compute-dtype activation
    b = {}
    b["weights_4bit"] = q_params * (0.5 + 1 / 64 + 4 / (64 * 256))
    b["weights_fp32_upcast"] = other * 4
    b["lora_weights"] = lora_params * 2
    b["lora_grads"] = lora_params * 2
    b["optimizer_states"] = lora_params * (8 if on_cpu or "8bit" not in optim else 2)
    if gradient_checkpointing:
        b["activations_checkpointed"] = n_layers * tokens * h * 4
        # one block recomputed in backward: qkv, attention out, 2x MLP intermediate, norms, LoRA inputs, grads x2
        b["activations_recompute"] = 2 * tokens * (act * (3 * h + h + 2 * inter + h) + 4 * 2 * h + act * (3 * h + inter))
    else:
        b["activations_checkpointed"] = 0
        b["activations_recompute"] = n_layers * tokens * (act * (3 * h + h + 2 * inter + h) + 4 * 2 * h
                                                          + act * (3 * h + inter))
    b["dequant_buffer"] = largest * act * 2
    b["logits"] = tokens * V * 4 * 3
    b["trl_metrics"] = tokens * V * 4
    allocated = sum(b.values())
    reserved = allocated * 1.08  # caching allocator rounding/fragmentation
    context = 0 if on_cpu else 0.45 * GB
    out = {
        "model": spec.name, "max_length": max_length, "batch": batch, "lora_r": lora_r, "device": device,
        "gradient_checkpointing": gradient_checkpointing, "optim": optim,
        "params_total": total, "params_quantized": q_params, "params_lora": lora_params,
        "bytes": {k: int(v) for k, v in b.items()},
        "cuda_context_gb": round(context / GB, 3),
        "peak_allocated_gb": round(allocated / GB, 3),
        "peak_reserved_gb": round(reserved / GB, 3),
        "total_gb": round((reserved + context) / GB, 3),
        "limit_gb": limit_gb,
    }
    out["fits"] = out["total_gb"] <= limit_gb
    return out


def format_plan(p: dict) -> str:
    rows = [f"{p['model']}: max_length {p['max_length']}, batch {p['batch']}, LoRA r={p['lora_r']} "
            f"({p['params_lora'] / 1e6:.1f} M trainable of {p['params_total'] / 1e9:.2f} B), {p['optim']}, "
            f"checkpointing {'on' if p['gradient_checkpointing'] else 'off'}"]
    for k, v in p["bytes"].items():
        rows.append(f"  {k:<26}{v / GB:8.3f} GiB")
    rows.append(f"  {'cuda_context':<26}{p['cuda_context_gb']:8.3f} GiB")
    rows.append(f"  {'= peak allocated':<26}{p['peak_allocated_gb']:8.3f} GiB")
    rows.append(f"  {'= peak reserved':<26}{p['peak_reserved_gb']:8.3f} GiB")
    rows.append(f"  {'= total on the card':<26}{p['total_gb']:8.3f} GiB (limit {p['limit_gb']} GiB)")
    if not p["fits"]:
        rows.append(f"WARNING: predicted {p['total_gb']:.2f} GiB > {p['limit_gb']} GiB: lower --max-length or "
                    "--batch (raise gradient_accumulation_steps to keep the effective batch), keep checkpointing on")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------------------
# Time: what the dataset asks of a run, and how long that takes at a measured throughput
def workload(lengths, n_examples: int, *, batch: int, accumulation: int, epochs: float = 1.0,
             max_steps: int | None = None) -> dict:
    """Training tokens and optimizer steps per epoch from the token lengths of (a sample of) the fitted
    training examples; steps are counted the way transformers' Trainer counts them."""
    lengths = sorted(int(n) for n in lengths)
    if not lengths or n_examples <= 0:
        raise ValueError("workload: no training examples (expected token lengths of the fitted train split)")
    mean = sum(lengths) / len(lengths)
    batches = math.ceil(n_examples / batch)
    steps_per_epoch = max(1, batches // accumulation + int(batches % accumulation > 0))
    total = int(max_steps) if max_steps and max_steps > 0 else math.ceil(epochs * steps_per_epoch)
    return {"examples": int(n_examples), "sampled": len(lengths), "mean_tokens": round(mean, 1),
            "p95_tokens": lengths[min(len(lengths) - 1, int(0.95 * len(lengths)))], "max_tokens": lengths[-1],
            "tokens_per_epoch": round(mean * n_examples), "steps_per_epoch": steps_per_epoch,
            "total_steps": total, "epochs": round(total / steps_per_epoch, 3),
            "batch": batch, "accumulation": accumulation}


def eta(work: dict, measured: dict, *, eval_steps: int | None = None, save_steps: int | None = None,
        max_hours: float | None = None) -> dict:
    """Seconds per epoch and for the whole run from a measured throughput (`tokens_per_second` of training
    steps, `eval_seconds_each`, `save_seconds_each`, as lib.progress.RunClock reports them)."""
    tps = measured.get("tokens_per_second")
    if not tps:
        raise ValueError("eta: the measurement has no tokens_per_second (run notebook 03's pilot first)")
    step = work["tokens_per_epoch"] / work["steps_per_epoch"] / tps
    step += (measured.get("eval_seconds_each") or 0) / eval_steps if eval_steps else 0
    step += (measured.get("save_seconds_each") or 0) / save_steps if save_steps else 0
    fixed = 2 * (measured.get("eval_seconds_each") or 0) if eval_steps else 0  # zero-shot before, final after
    out = {"seconds_per_step": round(step, 3), "seconds_per_epoch": round(step * work["steps_per_epoch"]),
           "seconds_total": round(step * work["total_steps"] + fixed), "max_hours": max_hours, "capped": False}
    if max_hours:
        within = int(max_hours * 3600 / step)
        out.update(steps_within_cap=min(within, work["total_steps"]), capped=within < work["total_steps"])
    return out


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}h {rest // 60:02d}m" if h else f"{rest // 60}m {rest % 60:02d}s"


def format_eta(work: dict, time: dict | None) -> str:
    rows = [f"{work['examples']:,} training examples, {work['mean_tokens']:.0f} tokens each on average "
            f"(p95 {work['p95_tokens']}, max {work['max_tokens']}; measured on {work['sampled']:,}): "
            f"{work['tokens_per_epoch']:,} tokens and {work['steps_per_epoch']:,} steps per epoch "
            f"(batch {work['batch']} x accumulation {work['accumulation']}), {work['total_steps']:,} steps in all"]
    if not time:
        rows.append("no measured throughput yet (notebook 03's pilot measures it); the progress bar shows the ETA")
        return "\n".join(rows)
    rows.append(f"ETA: {duration(time['seconds_per_epoch'])} per epoch, {duration(time['seconds_total'])} for "
                f"{work['epochs']:g} epoch(s) ({time['seconds_per_step']:.2f} s per step)")
    if time.get("capped"):
        rows.append(f"max_hours {time['max_hours']:g} stops the run after ~{time['steps_within_cap']:,} of "
                    f"{work['total_steps']:,} steps (the best checkpoint so far is kept)")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------------------
# After the fact: the plan against the measurement, and what to change when a step does not fit
def memory_check(planned_gib: float | None, measured_gib: float | None, tolerance: float = 0.15) -> str | None:
    """A warning when the measured reserved peak differs from the plan by more than `tolerance`."""
    if not planned_gib or measured_gib is None:
        return None
    off = measured_gib / planned_gib - 1
    if abs(off) <= tolerance:
        return None
    return (f"measured peak {measured_gib:.2f} GiB reserved vs planned {planned_gib:.2f} GiB ({off:+.0%}, more than "
            f"{tolerance:.0%}): {'trust the measurement, not `lib.train plan`' if off > 0 else 'the plan is cautious'}"
            "; please report it with benchmarks/train_memory.py --device cuda")


def against(model: str, sft: dict, lora: dict, measured_gib: float | None) -> dict:
    """The run card's planned vs measured peak: PyTorch's reserved memory (torch.cuda.max_memory_reserved),
    both without the CUDA context; None measured off a GPU (a CPU's resident memory predicts no 8 GB card)."""
    try:
        planned = plan(model, sft["max_length"], sft["per_device_train_batch_size"], lora["r"],
                       gradient_checkpointing=sft.get("gradient_checkpointing", True))["peak_reserved_gb"]
    except ValueError:  # a folder the registry does not know
        planned = None
    ratio = round(measured_gib / planned, 3) if planned and measured_gib is not None else None
    return {"planned_reserved_gib": planned, "measured_reserved_gib": measured_gib, "measured_over_planned": ratio,
            "warning": memory_check(planned, measured_gib)}


def oom_advice(model: str, max_length: int, lora_r: int, gradient_checkpointing: bool, limit_gb: float = GPU_LIMIT_GB) -> str:
    """What to lower when even batch 1 runs out of memory, with the planner's numbers."""
    try:
        now = plan(model, max_length, 1, lora_r, gradient_checkpointing=gradient_checkpointing, limit_gb=limit_gb)
        half = plan(model, max_length // 2, 1, lora_r, gradient_checkpointing=True, limit_gb=limit_gb)
    except ValueError:
        return f"lower `sft.max_length` (e.g. {max_length // 2}) and keep `sft.gradient_checkpointing: true`"
    tips = [f"lower `sft.max_length` to {max_length // 2} (planner: {half['total_gb']:.2f} GiB at batch 1 vs "
            f"{now['total_gb']:.2f} GiB now, limit {limit_gb:g})"]
    if not gradient_checkpointing:
        on = plan(model, max_length, 1, lora_r, gradient_checkpointing=True, limit_gb=limit_gb)
        tips.append(f"turn `sft.gradient_checkpointing: true` on (planner: {on['total_gb']:.2f} GiB)")
    return "; ".join(tips) + "; close other programs using the GPU (nvidia-smi lists them)"
