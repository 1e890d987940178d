"""Shared session fixtures: the sample dataset, the tiny base model and a tiny QLoRA adapter.

Each is built once and cached on disk under outputs/cache/<kind>-<content hash>/ (tiny models under
outputs/models/, shared with `make pipeline`), so a second test run reuses them in seconds.
"""
from __future__ import annotations

import fcntl
import hashlib
import inspect
import json
from contextlib import contextmanager
from pathlib import Path

import pytest

from lib import config

CACHE = config.cache()
ME = "이도윤"


def _hash(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else json.dumps(p, ensure_ascii=False, sort_keys=True, default=str).encode())
    return h.hexdigest()[:12]


def _source_hash(*modules) -> bytes:
    """Code that shapes an artefact: a change there rebuilds the cache entry."""
    return b"".join(Path(inspect.getfile(m)).read_bytes() for m in modules)


@contextmanager
def _locked(name: str):
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # parallel pytest workers / a running pipeline build it only once
        yield


def _sample_chat():
    from lib import sample

    path = config.SAMPLE / "pc_ko.txt"
    if path.is_file():
        from lib import kakao

        return kakao.read_chat(path), path.read_bytes()
    df = sample.generate()
    return df, df.to_csv().encode()


@pytest.fixture(scope="session")
def sample_dataset_dir() -> Path:
    """data dir written by lib.dataset.build on the sample chat (me = 이도윤): dataset/, jsonl, card.json."""
    from lib import dataset, pairs, privacy

    df, raw = _sample_chat()
    key = _hash(raw, _source_hash(dataset, pairs, privacy))
    out = CACHE / f"dataset-{key}"
    with _locked("dataset"):
        if not (out / "card.json").is_file():
            dataset.build(df, ME, out, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_base() -> Path:
    """outputs/models/tiny-neox: tokenizer + briefly pre-trained GPTNeoX stand-in (built once, ~1 min)."""
    from lib import tiny

    return tiny.ensure("tiny-neox")


@pytest.fixture(scope="session")
def tiny_adapter(sample_dataset_dir, tiny_base) -> Path:
    """A finished QLoRA run of tiny-neox on the sample dataset with the sample-cpu settings."""
    from lib import models, template, train

    prof = config.load_profile("sample-cpu")
    settings = {k: prof.get(k) for k in ("bnb", "lora", "sft", "generation")}
    meta = json.loads((tiny_base / "malbeot-tiny.json").read_text(encoding="utf-8"))
    key = _hash(settings, meta["hash"], sample_dataset_dir.name, _source_hash(train, models, template))
    root = CACHE / f"adapter-{key}"
    with _locked("adapter"):
        if not (root / "run" / "malbeot.json").is_file():
            train.train("tiny-neox", sample_dataset_dir, run_name="run", out_root=root, bnb=settings["bnb"],
                        lora=settings["lora"], sft=settings["sft"], generation=settings["generation"],
                        point=False)
    return root / "run"
