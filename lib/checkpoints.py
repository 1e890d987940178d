"""Which checkpoint of a run can be resumed from after a kill (every file present and whole), and handing
a trainer's memory back after an out-of-memory error, before the retry loads the model again.

transformers writes a checkpoint file by file (adapter, optimizer, scheduler, RNG, trainer state last)
and deletes old ones afterwards, so a kill leaves a folder with some files missing or cut short.
"""
from __future__ import annotations

import gc
import json
import logging
import struct
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)

# what `Trainer.train(resume_from_checkpoint=...)` reads back; trainer_state.json is written last
FILES = ("adapter_config.json", "adapter_model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth",
         "trainer_state.json")
PREFIX = "checkpoint-"


def _step(path: Path) -> int:
    return int(path.name[len(PREFIX):])


def listed(ckpt_dir: Path) -> list[Path]:
    """checkpoint-<step> folders, newest step first."""
    return sorted((p for p in Path(ckpt_dir).glob(f"{PREFIX}*") if p.is_dir() and p.name[len(PREFIX):].isdigit()),
                  key=_step, reverse=True)


def _safetensors_whole(path: Path) -> bool:
    """The header's last tensor ends exactly at the end of the file (a cut-short file is smaller)."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return False
        n = struct.unpack("<Q", head)[0]
        try:
            header = json.loads(f.read(n))
        except ValueError:
            return False
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    return path.stat().st_size == 8 + n + max(ends, default=0)


def problems(ckpt: Path) -> list[str]:
    """Why `ckpt` cannot be resumed from; [] when it is complete."""
    ckpt = Path(ckpt)
    found = [f"{f} missing" for f in FILES if not (ckpt / f).is_file()]
    if found:
        return found
    for f in ("adapter_config.json", "trainer_state.json"):
        try:
            json.loads((ckpt / f).read_text(encoding="utf-8"))
        except ValueError:
            found.append(f"{f} cut short")
    found += [f"{f} cut short" for f in ("optimizer.pt", "scheduler.pt", "rng_state.pth")
              if not zipfile.is_zipfile(ckpt / f)]  # torch.save writes a zip; its directory comes last
    if not _safetensors_whole(ckpt / "adapter_model.safetensors"):
        found.append("adapter_model.safetensors cut short")
    return found


def last_complete(ckpt_dir: Path) -> Path | None:
    """The newest complete checkpoint, without touching anything (to find a run to resume)."""
    return next((c for c in listed(ckpt_dir) if not problems(c)), None)


def resume_from(ckpt_dir: Path) -> Path | None:
    """The newest complete checkpoint to resume from. Newer incomplete ones are moved aside to
    incomplete-checkpoint-<step> with a warning (kept for inspection, out of the trainer's rotation)."""
    for ckpt in listed(ckpt_dir):
        why = problems(ckpt)
        if not why:
            return ckpt
        aside = ckpt.with_name(f"incomplete-{ckpt.name}")
        n = 1
        while aside.exists():
            n += 1
            aside = ckpt.with_name(f"incomplete-{ckpt.name}.{n}")
        ckpt.rename(aside)
        log.warning("%s is incomplete (%s), probably killed while saving: skipped, moved to %s",
                    ckpt.name, ", ".join(why), aside.name)
    return None


def release(trainer) -> None:
    """Drop everything a trainer holds on the accelerator (model, optimizer, scheduler, dataloaders), collect
    the reference cycles and empty the CUDA cache, so a retry starts from the memory the first load had."""
    import torch

    if trainer is not None:
        acc = getattr(trainer, "accelerator", None)
        if acc is not None:
            acc.free_memory()               # accelerate keeps its own lists of prepared models and optimizers
        for attr in ("model", "model_wrapped", "optimizer", "lr_scheduler", "train_dataset", "eval_dataset"):
            if hasattr(trainer, attr):
                setattr(trainer, attr, None)
        handler = getattr(trainer, "callback_handler", None)
        if handler is not None:
            for attr in ("model", "optimizer", "lr_scheduler", "train_dataloader", "eval_dataloader"):
                setattr(handler, attr, None)
    del trainer
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
