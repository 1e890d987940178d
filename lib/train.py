"""QLoRA fine-tuning with TRL's SFTTrainer (loss on my final reply only): the run folder
outputs/adapters/<run>/ with its checkpoints, resume, the out-of-memory retry, and the loss curves.

    python -m lib.train run --profile sample-cpu [--model tiny-neox]
    python -m lib.train plan --model polyglot-ko-1.3b --max-length 1024 --batch 2     # lib.plan

The settings are the profile's `bnb:`, `lora:` and `sft:` sections (BitsAndBytesConfig, LoraConfig and
SFTConfig fields, passed straight through); the profile is the one place their values live.
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

from lib import config, fileio, models, plan, plots, runs, tiny
from lib.template import stop_strings

log = logging.getLogger(__name__)

GB = 1024 ** 3
# the profile must say these; everything else falls back to SFTConfig's / LoraConfig's own defaults
REQUIRED = {"sft": ("max_length", "per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate"),
            "lora": ("r", "lora_alpha")}


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


def check_settings(lora: dict, sft: dict) -> None:
    """Fail early, naming the profile key, when a setting the run cannot guess is missing."""
    for section, given in (("lora", lora), ("sft", sft)):
        missing = [k for k in REQUIRED[section] if given.get(k) is None]
        if missing:
            raise ValueError(f"profile section `{section}:` needs {', '.join(missing)} "
                             "(see configs/sample-cpu.yaml and configs/rtx3060ti.yaml)")


# ---------------------------------------------------------------------------------------------------------
# Run folders (lib.runs finds the newest finished one)
def _last_checkpoint(run_dir: Path) -> str | None:
    ckpts = sorted((run_dir / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(ckpts[-1]) if ckpts else None


def _resume_target(root: Path, model_name: str) -> Path | None:
    """Newest unfinished run of this model (checkpoints, no malbeot.json)."""
    found = [p for p in root.glob(f"{Path(model_name).name}-*") if p.is_dir() and not runs.is_finished(p)
             and _last_checkpoint(p)]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


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


def train(model: str | Path, dataset_dir: str | Path, *, lora: dict, sft: dict, bnb: dict | str | None = "nf4",
          run_name: str | None = None, resume: bool = False,
          out_root: str | Path | None = None, generation: dict | None = None, device: str = "auto",
          early_stopping_patience: int = 3, retry_oom: bool = True, keep_checkpoints: bool = False,
          max_steps: int | None = None, eval_examples: int | None = 128, point: bool = True,
          callbacks=()) -> Path:
    """QLoRA-train `model` (registry name, hub id or folder) on `dataset_dir`; returns the run folder
    outputs/adapters/<run>/ (adapter, tokenizer with template, train_config.yaml, malbeot.json, loss.png).
    `lora`/`sft`/`bnb` are LoraConfig/SFTConfig/BitsAndBytesConfig fields (the profile sections; `bnb` may
    also be a preset name or None); `eval_examples` caps the validation examples scored at each
    evaluation (spread evenly over the split; None = all)."""
    import torch

    out_root = Path(out_root or config.adapters())
    lora, sft = dict(lora), dict(sft)
    check_settings(lora, sft)
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
        if runs.is_finished(run_dir):
            raise FileExistsError(f"{run_dir} already holds a finished run; pick another run_name")
    run_dir.mkdir(parents=True, exist_ok=True)

    while True:
        try:
            return _train_once(name, dataset_dir, run_dir, out_root, bnb, lora, sft, resume, generation, device,
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


def make_trainer(name: str, dd, out_dir: Path, *, lora: dict, sft: dict, bnb: dict | str | None = "nf4",
                 device: str = "auto", patience: int = 3, callbacks=()):
    """The SFTTrainer for a QLoRA run: 4-bit base, prepare_model_for_kbit_training, LoRA on the spec's
    targets, loss on the final assistant reply only (assistant_only_loss + {% generation %})."""
    import torch
    from peft import LoraConfig, prepare_model_for_kbit_training
    from transformers import EarlyStoppingCallback, set_seed
    from trl import SFTTrainer

    spec = models.spec(name)
    on_gpu = device != "cpu" and torch.cuda.is_available()
    bf16_ok = on_gpu and torch.cuda.is_bf16_supported()
    set_seed(sft.get("seed", 0))
    tok = models.load_tokenizer(name)
    has_val = "validation" in dd and len(dd["validation"]) > 0
    model, _ = models.load(name, bnb=bnb, device=device)
    if bnb:
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


def _train_once(name, dataset_dir, run_dir, out_root, bnb, lora, sft, resume, generation, device,
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
    trainer, tok = make_trainer(name, dd, run_dir / "checkpoints", bnb=bnb, lora=lora, sft=sft,
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
    resolved = {"model": name, "bnb": bnb, "lora": {**lora, "target_modules": list(spec.lora_targets)},
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
        # the page needs these without the dataset: who is who (pseudonyms only) and his pauses between bubbles
        **{k: v for k, v in fileio.read_json(config.resolve(dataset_dir) / "card.json").items()
           if k in ("participants", "pacing")},
        "bnb": bnb, "generation": generation or {},
        "template": {"tags": spec.tags, "stop_strings": stop_strings(spec.tags),
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
    runs.write_meta(run_dir, meta)  # written last: marks the run finished
    if not keep_checkpoints:
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    if point:
        runs.point_latest(run_dir, out_root)
    log.info("trained %s in %.0fs: eval loss %s -> %s", name, meta["metrics"]["seconds"], start_eval, final_eval)
    return run_dir


def plot_loss(history: list[dict], out: Path, title: str = "loss") -> Path:
    """Train and validation loss per step (PNG, written atomically)."""
    tr = [(h["step"], h["loss"]) for h in history if "loss" in h]
    ev = [(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h]
    fig, ax = plots.subplots(figsize=(6, 3.5))
    if tr:
        ax.plot(*zip(*tr), label="train", lw=1.2)
    if ev:
        ax.plot(*zip(*ev), "o-", label="validation", lw=1.5)
    ax.set(xlabel="step", ylabel="loss", title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return plots.save(fig, Path(out).resolve())


def settings(prof: dict) -> dict:
    """train()'s keyword arguments from a profile: its `bnb:`, `lora:`, `sft:`, `generation:` sections and
    the device ("cpu" profiles never touch a GPU)."""
    return {"bnb": prof.get("bnb"), "lora": prof.get("lora") or {}, "sft": prof.get("sft") or {},
            "generation": prof.get("generation") or {}, "device": "cpu" if prof.get("device") == "cpu" else "auto"}


def resolve_train_model(prof: dict) -> str:
    """profile models.train, else the winner of notebook 03 (outputs/compare/winner.json), else the first
    candidate."""
    chosen = (prof.get("models") or {}).get("train")
    if chosen:
        return chosen
    winner = config.compare_dir() / "winner.json"
    if winner.is_file():
        return json.loads(winner.read_text(encoding="utf-8"))["model"]
    cands = (prof.get("models") or {}).get("candidates") or []
    if not cands:
        raise ValueError("profile has no models.train, no models.candidates and no outputs/compare/winner.json")
    log.warning("no winner.json from notebook 03; training the first candidate %s", cands[0])
    return cands[0]


def run(profile: str | dict, *, model: str | None = None, dataset_dir: str | Path | None = None,
        run_name: str | None = None, resume: bool = False) -> Path:
    """Train the profile's model (or `model`) on its dataset (notebook 04 and the CLI); the run folder."""
    prof = config.profile(profile)
    model = model or resolve_train_model(prof)
    tiny.ensure_for([model])
    return train(model, dataset_dir or config.dataset_dir(prof), run_name=run_name, resume=resume,
                 **settings(prof))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.train", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plan", help="predict peak GPU memory of a QLoRA step")
    p.add_argument("--model", default="polyglot-ko-1.3b", help=f"one of {', '.join(models.REGISTRY)}")
    p.add_argument("--max-length", type=int, default=1024)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--no-checkpointing", action="store_true")
    p.add_argument("--limit-gb", type=float, default=plan.GPU_LIMIT_GB)
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
        res = plan.plan(args.model, args.max_length, args.batch, args.lora_r,
                        gradient_checkpointing=not args.no_checkpointing, limit_gb=args.limit_gb)
        print(json.dumps(res, indent=2) if args.json else plan.format_plan(res))
        return 0 if res["fits"] else 1
    out = run(args.profile, model=args.model, dataset_dir=args.dataset, run_name=args.run_name, resume=args.resume)
    print(f"adapter: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
