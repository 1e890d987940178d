"""Project paths (anchored on the repo root) and profile loading. Nothing else lives here."""
from __future__ import annotations

import os
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
RAW = DATA / "raw"              # the user's real exports (git-ignored)
SAMPLE = DATA / "sample"        # fictional couple written by `python -m lib.sample` (committed)
# MALBEOT_OUTPUTS / MALBEOT_PROCESSED let the pipeline smoke test run without touching your results.
PROCESSED = Path(os.environ.get("MALBEOT_PROCESSED", DATA / "processed"))  # datasets (git-ignored)
OUTPUTS = Path(os.environ.get("MALBEOT_OUTPUTS", ROOT / "outputs"))  # everything derived (git-ignored)
FIGURES = OUTPUTS / "figures"
NOTEBOOKS_OUT = OUTPUTS / "notebooks"
MODELS = ROOT / "outputs" / "models"  # cached tiny stand-in base models (shared by every run)
ADAPTERS = OUTPUTS / "adapters"  # LoRA runs; ADAPTERS / "latest" points at the newest
COMPARE = OUTPUTS / "compare"
REPORT = OUTPUTS / "report"
EXPORTS = OUTPUTS / "export"     # merged / GGUF / 4-bit files for serving
CONFIGS = ROOT / "configs"


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
