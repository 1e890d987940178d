"""A run folder (outputs/adapters/<run>/, an export folder) and its metadata file `malbeot.json`.
Owns finding the newest finished run (`latest`), pointing `latest` at one, and the base model of an adapter.

malbeot.json is written last by lib.train, so its presence marks a finished run. Everything that reads
or writes it (train, chat, evaluate, export, backends, the app) goes through this module.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from lib import config, fileio

META = "malbeot.json"


def read_meta(folder: str | Path) -> dict:
    """The run's metadata; {} when the folder has none (a plain model folder, a PEFT-only adapter)."""
    path = Path(folder) / META
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def write_meta(folder: str | Path, meta: dict) -> Path:
    """Write malbeot.json atomically (for a training run: the last file, marking it finished)."""
    return fileio.write_json(Path(folder) / META, meta)


def is_finished(folder: str | Path) -> bool:
    return (Path(folder) / META).is_file()


def latest(root: str | Path | None = None) -> Path:
    """The newest finished run under `root` (default outputs/adapters): the `latest` symlink, else the
    LATEST text file (Windows without symlink rights), else the newest folder with malbeot.json."""
    root = Path(root) if root is not None else config.adapters()
    link = root / "latest"
    if link.exists() and is_finished(link):
        return link.resolve()
    text = root / "LATEST"
    if text.is_file():
        run = root / text.read_text(encoding="utf-8").strip()
        if is_finished(run):
            return run
    runs = sorted((p.parent for p in root.glob(f"*/{META}") if p.parent.name != "latest"),
                  key=lambda p: (p / META).stat().st_mtime)
    if runs:
        return runs[-1]
    raise FileNotFoundError(f"no trained adapter under {root}: run notebook 04 (make pipeline) or "
                            "`python -m lib.train run --profile sample-cpu` first")


def point_latest(run_dir: Path, root: str | Path | None = None) -> None:
    """Make `root/latest` name `run_dir`: an atomic symlink swap, or a LATEST text file on Windows."""
    root = Path(root) if root is not None else config.adapters()
    link = root / "latest"
    try:
        tmp = root / f".latest.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path(run_dir).name, target_is_directory=True)
        os.replace(tmp, link)
        (root / "LATEST").unlink(missing_ok=True)
    except OSError:
        fileio.write_text(root / "LATEST", Path(run_dir).name + "\n")


def base_of(adapter_dir: str | Path) -> str:
    """The base model an adapter was trained on: malbeot.json first (registry name or path), else
    PEFT's adapter_config.json."""
    adapter_dir = Path(adapter_dir)
    meta = read_meta(adapter_dir)
    for key in ("base", "base_path", "base_model"):
        if meta.get(key):
            return str(meta[key])
    cfg = adapter_dir / "adapter_config.json"
    if not cfg.is_file():
        raise FileNotFoundError(f"{adapter_dir} is not a LoRA adapter: no {META} or adapter_config.json there "
                                "(expected an outputs/adapters/<run>/ folder written by lib.train)")
    return json.loads(cfg.read_text(encoding="utf-8"))["base_model_name_or_path"]
