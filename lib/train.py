"""QLoRA fine-tuning with TRL's SFTTrainer (loss on my final reply only), run folders + `latest`, the
8 GB memory planner, and the candidate comparison used by notebook 03.

    python -m lib.train plan --model polyglot-ko-1.3b --max-length 512 --batch 1
    python -m lib.train run --profile sample-cpu [--model tiny-neox]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import shutil
import sys
import time
from pathlib import Path

from lib import config, fileio, models

log = logging.getLogger(__name__)

GB = 1024 ** 3
GPU_LIMIT_GB = 8.0
DEFAULT_LORA = dict(r=16, lora_alpha=32, lora_dropout=0.05)
DEFAULT_SFT = dict(max_length=1024, per_device_train_batch_size=4, gradient_accumulation_steps=4,
                   learning_rate=2e-4, num_train_epochs=3, eval_steps=200, logging_steps=20, seed=0)


class TrainingOOM(MemoryError):
    """Out of memory during training, with the setting to lower in the message."""


# ---------------------------------------------------------------------------------------------------------
# Data: the `messages` DatasetDict written by lib.dataset, with the oldest context dropped to fit max_length.
def load_messages(dataset_dir: str | Path):
    """The DatasetDict (train/validation) with only the `messages` column; accepts the lib.dataset output
    folder (with dataset/ inside) or a saved DatasetDict folder."""
    import datasets

    path = config.resolve(dataset_dir)
    for cand in (path / "dataset", path):
        if (cand / "dataset_dict.json").is_file():
            dd = datasets.load_from_disk(str(cand))
            break
    else:
        raise FileNotFoundError(f"no dataset at {path}: expected the folder written by lib.dataset.build "
                                "(with dataset/dataset_dict.json); run notebook 02 or `python -m lib.dataset build`")
    missing = {"train", "validation"} - set(dd)
    if missing or "messages" not in dd["train"].column_names:
        raise ValueError(f"{path}: expected splits train+validation with a `messages` column, "
                         f"got {dict((k, v.column_names) for k, v in dd.items())}")
    return dd.select_columns(["messages"])


def fit_messages(messages: list[dict], tokenizer, max_length: int) -> list[dict] | None:
    """Drop the oldest context turns (keeping a system line) until the rendered example fits max_length;
    None when even the final reply alone does not fit. TRL would otherwise cut the reply off the end."""
    system = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(system):]
    while rest:
        ids = tokenizer.apply_chat_template(system + rest, tokenize=True, return_dict=True)["input_ids"]
        if len(ids) <= max_length:
            return system + rest
        if len(rest) == 1:
            return None
        rest = rest[1:]
        while len(rest) > 1 and rest[0]["role"] == "assistant":  # start on her turn
            rest = rest[1:]
    return None


def prepare_dataset(dd, tokenizer, max_length: int):
    def fit(batch):
        out = [fit_messages(m, tokenizer, max_length) for m in batch["messages"]]
        return {"messages": [m for m in out if m is not None]}

    fitted = dd.map(fit, batched=True, desc="fitting context to max_length")
    for split in dd:
        dropped = len(dd[split]) - len(fitted[split])
        if dropped:
            log.warning("%s: %d examples whose reply alone exceeds max_length=%d were dropped", split, dropped,
                        max_length)
    return fitted


def subsample(ds, n: int | None):
    """`n` examples spread evenly over a (time-ordered) split, so a capped evaluation still spans it."""
    if not n or len(ds) <= n:
        return ds
    step = len(ds) / n
    return ds.select(sorted({int(i * step) for i in range(n)}))


def card_hash(dataset_dir: str | Path) -> str | None:
    card = config.resolve(dataset_dir) / "card.json"
    return hashlib.sha256(card.read_bytes()).hexdigest()[:16] if card.is_file() else None


# ---------------------------------------------------------------------------------------------------------
# Runs and `latest`
def latest_adapter(root: str | Path = None) -> Path:
    """The newest finished run: the `latest` symlink, else the LATEST text file (Windows), else the newest
    folder with malbeot.json."""
    root = Path(root or config.ADAPTERS)
    link = root / "latest"
    if link.exists() and (link / "malbeot.json").is_file():
        return link.resolve()
    text = root / "LATEST"
    if text.is_file():
        run = root / text.read_text(encoding="utf-8").strip()
        if (run / "malbeot.json").is_file():
            return run
    runs = sorted((p for p in root.glob("*/malbeot.json") if p.parent.name != "latest"),
                  key=lambda p: p.stat().st_mtime)
    if runs:
        return runs[-1].parent
    raise FileNotFoundError(f"no trained adapter under {root}: run notebook 04 (make pipeline) or "
                            "`python -m lib.train run --profile sample-cpu` first")


def point_latest(run_dir: Path, root: Path) -> None:
    link = root / "latest"
    try:
        tmp = root / f".latest.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(tmp, link)  # atomic swap of the symlink
        (root / "LATEST").unlink(missing_ok=True)
    except OSError:  # Windows without symlink rights
        fileio.write_text(root / "LATEST", run_dir.name + "\n")


def _last_checkpoint(run_dir: Path) -> str | None:
    ckpts = sorted((run_dir / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(ckpts[-1]) if ckpts else None


def _resume_target(root: Path, model_name: str) -> Path | None:
    """Newest unfinished run of this model (checkpoints, no malbeot.json)."""
    runs = [p for p in root.glob(f"{Path(model_name).name}-*") if p.is_dir() and not (p / "malbeot.json").exists()
            and _last_checkpoint(p)]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


# ---------------------------------------------------------------------------------------------------------
# Training
def _versions() -> dict:
    import bitsandbytes
    import peft
    import torch
    import transformers
    import trl

    return {m.__name__: str(m.__version__) for m in (torch, transformers, trl, peft, bitsandbytes)}


def _sft_config(out_dir: Path, sft: dict, on_gpu: bool, bf16_ok: bool, has_val: bool):
    from trl import SFTConfig

    args = dict(
        output_dir=str(out_dir), assistant_only_loss=True, report_to="none", save_total_limit=2,
        gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": False},
        logging_first_step=True, dataloader_num_workers=0, remove_unused_columns=True,
        # paged 8-bit AdamW keeps optimizer states small and pages them out under memory spikes (GPU only)
        optim="paged_adamw_8bit" if on_gpu else "adamw_torch",
        bf16=on_gpu and bf16_ok, fp16=on_gpu and not bf16_ok, use_cpu=not on_gpu,
        lr_scheduler_type="cosine", warmup_steps=0.05, weight_decay=0.0,
    )
    if has_val:
        args.update(eval_strategy="steps", save_strategy="steps", load_best_model_at_end=True,
                    metric_for_best_model="eval_loss", greater_is_better=False)
    args.update(sft)
    if has_val:
        args.setdefault("eval_steps", 50)
        args["save_steps"] = args.get("save_steps") or args["eval_steps"]  # best-checkpoint selection needs both
    return SFTConfig(**args)


def train(model: str | Path, dataset_dir: str | Path, *, run_name: str | None = None, quant: str | None = "nf4",
          lora: dict | None = None, sft: dict | None = None, resume: bool = False,
          out_root: str | Path | None = None, generation: dict | None = None, device: str = "auto",
          early_stopping_patience: int = 3, retry_oom: bool = True, keep_checkpoints: bool = False,
          max_steps: int | None = None, eval_examples: int | None = 128, point: bool = True,
          callbacks=()) -> Path:
    """QLoRA-train `model` (registry name, hub id or folder) on `dataset_dir`; returns the run folder
    outputs/adapters/<run>/ (adapter, tokenizer with template, train_config.yaml, malbeot.json, loss.png).
    `lora`/`sft` are LoraConfig/SFTConfig fields (the profile sections); `eval_examples` caps the validation
    examples scored at each evaluation (spread evenly over the split; None = all)."""
    import torch

    out_root = Path(out_root or config.ADAPTERS)
    lora = {**DEFAULT_LORA, **(lora or {})}
    sft = {**DEFAULT_SFT, **(sft or {})}
    if max_steps:
        sft["max_steps"] = max_steps
    name = str(model)
    stem = Path(name).name if name not in models.REGISTRY else name
    run_dir = None
    if resume:
        run_dir = out_root / run_name if run_name else _resume_target(out_root, stem)
        if run_dir is None or not _last_checkpoint(run_dir):
            log.warning("resume=True but no unfinished run with checkpoints found; starting fresh")
            run_dir = None
    if run_dir is None:
        run_dir = out_root / (run_name or f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
        if (run_dir / "malbeot.json").exists():
            raise FileExistsError(f"{run_dir} already holds a finished run; pick another run_name")
    run_dir.mkdir(parents=True, exist_ok=True)

    while True:
        try:
            return _train_once(name, dataset_dir, run_dir, out_root, quant, lora, sft, resume, generation, device,
                               early_stopping_patience, keep_checkpoints, point, eval_examples, callbacks)
        except torch.cuda.OutOfMemoryError as e:  # noqa: PERF203
            bs, acc = sft["per_device_train_batch_size"], sft["gradient_accumulation_steps"]
            if retry_oom and bs > 1:
                log.warning("out of GPU memory at per_device_train_batch_size=%d; retrying with %d and "
                            "gradient_accumulation_steps=%d (same effective batch)", bs, bs // 2, acc * 2)
                sft = {**sft, "per_device_train_batch_size": bs // 2, "gradient_accumulation_steps": acc * 2}
                shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
                resume = False
                torch.cuda.empty_cache()
                continue
            raise TrainingOOM(
                f"out of GPU memory training {name} with per_device_train_batch_size={bs}, "
                f"max_length={sft['max_length']}, lora r={lora['r']}: lower `sft.max_length` (e.g. "
                f"{sft['max_length'] // 2}) in your profile, keep `sft.gradient_checkpointing` on, or try "
                f"`python -m lib.train plan --model {name} --max-length {sft['max_length'] // 2} --batch 1`."
            ) from e


def make_trainer(name: str, dd, out_dir: Path, *, quant: str | None = "nf4", lora: dict | None = None,
                 sft: dict | None = None, device: str = "auto", patience: int = 3, callbacks=()):
    """The SFTTrainer for a QLoRA run: 4-bit base, prepare_model_for_kbit_training, LoRA on the spec's
    targets, loss on the final assistant reply only (assistant_only_loss + {% generation %})."""
    import torch
    from peft import LoraConfig, prepare_model_for_kbit_training
    from transformers import EarlyStoppingCallback, set_seed
    from trl import SFTTrainer

    lora = {**DEFAULT_LORA, **(lora or {})}
    sft = {**DEFAULT_SFT, **(sft or {})}
    spec = models.spec(name)
    on_gpu = device != "cpu" and torch.cuda.is_available()
    bf16_ok = on_gpu and torch.cuda.is_bf16_supported()
    set_seed(sft.get("seed", 0))
    tok = models.load_tokenizer(name)
    has_val = "validation" in dd and len(dd["validation"]) > 0
    model, _ = models.load(name, quant=quant, device=device)
    if quant:
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=sft.get("gradient_checkpointing", True),
            gradient_checkpointing_kwargs={"use_reentrant": False})
    if not on_gpu:
        models.disable_cpu_packing(model)
        log.info("no CUDA GPU: training on CPU with adamw_torch instead of paged_adamw_8bit, fp32 compute")
    peft_cfg = LoraConfig(task_type="CAUSAL_LM", target_modules=list(spec.lora_targets), bias="none", **lora)
    args = _sft_config(out_dir, sft, on_gpu, bf16_ok, has_val)
    cbs = [EarlyStoppingCallback(early_stopping_patience=patience)] if has_val and patience else []
    trainer = SFTTrainer(model=model, args=args, train_dataset=dd["train"],
                         eval_dataset=dd["validation"] if has_val else None, processing_class=tok,
                         peft_config=peft_cfg, callbacks=cbs + list(callbacks))
    return trainer, tok


def save_adapter(model, tokenizer, run_dir: Path) -> None:
    """Adapter + tokenizer (with the chat template) into run_dir, each file landing by rename."""
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix=".final-", dir=run_dir))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        for f in tmp.iterdir():
            os.replace(f, run_dir / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _train_once(name, dataset_dir, run_dir, out_root, quant, lora, sft, resume, generation, device,
                patience, keep_checkpoints, point, eval_examples=None, callbacks=()) -> Path:
    import torch

    t0 = time.perf_counter()
    spec = models.spec(name)
    on_gpu = device != "cpu" and torch.cuda.is_available()
    tok = models.load_tokenizer(name)
    dd = load_messages(dataset_dir)
    dd["validation"] = subsample(dd["validation"], eval_examples)
    dd = prepare_dataset(dd, tok, sft["max_length"])
    has_val = len(dd["validation"]) > 0
    trainer, tok = make_trainer(name, dd, run_dir / "checkpoints", quant=quant, lora=lora, sft=sft,
                                device=device, patience=patience, callbacks=callbacks)
    ckpt = _last_checkpoint(run_dir) if resume else None
    start_file = run_dir / "start_eval.json"
    if ckpt and start_file.is_file():
        start_eval = json.loads(start_file.read_text(encoding="utf-8"))["eval_loss"]
    elif has_val:
        start_eval = trainer.evaluate()["eval_loss"]  # zero-shot loss on my replies (LoRA B = 0)
        fileio.write_json(start_file, {"eval_loss": start_eval})
    else:
        start_eval = None
    if ckpt:
        log.info("resuming %s from %s", run_dir.name, ckpt)
    result = trainer.train(resume_from_checkpoint=ckpt)
    history = trainer.state.log_history
    if start_eval is not None and not any(h.get("step") == 0 and "eval_loss" in h for h in history):
        history = [{"step": 0, "eval_loss": start_eval}] + history  # train() reset the state that held it
    final_eval = trainer.evaluate()["eval_loss"] if has_val else None

    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    save_adapter(trainer.model, tok, run_dir)
    plot_loss(history, run_dir / "loss.png", title=f"{name}: loss on my replies")
    args = trainer.args
    resolved = {"model": name, "quant": quant, "lora": {**lora, "target_modules": list(spec.lora_targets)},
                "sft": {k: v for k, v in args.to_dict().items()
                        if k in sft or k in ("optim", "bf16", "fp16", "gradient_checkpointing",
                                             "assistant_only_loss", "eval_steps", "save_steps",
                                             "load_best_model_at_end", "lr_scheduler_type")},
                "dataset": str(dataset_dir), "device": "cuda" if on_gpu else "cpu",
                "early_stopping_patience": patience, "eval_examples": eval_examples, "versions": _versions()}
    import yaml

    resolved = json.loads(json.dumps(resolved, default=str))  # enums, versions -> plain YAML
    fileio.write_text(run_dir / "train_config.yaml", yaml.safe_dump(resolved, allow_unicode=True, sort_keys=False))
    fileio.write_json(run_dir / "history.json", history)
    meta = {
        "base": name, "base_path": models.source(name), "registry": spec.name,
        "dataset": str(dataset_dir), "dataset_card_hash": card_hash(dataset_dir),
        "quant": quant, "generation": generation or {},
        "template": {"tags": spec.tags, "stop_strings": models.stop_strings(spec.tags),
                     "eos_token": tok.eos_token},
        "metrics": {"eval_loss_start": start_eval, "eval_loss": final_eval,
                    "best_eval_loss": trainer.state.best_metric, "train_loss": result.training_loss,
                    "global_step": trainer.state.global_step, "trainable_params": trainable,
                    "train_examples": len(dd["train"]), "validation_examples": len(dd["validation"]),
                    "resumed_from": Path(ckpt).name if ckpt else None,
                    "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / GB, 3) if on_gpu else None,
                    "seconds": round(time.perf_counter() - t0, 1)},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    fileio.write_json(run_dir / "malbeot.json", meta)  # written last: marks the run finished
    if not keep_checkpoints:
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    if point:
        point_latest(run_dir, out_root)
    log.info("trained %s in %.0fs: eval loss %s -> %s", name, meta["metrics"]["seconds"], start_eval, final_eval)
    return run_dir


def plot_loss(history: list[dict], out: Path, title: str = "loss") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tr = [(h["step"], h["loss"]) for h in history if "loss" in h]
    ev = [(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    if tr:
        ax.plot(*zip(*tr), label="train", lw=1.2)
    if ev:
        ax.plot(*zip(*ev), "o-", label="validation", lw=1.5)
    ax.set(xlabel="step", ylabel="loss", title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with fileio.atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return out


# ---------------------------------------------------------------------------------------------------------
# Candidate comparison (notebook 03)
def sample_replies(model, tokenizer, histories: list[list[dict]], generation: dict | None = None,
                   seed: int = 0, stops=models.STOP_STRINGS) -> list[str]:
    """One sampled reply per history with the chat template; cut at EOS or the next speaker tag."""
    import torch

    gen = {"max_new_tokens": 48, "temperature": 0.8, "top_p": 0.9, "repetition_penalty": 1.1,
           **(generation or {})}
    torch.manual_seed(seed)
    out = []
    model.eval()
    for hist in histories:
        enc = tokenizer.apply_chat_template(hist, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        enc = {k: v.to(model.device) for k, v in enc.items()}
        with torch.no_grad():
            ids = model.generate(**enc, do_sample=True, eos_token_id=tokenizer.eos_token_id,
                                 pad_token_id=tokenizer.pad_token_id, **gen)
        text = tokenizer.decode(ids[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        for s in stops:
            text = text.split(s)[0]
        out.append(text.strip())
    return out


def compare(candidates: list[str], dataset_dir: str | Path, *, pilot_steps: int = 30, quant="nf4",
            lora: dict | None = None, sft: dict | None = None, generation: dict | None = None,
            device: str = "auto", n_samples: int = 4, out_dir: str | Path | None = None, limit_gb: float = GPU_LIMIT_GB):
    """Per candidate: params, tokens/char on this chat, zero-shot perplexity of my validation replies,
    planned (and on GPU measured) training memory, serving sizes, a short pilot fine-tune's validation
    loss (also per character, comparable across tokenizers) and sample replies. Returns (table, samples)."""
    import pandas as pd
    from peft import PeftModel

    out_dir = Path(out_dir or config.COMPARE)
    sft = {**DEFAULT_SFT, **(sft or {})}
    lora = {**DEFAULT_LORA, **(lora or {})}
    dd = load_messages(dataset_dir)
    val = dd["validation"]
    replies = [m["messages"][-1]["content"] for m in val]
    chat_texts = [m["content"] for row in dd["train"].select(range(min(500, len(dd["train"])))) for m in row["messages"]]
    histories = [val[i]["messages"][:-1] for i in range(0, len(val), max(1, len(val) // n_samples))][:n_samples]
    rows, samples = [], {"her": [h[-1]["content"] for h in histories],
                         "me (real)": [val[i]["messages"][-1]["content"]
                                       for i in range(0, len(val), max(1, len(val) // n_samples))][:n_samples]}
    for name in candidates:
        tok = models.load_tokenizer(name)
        tpc_chat = models.tokens_per_char(tok, chat_texts)
        tpc_reply = models.tokens_per_char(tok, [" " + r for r in replies]) if replies else float("nan")
        p = plan(name, sft["max_length"], sft["per_device_train_batch_size"], lora["r"], limit_gb=limit_gb,
                 gradient_checkpointing=sft.get("gradient_checkpointing", True))
        size = models.serving_size(name)
        shutil.rmtree(out_dir / "pilots" / f"pilot-{Path(name).name}", ignore_errors=True)  # a fresh pilot
        run = train(name, dataset_dir, run_name=f"pilot-{Path(name).name}", out_root=out_dir / "pilots", quant=quant,
                    lora=lora, sft={**sft, "max_steps": pilot_steps, "eval_steps": max(1, pilot_steps // 2)},
                    generation=generation, device=device, point=False, early_stopping_patience=0)
        m = json.loads((run / "malbeot.json").read_text(encoding="utf-8"))["metrics"]
        base, _ = models.load(name, quant=quant, device=device)
        stops = models.stop_strings(models.spec(name).tags)
        samples[f"{name} (base)"] = sample_replies(base, tok, histories, generation, stops=stops)
        tuned = PeftModel.from_pretrained(base, run)
        samples[f"{name} (pilot)"] = sample_replies(tuned, tok, histories, generation, stops=stops)
        del base, tuned
        rows.append({
            "model": name, "params_m": round(size["params"] / 1e6, 1), "tokens_per_char": round(tpc_chat, 3),
            "zero_shot_ppl": round(math.exp(m["eval_loss_start"]), 2) if m["eval_loss_start"] is not None else None,
            "pilot_val_loss": round(m["eval_loss"], 4) if m["eval_loss"] is not None else None,
            "pilot_val_nats_per_char": round(m["eval_loss"] * tpc_reply, 4) if m["eval_loss"] is not None else None,
            "planned_train_gib": p["total_gb"], "fits_limit": p["fits"],
            "measured_train_gib": m.get("peak_reserved_gib"),
            "serve_4bit_gb": size["4bit_gb"], "serve_8bit_gb": size["8bit_gb"], "pilot_seconds": m["seconds"],
        })
    return pd.DataFrame(rows), pd.DataFrame(samples)


def pick_winner(table, out: str | Path | None = None, tolerance: float = 0.02) -> dict:
    """Decision rule: among candidates whose planned training memory fits the card, the lowest pilot
    validation loss per character (comparable across tokenizers); within `tolerance` of the best, the
    smaller model to serve. Writes outputs/compare/winner.json {model, reasons, table}."""
    rows = table.to_dict("records")
    fit = [r for r in rows if r["fits_limit"]] or rows
    best = min(r["pilot_val_nats_per_char"] for r in fit)
    close = [r for r in fit if r["pilot_val_nats_per_char"] <= best * (1 + tolerance)]
    win = min(close, key=lambda r: r["serve_4bit_gb"])
    reasons = [f"fits the {GPU_LIMIT_GB:g} GiB card for training (planned {win['planned_train_gib']} GiB)"
               if win["fits_limit"] else "no candidate fits the card; picked the best anyway",
               f"pilot validation loss {win['pilot_val_nats_per_char']} nats/char "
               f"(best {best}; within {tolerance:.0%} counts as a tie)",
               f"serves in {win['serve_4bit_gb']} GB at 4-bit"]
    dropped = [r["model"] for r in rows if not r["fits_limit"]]
    if dropped:
        reasons.append(f"excluded for memory: {', '.join(dropped)}")
    result = {"model": win["model"], "reasons": reasons, "table": rows}
    fileio.write_json(Path(out or config.COMPARE / "winner.json"), result)
    return result


# ---------------------------------------------------------------------------------------------------------
# Memory planner: predicted peak GPU memory of a QLoRA step, from the architecture alone (meta device).
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.train", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plan", help="predict peak GPU memory of a QLoRA step")
    p.add_argument("--model", default="polyglot-ko-1.3b", help=f"one of {', '.join(models.REGISTRY)}")
    p.add_argument("--max-length", type=int, default=1024)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--no-checkpointing", action="store_true")
    p.add_argument("--limit-gb", type=float, default=GPU_LIMIT_GB)
    p.add_argument("--json", action="store_true", help="print the breakdown as JSON")
    r = sub.add_parser("run", help="train the profile's model on its dataset")
    r.add_argument("--profile", default="sample-cpu")
    r.add_argument("--model", help="registry name, hub id or folder (default: profile models.train or winner)")
    r.add_argument("--dataset", help="dataset folder (default: data/processed/<profile dataset name>)")
    r.add_argument("--run-name")
    r.add_argument("--resume", action="store_true", help="continue the newest unfinished run from its checkpoint")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.cmd == "plan":
        res = plan(args.model, args.max_length, args.batch, args.lora_r,
                   gradient_checkpointing=not args.no_checkpointing, limit_gb=args.limit_gb)
        print(json.dumps(res, indent=2) if args.json else format_plan(res))
        return 0 if res["fits"] else 1
    prof = config.load_profile(args.profile)
    model = args.model or resolve_train_model(prof)
    dataset_dir = args.dataset or config.PROCESSED / prof["dataset"]["name"]
    run = train(model, dataset_dir, run_name=args.run_name, resume=args.resume, **profile_kwargs(prof))
    print(f"adapter: {run}")
    return 0


def profile_kwargs(prof: dict) -> dict:
    """The train() keyword arguments a profile holds (sections named like the HF config classes)."""
    return {"quant": prof.get("quant", "nf4"), "lora": prof.get("lora") or {}, "sft": prof.get("sft") or {},
            "generation": prof.get("generation") or {},
            "device": "cpu" if prof.get("device") == "cpu" else "auto"}


def resolve_train_model(prof: dict) -> str:
    """profile models.train, else the winner of notebook 03 (outputs/compare/winner.json), else the first
    candidate."""
    chosen = (prof.get("models") or {}).get("train")
    if chosen:
        return chosen
    winner = config.COMPARE / "winner.json"
    if winner.is_file():
        return json.loads(winner.read_text(encoding="utf-8"))["model"]
    cands = (prof.get("models") or {}).get("candidates") or []
    if not cands:
        raise ValueError("profile has no models.train, no models.candidates and no outputs/compare/winner.json")
    log.warning("no winner.json from notebook 03; training the first candidate %s", cands[0])
    return cands[0]


if __name__ == "__main__":
    sys.exit(main())
