"""The 8 GB memory planner: predicted peak GPU memory of one QLoRA training step, from the architecture
alone (meta device, nothing downloaded), so a run that cannot fit is stopped before it starts.

    python -m lib.train plan --model polyglot-ko-1.3b --max-length 1024 --batch 2
"""
from __future__ import annotations

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
