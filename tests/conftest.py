"""Shared session fixtures: the sample dataset, the tiny base model and a tiny QLoRA adapter.

Each is built once and cached on disk under outputs/cache/<kind>-<content hash>/ (tiny models under
outputs/models/, shared with `make pipeline`), so a second test run reuses them in seconds.
"""
from __future__ import annotations

import fcntl
import hashlib
import inspect
import json
import warnings
from contextlib import contextmanager
from pathlib import Path

import pytest

from lib import config

CACHE = config.OUTPUTS / "cache"
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


def _fallback_dataset(df, out: Path) -> None:
    """Until lib.dataset builds the sample: her turn -> my reply pairs with up to 6 turns of context,
    the latest 10% of sessions as validation (the lib.dataset contract, minus masking)."""
    import datasets

    from lib import fileio, models

    rows = []
    for sid, turns in enumerate(models.chat_sessions(df)):
        for i in range(1, len(turns)):
            if turns[i][0] != ME or turns[i - 1][0] == ME:
                continue
            ctx = turns[max(0, i - 6): i]
            while ctx and ctx[0][0] == ME:
                ctx = ctx[1:]
            msgs = [{"role": "assistant" if w == ME else "user", "content": t} for w, t in ctx + [turns[i]]]
            rows.append({"messages": msgs, "session": sid})
    n_sessions = rows[-1]["session"] + 1
    cut = int(n_sessions * 0.9)
    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_list([r for r in rows if r["session"] < cut]),
        "validation": datasets.Dataset.from_list([r for r in rows if r["session"] >= cut]),
    })
    with fileio.atomic_path(out) as tmp:
        dd.save_to_disk(str(tmp / "dataset"))
        fileio.write_json(tmp / "card.json", {"fallback": True, "me": ME, "train": len(dd["train"]),
                                              "validation": len(dd["validation"])})


@pytest.fixture(scope="session")
def sample_dataset_dir() -> Path:
    """data dir written by lib.dataset.build on the sample chat (me = 이도윤): dataset/, jsonl, card.json."""
    from lib import dataset

    df, raw = _sample_chat()
    key = _hash(raw, _source_hash(dataset))
    out = CACHE / f"dataset-{key}"
    with _locked("dataset"):
        if not (out / "card.json").is_file():
            try:
                dataset.build(df, ME, out, progress=False)
            except Exception as e:  # noqa: BLE001 - lib.dataset is still being written; keep others unblocked
                warnings.warn(f"lib.dataset.build failed on the sample ({e!r:.200}); using the fallback pairs")
                out = CACHE / f"dataset-fallback-{key}"
                if not (out / "card.json").is_file():
                    _fallback_dataset(df, out)
    return out


@pytest.fixture(scope="session")
def tiny_base() -> Path:
    """outputs/models/tiny-neox: tokenizer + briefly pre-trained GPTNeoX stand-in (built once, ~1 min)."""
    from lib import models

    return models.ensure_tiny("tiny-neox")


@pytest.fixture(scope="session")
def tiny_adapter(sample_dataset_dir, tiny_base) -> Path:
    """A finished QLoRA run of tiny-neox on the sample dataset with the sample-cpu settings."""
    from lib import models, train

    prof = config.load_profile("sample-cpu")
    settings = {k: prof.get(k) for k in ("quant", "lora", "sft", "generation")}
    meta = json.loads((tiny_base / "malbeot-tiny.json").read_text(encoding="utf-8"))
    key = _hash(settings, meta["hash"], sample_dataset_dir.name, _source_hash(train, models))
    root = CACHE / f"adapter-{key}"
    with _locked("adapter"):
        if not (root / "run" / "malbeot.json").is_file():
            train.train("tiny-neox", sample_dataset_dir, run_name="run", out_root=root, quant=settings["quant"],
                        lora=settings["lora"], sft=settings["sft"], generation=settings["generation"],
                        point=False)
    return root / "run"
