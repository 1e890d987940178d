"""QLoRA fine-tuning with TRL's SFTTrainer (loss on my final reply only): the run folder
outputs/adapters/<run>/ with its checkpoints, resume, the out-of-memory retry, and the loss curves.

    python -m lib.train run --profile sample-cpu [--model tiny-neox] [--resume]
    python -m lib.train estimate --profile rtx3060ti     # tokens, steps and hours per epoch before a run
    python -m lib.train plan --model polyglot-ko-1.3b --max-length 1024 --batch 2     # lib.plan

The settings are the profile's `bnb:`, `lora:` and `sft:` sections (BitsAndBytesConfig, LoraConfig and
SFTConfig fields, passed straight through); the profile is the one place their values live.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from lib import checkpoints, config, fileio, models, plan, plots, progress, runs, tiny
from lib.sftdata import load_messages, prepare_dataset, subsample, workload
from lib.template import stop_strings

log = logging.getLogger(__name__)

GB = 1024 ** 3
# the profile must say these; everything else falls back to SFTConfig's / LoraConfig's own defaults
REQUIRED = {"sft": ("max_length", "per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate"),
            "lora": ("r", "lora_alpha")}


class TrainingOOM(MemoryError):
    """Out of memory during training, with the setting to lower in the message."""


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
def _resume_target(root: Path, model_name: str) -> Path | None:
    """Newest unfinished run of this model (a complete checkpoint, no malbeot.json)."""
    found = [p for p in root.glob(f"{Path(model_name).name}-*") if p.is_dir() and not runs.is_finished(p)
             and checkpoints.last_complete(p / "checkpoints")]
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
        include_num_input_tokens_seen="non_padding",  # the throughput lib.progress measures
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
          max_steps: int | None = None, max_hours: float | None = None, eval_examples: int | None = 128,
          point: bool = True, callbacks=()) -> Path:
    """QLoRA-train `model` (registry name, hub id or folder) on `dataset_dir`; returns the run folder
    outputs/adapters/<run>/ (adapter, tokenizer with template, train_config.yaml, malbeot.json, loss.png).
    `lora`/`sft`/`bnb` are LoraConfig/SFTConfig/BitsAndBytesConfig fields (the profile sections; `bnb` may
    also be a preset name or None); `eval_examples` caps the validation examples scored at each
    evaluation (spread evenly over the split; None = all); `max_hours` stops the run cleanly after that much
    training in this sitting. Out of GPU memory, it frees the first attempt and resumes from the last
    complete checkpoint with half the batch and twice the accumulation (the same effective batch)."""
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
        if run_dir is None or not checkpoints.last_complete(run_dir / "checkpoints"):
            log.warning("resume=True but no unfinished run with a complete checkpoint found; starting fresh")
            run_dir = None
    if run_dir is None:
        run_dir = out_root / (run_name or f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
        if runs.is_finished(run_dir):
            raise FileExistsError(f"{run_dir} already holds a finished run; pick another run_name")
    run_dir.mkdir(parents=True, exist_ok=True)

    retries: list[dict] = []
    while True:
        held: dict = {}  # _train_once parks its trainer here, so it can be released whatever happens
        try:
            done = _train_once(name, dataset_dir, run_dir, out_root, bnb, lora, sft, resume, generation, device,
                               early_stopping_patience, keep_checkpoints, point, eval_examples, callbacks,
                               max_hours=max_hours, retries=retries, held=held)
        except torch.OutOfMemoryError as e:  # noqa: PERF203
            error = str(e).strip().splitlines()[0] if str(e).strip() else "out of memory"
        else:
            checkpoints.release(held.pop("trainer", None))
            return done
        # Out of the except block the traceback, and with it every frame that held the model, is gone
        checkpoints.release(held.pop("trainer", None))
        bs, acc = sft["per_device_train_batch_size"], sft["gradient_accumulation_steps"]
        if not retry_oom or bs <= 1:
            raise TrainingOOM(
                f"out of GPU memory training {name} at per_device_train_batch_size={bs} ({error}), "
                f"max_length={sft['max_length']}, lora r={lora['r']}: "
                + plan.oom_advice(name, sft["max_length"], lora["r"], sft.get("gradient_checkpointing", True))
                + f". The checkpoints in {run_dir / 'checkpoints'} are kept: rerun with resume=True "
                "(`python -m lib.train run --resume`) after changing the profile.")
        log.warning("out of GPU memory at per_device_train_batch_size=%d (%s); retrying from the last complete "
                    "checkpoint with %d and gradient_accumulation_steps=%d (same effective batch)",
                    bs, error, bs // 2, acc * 2)
        retries.append({"per_device_train_batch_size": bs, "gradient_accumulation_steps": acc, "error": error})
        sft = {**sft, "per_device_train_batch_size": bs // 2, "gradient_accumulation_steps": acc * 2}
        if sft.get("per_device_eval_batch_size", 1) > 1:
            sft["per_device_eval_batch_size"] //= 2
        resume = True


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
    # the whole model on the one GPU: device_map="auto" could place layers on the CPU, which cannot train in 4-bit
    model, _ = models.load(name, bnb=bnb, device="cuda" if on_gpu else "cpu")
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
                patience, keep_checkpoints, point, eval_examples=None, callbacks=(), *, max_hours=None,
                retries=(), held=None) -> Path:
    import torch

    t0 = time.perf_counter()
    spec = models.spec(name)
    on_gpu = device != "cpu" and torch.cuda.is_available()
    if on_gpu:  # this attempt's peak, not an earlier model's (03 trains two pilots in one process)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    tok = models.load_tokenizer(name)
    dd = load_messages(dataset_dir)
    dd["validation"] = subsample(dd["validation"], eval_examples)
    dd = prepare_dataset(dd, tok, sft["max_length"])
    has_val = len(dd["validation"]) > 0
    trainer, tok = make_trainer(name, dd, run_dir / "checkpoints", bnb=bnb, lora=lora, sft=sft,
                                device=device, patience=patience, callbacks=callbacks)
    if held is not None:
        held["trainer"] = trainer
    clock = progress.RunClock(max_hours).attach(trainer)
    ckpt = checkpoints.resume_from(run_dir / "checkpoints") if resume else None
    start_file = run_dir / "start_eval.json"
    if ckpt and start_file.is_file():
        start_eval = json.loads(start_file.read_text(encoding="utf-8"))["eval_loss"]
    elif has_val:
        start_eval = trainer.evaluate()["eval_loss"]  # zero-shot loss on my replies (LoRA B = 0)
        fileio.write_json(start_file, {"eval_loss": start_eval})
    else:
        start_eval = None
    if ckpt:
        log.info("resuming %s from %s", run_dir.name, ckpt.name)
    result = trainer.train(resume_from_checkpoint=str(ckpt) if ckpt else None)
    history = trainer.state.log_history
    if start_eval is not None and not any(h.get("step") == 0 and "eval_loss" in h for h in history):
        history = [{"step": 0, "eval_loss": start_eval}] + history  # train() reset the state that held it
    final_eval = trainer.evaluate()["eval_loss"] if has_val else None

    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    save_adapter(trainer.model, tok, run_dir)
    plot_loss(history, run_dir / "loss.png", title=f"{name}: loss on my replies")
    memory = plan.against(name, sft, lora, round(torch.cuda.max_memory_reserved() / GB, 3) if on_gpu else None)
    if memory["warning"]:
        log.warning("%s: %s", name, memory["warning"])
    args = trainer.args
    resolved = {"model": name, "bnb": bnb, "lora": {**lora, "target_modules": list(spec.lora_targets)},
                "sft": {k: v for k, v in args.to_dict().items()
                        if k in sft or k in ("optim", "bf16", "fp16", "gradient_checkpointing",
                                             "assistant_only_loss", "eval_steps", "save_steps",
                                             "load_best_model_at_end", "lr_scheduler_type")},
                "dataset": str(dataset_dir), "device": "cuda" if on_gpu else "cpu", "max_hours": max_hours,
                "early_stopping_patience": patience, "eval_examples": eval_examples, "memory": memory,
                "oom_retries": list(retries), "versions": _versions()}
    import yaml

    resolved = json.loads(json.dumps(resolved, default=str))  # enums, versions -> plain YAML
    fileio.write_text(run_dir / "train_config.yaml", yaml.safe_dump(resolved, allow_unicode=True, sort_keys=False))
    fileio.write_json(run_dir / "history.json", history)
    meta = {
        "base": name, "base_path": models.source(name), "registry": spec.name,
        "dataset": str(dataset_dir), "dataset_card_hash": card_hash(dataset_dir),
        "bnb": bnb, "generation": generation or {},
        "template": {"tags": spec.tags, "stop_strings": stop_strings(spec.tags),
                     "eos_token": tok.eos_token},
        "metrics": {"eval_loss_start": start_eval, "eval_loss": final_eval,
                    "best_eval_loss": trainer.state.best_metric, "train_loss": result.training_loss,
                    "global_step": trainer.state.global_step, "trainable_params": trainable,
                    "train_examples": len(dd["train"]), "validation_examples": len(dd["validation"]),
                    "resumed_from": ckpt.name if ckpt else None,
                    "per_device_train_batch_size": sft["per_device_train_batch_size"],
                    "gradient_accumulation_steps": sft["gradient_accumulation_steps"], "oom_retries": len(retries),
                    "planned_reserved_gib": memory["planned_reserved_gib"],
                    "peak_reserved_gib": memory["measured_reserved_gib"], "memory_warning": memory["warning"],
                    **clock.summary(), "device": "cuda" if on_gpu else "cpu",
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
    """train()'s keyword arguments from a profile: its `bnb:`, `lora:`, `sft:`, `generation:` sections, the
    `max_hours` cap and the device ("cpu" profiles never touch a GPU)."""
    return {"bnb": prof.get("bnb"), "lora": prof.get("lora") or {}, "sft": prof.get("sft") or {},
            "generation": prof.get("generation") or {}, "device": "cpu" if prof.get("device") == "cpu" else "auto",
            "max_hours": prof.get("max_hours")}


def estimate(profile: str | dict, *, model: str | None = None, dataset_dir: str | Path | None = None) -> dict:
    """Before a run (notebook 04): what the dataset asks of it (lib.sftdata.workload) and, from 03's pilot of
    the same model (outputs/compare/winner.json), how long an epoch and the whole run take (lib.plan.eta)."""
    prof = config.profile(profile)
    s = settings(prof)
    model = model or resolve_train_model(prof)
    tiny.ensure_for([model])
    work = workload(dataset_dir or config.dataset_dir(prof), model, s["sft"])
    rows = fileio.read_json(config.compare_dir() / "winner.json").get("table", [])
    pilot = next((r for r in rows if r["model"] == model and r.get("train_tokens_per_second")), None)
    eta = plan.eta(work, {"tokens_per_second": pilot["train_tokens_per_second"],
                          "eval_seconds_each": pilot.get("eval_seconds_each"),
                          "save_seconds_each": pilot.get("save_seconds_each")},
                   eval_steps=s["sft"].get("eval_steps"), save_steps=s["sft"].get("save_steps") or s["sft"].get("eval_steps"),
                   max_hours=s["max_hours"]) if pilot else None
    text = plan.format_eta(work, eta)
    if pilot:
        text += f"\n(throughput {pilot['train_tokens_per_second']:,.0f} tokens/s from 03's pilot on {pilot.get('device', '?')})"
    return {"model": model, "workload": work, "pilot": pilot, "eta": eta, "text": text}


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
    for cmd, text in (("run", "train the profile's model on its dataset"),
                      ("estimate", "tokens, steps and time per epoch of that run, from 03's measured throughput")):
        r = sub.add_parser(cmd, help=text)
        r.add_argument("--profile", default="sample-cpu")
        r.add_argument("--model", help="registry name, hub id or folder (default: profile models.train or winner)")
        r.add_argument("--dataset", help="dataset folder (default: data/processed/<profile dataset name>)")
        if cmd == "run":
            r.add_argument("--run-name")
            r.add_argument("--resume", action="store_true", help="continue the newest unfinished run from its checkpoint")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.cmd == "plan":
        res = plan.plan(args.model, args.max_length, args.batch, args.lora_r,
                        gradient_checkpointing=not args.no_checkpointing, limit_gb=args.limit_gb)
        print(json.dumps(res, indent=2) if args.json else plan.format_plan(res))
        return 0 if res["fits"] else 1
    print(estimate(args.profile, model=args.model, dataset_dir=args.dataset)["text"])
    if args.cmd == "estimate":
        return 0
    out = run(args.profile, model=args.model, dataset_dir=args.dataset, run_name=args.run_name, resume=args.resume)
    print(f"adapter: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
