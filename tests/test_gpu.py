"""On a CUDA GPU only (marked gpu; skipped cleanly without one): two real QLoRA steps of each full-size stand-in
(random weights, the real architecture) through lib.train at length 1024 with the rtx3060ti profile's batch,
the process capped at 8 GiB, and the run card's measured reserved peak within 15% of lib.plan's.

    .venv/bin/python -m pytest -m gpu tests/test_gpu.py        # then benchmarks/train_memory.py --device cuda
"""
from __future__ import annotations

import os
import random
import shutil

import pytest

from lib import config, models, runs, tiny, train

GIB = 1024 ** 3
CAP_GIB = 8.0
LENGTH = 1024


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


pytestmark = [pytest.mark.gpu, pytest.mark.slow, pytest.mark.skipif(not _cuda(), reason="needs a CUDA GPU")]


@pytest.fixture(autouse=True)
def eight_gib_card():
    """Behave like an RTX 3060 Ti: the caching allocator may hold at most 8 GiB."""
    import torch

    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(min(1.0, CAP_GIB * GIB / total))
    yield
    torch.cuda.set_per_process_memory_fraction(1.0)
    torch.cuda.empty_cache()


def standin_with_tokenizer(name: str):
    """The full-size random-weight stand-in (lib.models.standin_folder, saved once) with the tiny stand-in's
    tokenizer beside it: its ids fit any vocabulary, and the folder's name keeps the registry's LoRA targets."""
    src = models.standin_folder(name)
    out = config.cache() / "gpu" / name
    if not (out / "tokenizer.json").is_file():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        for f in src.iterdir():
            try:
                os.symlink(f, out / f.name)
            except OSError:  # Windows without symlink rights
                shutil.copy2(f, out / f.name)
        models.load_tokenizer(tiny.ensure("tiny-neox")).save_pretrained(out)
    return out


def full_length_dataset(tok, out, n_train: int, n_val: int):
    """Conversations rendered to 98-100% of LENGTH tokens, so every micro-batch is the worst case."""
    import datasets

    rng = random.Random(0)
    syllables = "가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허고노도로모보소오조초ㅋㅎ"

    def text(n):
        return " ".join("".join(rng.choice(syllables) for _ in range(rng.randint(1, 5))) for _ in range(n))

    def example():
        her, reply = text(2000), text(60)
        lo, hi = 1, len(her)
        while lo < hi:  # the longest cut of her message that still fits
            mid = (lo + hi + 1) // 2
            msgs = [{"role": "user", "content": her[:mid]}, {"role": "assistant", "content": reply}]
            n = len(tok.apply_chat_template(msgs, tokenize=True, return_dict=True)["input_ids"])
            lo, hi = (mid, hi) if n <= LENGTH else (lo, mid - 1)
        return {"messages": [{"role": "user", "content": her[:lo]}, {"role": "assistant", "content": reply}]}

    rows = [example() for _ in range(n_train + n_val)]
    lengths = [len(tok.apply_chat_template(r["messages"], tokenize=True, return_dict=True)["input_ids"]) for r in rows]
    assert min(lengths) >= 0.98 * LENGTH and max(lengths) <= LENGTH, (min(lengths), max(lengths))
    dd = datasets.DatasetDict(train=datasets.Dataset.from_list(rows[:n_train]),
                              validation=datasets.Dataset.from_list(rows[n_train:]))
    dd.save_to_disk(str(out / "dataset"))
    return out


@pytest.mark.parametrize("name", ["polyglot-ko-1.3b", "eeve-2.8b"])
def test_two_qlora_steps_fit_8_gib_and_match_the_plan(name, tmp_path):
    import torch

    prof = config.load_profile("rtx3060ti")
    s = train.settings(prof)
    sft = {**s["sft"], "max_length": LENGTH, "max_steps": 2, "logging_steps": 1}
    folder = standin_with_tokenizer(name)
    tok = models.load_tokenizer(folder)
    per_step = sft["per_device_train_batch_size"] * sft["gradient_accumulation_steps"]
    data = full_length_dataset(tok, tmp_path / "data", n_train=2 * per_step, n_val=4)

    run = train.train(str(folder), data, run_name="gpu", out_root=tmp_path / "adapters", bnb=s["bnb"], lora=s["lora"],
                      sft=sft, device="auto", early_stopping_patience=0, eval_examples=4, point=False)
    m = runs.read_meta(run)["metrics"]
    assert m["device"] == "cuda" and m["global_step"] == 2 and m["oom_retries"] == 0, m
    assert (m["per_device_train_batch_size"], m["gradient_accumulation_steps"]) == (
        s["sft"]["per_device_train_batch_size"], s["sft"]["gradient_accumulation_steps"])
    planned, measured = m["planned_reserved_gib"], m["peak_reserved_gib"]
    report = (f"{name} at {LENGTH} x batch {sft['per_device_train_batch_size']}: measured {measured} GiB reserved, "
              f"planned {planned} GiB, {m['tokens_per_second']} tokens/s on {torch.cuda.get_device_name(0)}")
    print(report)
    assert measured <= CAP_GIB, report
    assert abs(measured / planned - 1) <= 0.15, report
    assert m["memory_warning"] is None, m["memory_warning"]
    assert m["tokens_per_second"] and m["tokens_per_second"] > 0
