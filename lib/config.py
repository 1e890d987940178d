"""Project paths (anchored on the repo root) and profile loading. Nothing else lives here.

Paths under outputs/ and data/processed/ are functions, resolved at call time: MALBEOT_OUTPUTS and
MALBEOT_PROCESSED (set by the pipeline smoke test) move them without touching your results.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
RAW = DATA / "raw"              # the user's real exports (git-ignored)
SAMPLE = DATA / "sample"        # fictional couple written by `python -m lib.sample` (committed)
CONFIGS = ROOT / "configs"
MODELS = ROOT / "outputs" / "models"  # the tiny stand-in base models, shared by every run (lib.tiny)


def outputs() -> Path:
    """Everything derived from a chat (git-ignored)."""
    return Path(os.environ.get("MALBEOT_OUTPUTS") or ROOT / "outputs")


def processed() -> Path:
    """The built datasets, data/processed/<name>/ (git-ignored)."""
    return Path(os.environ.get("MALBEOT_PROCESSED") or DATA / "processed")


def figures() -> Path:
    return outputs() / "figures"


def notebooks_out() -> Path:
    return outputs() / "notebooks"


def adapters() -> Path:
    """LoRA runs; adapters()/"latest" points at the newest (lib.runs)."""
    return outputs() / "adapters"


def compare_dir() -> Path:
    return outputs() / "compare"


def report() -> Path:
    return outputs() / "report"


def exports() -> Path:
    """Merged / GGUF / 4-bit files for serving."""
    return outputs() / "export"


def cache() -> Path:
    """Full-size stand-in folders and test fixtures, rebuilt on demand."""
    return outputs() / "cache"


def load_profile(name_or_path: str | Path) -> dict:
    """Read a profile YAML by name (`sample-cpu`) or path; returns a plain dict."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CONFIGS / f"{name_or_path}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
        raise FileNotFoundError(f"profile {name_or_path!r} not found at {path}; known profiles: {known}")
    with open(path, encoding="utf-8") as f:
        profile = yaml.safe_load(f) or {}
    profile.setdefault("name", path.stem)
    return profile


def resolve(path: str | Path) -> Path:
    """A path from a profile or notebook parameter, relative to the repo root unless absolute."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else ROOT / p


def profile(name_path_or_dict: str | Path | dict) -> dict:
    """A profile given by name, path or as an already loaded dict (what every stage's run() accepts)."""
    if isinstance(name_path_or_dict, dict):
        return name_path_or_dict
    return load_profile(name_path_or_dict)


def dataset_dir(prof: dict) -> Path:
    """data/processed/<the profile's dataset name>/, where lib.dataset writes and training reads."""
    return processed() / prof["dataset"]["name"]
