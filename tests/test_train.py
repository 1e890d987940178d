"""lib.train: a real tiny QLoRA run, label masking, reload, resume after SIGKILL (lib.checkpoints), the OOM
retry, the run clock and max_hours cap (lib.progress), latest (lib.runs); lib.plan's memory and time plans and
lib.compare's decision rule."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
import weakref

import pytest

from lib import checkpoints, compare, config, models, plan, progress, runs, sftdata, train


def small_dataset(src_dir, out, n_train=16, n_val=4):
    dd = train.load_messages(src_dir)
    dd["train"] = dd["train"].select(range(n_train))
    dd["validation"] = dd["validation"].select(range(n_val))
    dd.save_to_disk(str(out / "dataset"))
    return out


SFT = dict(max_length=128, per_device_train_batch_size=4, gradient_accumulation_steps=1, per_device_eval_batch_size=8,
           learning_rate=2e-3, max_steps=4, eval_steps=2, save_steps=2, logging_steps=1, gradient_checkpointing=False,
           seed=0)
LORA = {"r": 4, "lora_alpha": 8}


@pytest.mark.slow
def test_tiny_qlora_run_lowers_validation_loss(tiny_adapter):
    meta = json.loads((tiny_adapter / "malbeot.json").read_text(encoding="utf-8"))
    m = meta["metrics"]
    assert m["eval_loss"] < m["eval_loss_start"] - 0.05, m
    assert meta["base"] == "tiny-neox" and meta["bnb"]["bnb_4bit_quant_type"] == "nf4" and meta["template"]["tags"]["assistant"] == "나:"
    for f in ("adapter_model.safetensors", "adapter_config.json", "tokenizer.json", "train_config.yaml", "loss.png"):
        assert (tiny_adapter / f).is_file(), f
    assert not (tiny_adapter / "checkpoints").exists()
    cfg = (tiny_adapter / "train_config.yaml").read_text(encoding="utf-8")
    assert "assistant_only_loss: true" in cfg and "target_modules" in cfg
    tok = models.load_tokenizer(tiny_adapter)  # the saved tokenizer carries the template
    assert "{% generation %}" in tok.chat_template
    # the run card: measured throughput, planned memory (measured only on a GPU)
    assert m["tokens_per_second"] > 0 and m["seconds_per_step"] > 0 and m["train_tokens"] > 0
    assert m["planned_reserved_gib"] > 0 and m["peak_reserved_gib"] is None and m["memory_warning"] is None
    assert m["device"] == "cpu" and m["stopped_by"] is None and "planned_reserved_gib:" in cfg


@pytest.mark.slow
def test_labels_cover_only_the_final_reply(tiny_base, sample_dataset_dir, tmp_path):
    dd = train.load_messages(small_dataset(sample_dataset_dir, tmp_path))
    trainer, tok = train.make_trainer(str(tiny_base), dd, tmp_path / "ck", sft=SFT, lora=LORA, device="cpu")
    for row, src in zip(trainer.train_dataset, dd["train"]):
        trained = [t for t in row["labels"] if t != -100]
        assert tok.decode(trained) == " " + src["messages"][-1]["content"] + tok.eos_token
        context = [m for m in src["messages"][:-1] if m["role"] == "assistant"]
        assert len(trained) < len(row["input_ids"]) or not context


def test_fit_messages_drops_oldest_context_first(tiny_base):
    tok = models.load_tokenizer(tiny_base)
    msgs = [{"role": "system", "content": "시스템"}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"말 {i} " * 20} for i in range(7)]
    fitted = sftdata.fit_messages(msgs, tok, 90)
    assert fitted[0]["role"] == "system" and fitted[-1] == msgs[-1] and fitted[1]["role"] == "user"
    assert len(fitted) < len(msgs)
    assert sftdata.fit_messages(msgs[:1] + [msgs[-1]], tok, 5) is None


# The child trains for real and stalls inside checkpoint-4's save (adapter and optimizer written, RNG and
# trainer state not yet), so the SIGKILL lands mid-save; each logged loss goes to a file as it happens.
KILLED_CHILD = r"""
import json, sys, time
from pathlib import Path
from transformers import Trainer, TrainerCallback
from lib import train

base, data, root, mark, losses, sft, lora = sys.argv[1:8]
save = Trainer._save_optimizer_and_scheduler

def stall(self, output_dir):
    save(self, output_dir)
    if self.state.global_step == 4:
        Path(mark).write_text(output_dir)
        time.sleep(600)

class Losses(TrainerCallback):
    def on_log(self, args, state, control, logs=None, **kw):
        if "loss" in (logs or {}):
            with open(losses, "a") as f:
                f.write(json.dumps({"step": state.global_step, "loss": logs["loss"]}) + "\n")

Trainer._save_optimizer_and_scheduler = stall
train.train(base, data, run_name="r", out_root=root, sft=json.loads(sft), lora=json.loads(lora), device="cpu",
            callbacks=[Losses()])
"""


@pytest.mark.slow
def test_sigkill_during_a_checkpoint_save_resumes_from_the_last_complete_one(tiny_base, sample_dataset_dir, tmp_path,
                                                                            caplog):
    data = small_dataset(sample_dataset_dir, tmp_path / "data")
    root, mark, losses = tmp_path / "adapters", tmp_path / "saving", tmp_path / "losses.jsonl"
    sft = {**SFT, "max_steps": 6}
    with open(tmp_path / "child.log", "w") as log:
        child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(tiny_base), str(data), str(root), str(mark),
                                  str(losses), json.dumps(sft), json.dumps(LORA)], cwd=config.ROOT, stdout=log,
                                 stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600
        while not mark.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL, (tmp_path / "child.log").read_text()[-3000:]
    ck = root / "r" / "checkpoints"
    assert checkpoints.problems(ck / "checkpoint-2") == []
    assert "trainer_state.json missing" in checkpoints.problems(ck / "checkpoint-4")
    assert checkpoints.last_complete(ck) == ck / "checkpoint-2"

    with caplog.at_level("WARNING"):
        run = train.train(str(tiny_base), data, run_name="r", out_root=root, sft=sft, lora=LORA, device="cpu",
                          resume=True, keep_checkpoints=True)
    assert "checkpoint-4 is incomplete" in caplog.text and "trainer_state.json missing" in caplog.text
    assert (ck / "incomplete-checkpoint-4" / "adapter_model.safetensors").is_file()  # moved aside, not deleted
    m = runs.read_meta(run)["metrics"]
    assert m["resumed_from"] == "checkpoint-2" and m["global_step"] == 6
    assert checkpoints.problems(ck / "checkpoint-6") == []
    # model, optimizer, scheduler and data order came back: steps 3-4 repeat the killed run's losses
    before = {r["step"]: r["loss"] for r in map(json.loads, losses.read_text().splitlines())}
    after = {h["step"]: h["loss"] for h in json.loads((run / "history.json").read_text()) if "loss" in h}
    assert {3, 4} <= set(before) and after[3] == pytest.approx(before[3], rel=1e-3)
    assert after[4] == pytest.approx(before[4], rel=1e-3)


def test_a_checkpoint_is_complete_only_with_every_file_whole(tmp_path):
    import torch
    from safetensors.torch import save_file

    def make(step, skip=(), cut=()):
        d = tmp_path / "checkpoints" / f"checkpoint-{step}"
        d.mkdir(parents=True)
        save_file({"w": torch.zeros(64, 64)}, str(d / "adapter_model.safetensors"))
        (d / "adapter_config.json").write_text("{}")
        (d / "trainer_state.json").write_text('{"global_step": %d}' % step)
        for f in ("optimizer.pt", "scheduler.pt", "rng_state.pth"):
            torch.save({"x": torch.ones(256)}, d / f)
        for f in skip:
            (d / f).unlink()
        for f in cut:
            data = (d / f).read_bytes()
            (d / f).write_bytes(data[: len(data) // 2])
        return d

    good = make(2)
    assert checkpoints.problems(good) == []
    assert checkpoints.problems(make(3, skip=["rng_state.pth"])) == ["rng_state.pth missing"]
    assert checkpoints.problems(make(4, cut=["optimizer.pt"])) == ["optimizer.pt cut short"]
    assert checkpoints.problems(make(5, cut=["adapter_model.safetensors"])) == ["adapter_model.safetensors cut short"]
    assert checkpoints.problems(make(6, cut=["trainer_state.json"])) == ["trainer_state.json cut short"]
    ck = tmp_path / "checkpoints"
    assert checkpoints.last_complete(ck) == good and (ck / "checkpoint-6").is_dir()  # looking moves nothing
    assert checkpoints.resume_from(ck) == good
    assert sorted(p.name for p in ck.iterdir()) == ["checkpoint-2"] + [f"incomplete-checkpoint-{i}" for i in (3, 4, 5, 6)]


@pytest.mark.slow
def test_max_hours_stops_the_run_cleanly(tiny_base, sample_dataset_dir, tmp_path):
    data = small_dataset(sample_dataset_dir, tmp_path / "data")
    run = train.train(str(tiny_base), data, run_name="capped", out_root=tmp_path, sft=SFT, lora=LORA, device="cpu",
                      max_hours=1e-7)  # 0.4 ms: the first step is over it
    m = runs.read_meta(run)["metrics"]
    assert m["global_step"] == 1 and m["stopped_by"] == "max_hours 1e-07 reached at step 1 of 4"
    assert (run / "adapter_model.safetensors").is_file() and m["eval_loss"] is not None  # finished, not dropped


@pytest.mark.slow
def test_estimate_before_a_run_uses_the_dataset_and_the_pilots_throughput(tiny_base, sample_dataset_dir, tmp_path,
                                                                          monkeypatch, capsys):
    import math

    monkeypatch.setenv("MALBEOT_OUTPUTS", str(tmp_path))
    prof = {**config.load_profile("sample-cpu"), "max_hours": 0.001}
    prof["sft"] = {**prof["sft"], "max_steps": None, "num_train_epochs": 2}
    est = train.estimate(prof, model="tiny-neox", dataset_dir=sample_dataset_dir)
    n = len(sftdata.load_messages(sample_dataset_dir)["train"])
    w = est["workload"]
    assert w["steps_per_epoch"] == math.ceil(w["examples"] / prof["sft"]["per_device_train_batch_size"])
    assert 0.95 * n <= w["examples"] <= n and w["total_steps"] == 2 * w["steps_per_epoch"]
    assert 20 < w["mean_tokens"] <= prof["sft"]["max_length"] and w["max_tokens"] <= prof["sft"]["max_length"]
    assert est["eta"] is None and "no measured throughput" in est["text"]  # no 03 pilot yet
    (tmp_path / "compare").mkdir()
    (tmp_path / "compare" / "winner.json").write_text(json.dumps({"model": "tiny-neox", "table": [
        {"model": "tiny-neox", "train_tokens_per_second": 2000.0, "eval_seconds_each": 1.0, "save_seconds_each": 0.5,
         "device": "cpu"}]}))
    est = train.estimate(prof, model="tiny-neox", dataset_dir=sample_dataset_dir)
    step = w["tokens_per_epoch"] / w["steps_per_epoch"] / 2000 + 1 / 20 + 0.5 / 20   # eval_steps = save_steps = 20
    assert est["eta"]["seconds_per_epoch"] == round(step * w["steps_per_epoch"])
    assert est["eta"]["capped"] and "ETA:" in est["text"] and "2,000 tokens/s from 03's pilot on cpu" in est["text"]
    assert train.main(["estimate", "--profile", "sample-cpu", "--dataset", str(sample_dataset_dir)]) == 0
    assert "steps per epoch" in capsys.readouterr().out


@pytest.mark.slow
def test_adapter_reloads_with_the_same_logits(tiny_base, sample_dataset_dir, tmp_path):
    import torch
    from peft import PeftModel

    dd = train.load_messages(small_dataset(sample_dataset_dir, tmp_path))
    sft = {**SFT, "max_steps": 3, "learning_rate": 5e-3}
    trainer, tok = train.make_trainer(str(tiny_base), dd, tmp_path / "ck", sft=sft, lora=LORA, device="cpu", patience=0)
    trainer.train()
    probe = tok.apply_chat_template(dd["validation"][0]["messages"], return_tensors="pt", return_dict=True)
    trainer.model.eval()
    with torch.no_grad():
        trained = trainer.model(**probe).logits.float()
    train.save_adapter(trainer.model, tok, tmp_path)
    base, _ = models.load(tiny_base, bnb="nf4", device="cpu")
    models.disable_cpu_packing(base)
    with torch.no_grad():
        plain = base(**probe).logits.float()
        reloaded = PeftModel.from_pretrained(base, tmp_path).eval()(**probe).logits.float()
    assert (trained - plain).abs().max() > 1e-2  # the adapter changes the model
    torch.testing.assert_close(reloaded, trained, atol=2e-3, rtol=1e-3)


def test_latest_symlink_then_text_fallback(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "malbeot.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="notebook 04"):
        runs.latest(tmp_path / "empty")
    runs.point_latest(tmp_path / "a", tmp_path)
    assert runs.latest(tmp_path) == (tmp_path / "a").resolve()
    runs.point_latest(tmp_path / "b", tmp_path)
    assert runs.latest(tmp_path) == (tmp_path / "b").resolve()
    (tmp_path / "latest").unlink()
    (tmp_path / "LATEST").write_text("a\n")  # what Windows without symlink rights gets
    assert runs.latest(tmp_path) == tmp_path / "a"


def test_oom_halves_the_batch_down_to_1_then_names_the_settings_and_keeps_checkpoints(monkeypatch, tmp_path):
    import torch

    calls = []

    def fake(name, dataset_dir, run_dir, out_root, bnb, lora, sft, resume, *rest, **kw):
        calls.append((sft["per_device_train_batch_size"], sft["gradient_accumulation_steps"], resume))
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")

    monkeypatch.setattr(train, "_train_once", fake)
    (tmp_path / "r" / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    with pytest.raises(train.TrainingOOM, match="max_length") as e:
        train.train("polyglot-ko-1.3b", tmp_path, out_root=tmp_path, run_name="r", lora={"r": 16, "lora_alpha": 32},
                    sft={**SFT, "max_length": 1024, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 4})
    assert calls == [(4, 4, False), (2, 8, True), (1, 16, True)]  # same effective batch, resumed each retry
    msg = str(e.value)
    assert "per_device_train_batch_size=1" in msg and "`sft.max_length` to 512 (planner:" in msg and "GiB" in msg
    assert "resume" in msg and (tmp_path / "r" / "checkpoints" / "checkpoint-2").is_dir()


@pytest.mark.slow
def test_a_real_oom_in_a_training_step_frees_the_model_and_resumes_with_half_the_batch(tiny_base, sample_dataset_dir,
                                                                                      tmp_path, monkeypatch):
    import torch
    from transformers import TrainerCallback

    # hold every trainer, as a notebook's last traceback would: the model must be released all the same
    held, make = [], train.make_trainer
    monkeypatch.setattr(train, "make_trainer", lambda *a, **k: held.append(make(*a, **k)) or held[-1])

    ck = tmp_path / "adapters" / "r" / "checkpoints"

    class OOMOnce(TrainerCallback):
        first = None
        seen: list = []

        def on_train_begin(self, args, state, control, model=None, **kw):
            alive = self.first is not None and self.first() is not None
            self.seen.append((args.per_device_train_batch_size, args.gradient_accumulation_steps, alive,
                              checkpoints.problems(ck / "checkpoint-2") == [] if ck.exists() else False))
            self.first = self.first or weakref.ref(model)

        def on_pre_optimizer_step(self, args, state, control, **kw):
            if state.global_step == 2 and len(self.seen) == 1:   # inside step 3: backward done, optimizer not
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB")

    cb = OOMOnce()
    data = small_dataset(sample_dataset_dir, tmp_path / "data")
    run = train.train(str(tiny_base), data, run_name="r", out_root=tmp_path / "adapters", sft=SFT, lora=LORA,
                      device="cpu", callbacks=[cb], keep_checkpoints=True)
    # retry: half the batch, twice the accumulation, the first model already released, checkpoint-2 still there
    assert cb.seen == [(4, 1, False, False), (2, 2, False, True)]
    m = runs.read_meta(run)["metrics"]
    assert m["resumed_from"] == "checkpoint-2" and m["global_step"] == 4 and m["oom_retries"] == 1
    assert (m["per_device_train_batch_size"], m["gradient_accumulation_steps"]) == (2, 2)
    assert len(held) == 2 and held[0][0].model is None and held[0][0].optimizer is None
    card = (run / "train_config.yaml").read_text(encoding="utf-8")
    assert "oom_retries:" in card and "Tried to allocate 20.00 MiB" in card


def test_planner_matches_the_measured_facts_and_warns(capsys):
    p = plan.plan("polyglot-ko-1.3b", 512, 1, 16)
    assert abs(p["params_lora"] - 12.6e6) < 0.1e6  # r=16 on the four targets
    assert 0.58e9 < p["bytes"]["weights_4bit"] < 0.66e9  # 0.60 GB of 4-bit linears (+ quant stats)
    assert 0.45e9 < p["bytes"]["weights_fp32_upcast"] < 0.55e9  # 0.25 GB bf16 -> fp32
    e = plan.plan("eeve-2.8b", 1024, 2, 16)
    assert abs(e["params_lora"] - 23.6e6) < 0.1e6 and e["fits"]
    assert e["bytes"]["logits"] > e["bytes"]["activations_checkpointed"]  # the 58,944-entry vocab is the spike
    big = plan.plan("eeve-2.8b", 2048, 8, 16)
    assert not big["fits"] and big["total_gb"] > 8
    assert train.main(["plan", "--model", "polyglot-ko-1.3b", "--max-length", "512", "--batch", "1"]) == 0
    text = capsys.readouterr().out
    for part in ("weights_4bit", "lora_weights", "optimizer_states", "activations_checkpointed", "logits",
                 "cuda_context"):
        assert part in text
    assert train.main(["plan", "--model", "eeve-2.8b", "--max-length", "2048", "--batch", "8"]) == 1
    assert "WARNING" in capsys.readouterr().out


def test_pick_winner_rule(tmp_path):
    import pandas as pd

    table = pd.DataFrame([
        {"model": "big", "pilot_val_nats_per_char": 1.00, "fits_limit": True, "serve_4bit_gb": 2.0, "planned_train_gib": 6},
        {"model": "small", "pilot_val_nats_per_char": 1.01, "fits_limit": True, "serve_4bit_gb": 1.0, "planned_train_gib": 3},
        {"model": "huge", "pilot_val_nats_per_char": 0.50, "fits_limit": False, "serve_4bit_gb": 9.0, "planned_train_gib": 12},
    ])
    w = compare.pick_winner(table, out=tmp_path / "winner.json")
    assert w["model"] == "small"  # within 2% of the best that fits, smaller to serve; "huge" excluded
    assert json.loads((tmp_path / "winner.json").read_text(encoding="utf-8"))["model"] == "small"
    assert any("huge" in r for r in w["reasons"])


def test_settings_the_profile_must_give_are_named(tmp_path):
    with pytest.raises(ValueError, match="`sft:` needs learning_rate"):
        train.train("tiny-neox", tmp_path, lora=LORA, sft={k: v for k, v in SFT.items() if k != "learning_rate"})
    with pytest.raises(ValueError, match="`lora:` needs lora_alpha"):
        train.train("tiny-neox", tmp_path, lora={"r": 4}, sft=SFT)
    for name in ("sample-cpu", "rtx3060ti"):                     # the shipped profiles say all of them
        prof = config.load_profile(name)
        train.check_settings(prof["lora"], prof["sft"])


def test_workload_and_eta_count_steps_like_the_trainer():
    w = plan.workload([100, 200, 300, 400], 1000, batch=2, accumulation=8, epochs=3)
    assert w["tokens_per_epoch"] == 250_000 and w["steps_per_epoch"] == 63  # 500 batches -> 62 full + 1 partial
    assert w["total_steps"] == 189 and w["max_tokens"] == 400
    assert plan.workload([10], 1000, batch=2, accumulation=8, max_steps=50)["total_steps"] == 50
    t = plan.eta(w, {"tokens_per_second": 1000, "eval_seconds_each": 20, "save_seconds_each": 5},
                 eval_steps=200, save_steps=200, max_hours=0.05)
    step = 250_000 / 63 / 1000 + 25 / 200
    assert t["seconds_per_step"] == pytest.approx(step, abs=1e-3)
    assert t["seconds_per_epoch"] == round(63 * step) and t["seconds_total"] == round(189 * step + 2 * 20)
    assert t["capped"] and t["steps_within_cap"] == int(180 / step)
    text = plan.format_eta(w, t)
    assert "63 steps per epoch" in text and "ETA:" in text and "max_hours 0.05 stops" in text
    with pytest.raises(ValueError, match="tokens_per_second"):
        plan.eta(w, {})
    with pytest.raises(ValueError, match="no training examples"):
        plan.workload([], 0, batch=1, accumulation=1)


def test_memory_check_warns_beyond_15_percent():
    assert plan.memory_check(6.0, 6.8) is None and plan.memory_check(6.0, None) is None
    assert "+17%" in plan.memory_check(6.0, 7.0) and "-17%" in plan.memory_check(6.0, 5.0)
    card = plan.against("eeve-2.8b", {"max_length": 1024, "per_device_train_batch_size": 2}, {"r": 16}, 7.5)
    assert card["planned_reserved_gib"] == plan.plan("eeve-2.8b", 1024, 2, 16)["peak_reserved_gb"]
    assert card["measured_over_planned"] == pytest.approx(7.5 / card["planned_reserved_gib"], abs=1e-3)
    assert card["warning"] and "measured peak 7.50 GiB" in card["warning"]


def test_run_clock_measures_steps_shows_the_eta_and_stops_at_max_hours(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])

    class Bar:
        postfix = ""

        def set_postfix_str(self, text, refresh=True):
            self.postfix = text

    bar = types.SimpleNamespace(training_bar=Bar())
    clock = progress.RunClock(max_hours=0.01)  # 36 s
    clock.handler = types.SimpleNamespace(callbacks=[bar])
    args = types.SimpleNamespace(gradient_accumulation_steps=2, eval_strategy="steps")
    state = types.SimpleNamespace(global_step=0, max_steps=20, num_input_tokens_seen=0)
    control = types.SimpleNamespace(should_training_stop=False, should_evaluate=False, should_save=False)
    clock.on_train_begin(args, state, control, train_dataloader=list(range(20)))  # 20 batches / 2 = 10 steps per epoch
    assert clock.steps_per_epoch == 10
    for step in range(1, 6):
        clock.on_step_begin(args, state, control)
        now[0] += 2.0 if step > 1 else 5.0          # the first step pays for warm-up
        state.global_step, state.num_input_tokens_seen = step, state.num_input_tokens_seen + 1000
        clock.on_step_end(args, state, control)
        if step == 4:
            now[0] += 3.0
            clock.on_evaluate(args, state, control)
            now[0] += 1.0
            clock.on_save(args, state, control)
    s = clock.summary()
    assert s["tokens_per_second"] == 500.0 and s["seconds_per_step"] == 2.0 and s["steps_timed"] == 4
    assert (s["eval_seconds_each"], s["save_seconds_each"], s["train_tokens"]) == (3.0, 1.0, 5000)
    # 17 s for 5 steps (the evaluation and save amortized): 3.4 s a step, 5 to the end of epoch 1; the 36 s cap
    # leaves 19 s, less than the 15 steps left would take
    assert bar.training_bar.postfix == "epoch 1/2 ends in 0m 17s · run ends in 0m 19s (max_hours 0.01)"
    assert not control.should_training_stop
    for step in range(6, 11):
        clock.on_step_begin(args, state, control)
        now[0] += 4.0
        state.global_step = step
        clock.on_step_end(args, state, control)
        if control.should_training_stop:
            break
    assert state.global_step == 10 and control.should_evaluate and control.should_save  # 37 s >= 36 s
    assert clock.summary()["stopped_by"] == "max_hours 0.01 reached at step 10 of 20"
    with pytest.raises(ValueError, match="max_hours"):
        progress.RunClock(max_hours=0)
