"""lib.train: a real tiny QLoRA run, label masking, reload, resume, latest (lib.runs), OOM handling; lib.plan and
lib.compare's decision rule."""
from __future__ import annotations

import json

import pytest

from lib import compare, config, models, plan, runs, train


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
    fitted = train.fit_messages(msgs, tok, 90)
    assert fitted[0]["role"] == "system" and fitted[-1] == msgs[-1] and fitted[1]["role"] == "user"
    assert len(fitted) < len(msgs)
    assert train.fit_messages(msgs[:1] + [msgs[-1]], tok, 5) is None


class Interrupt(Exception):
    pass


@pytest.mark.slow
def test_resume_after_interruption(tiny_base, sample_dataset_dir, tmp_path):
    from transformers import TrainerCallback

    class KillAt3(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 3:
                raise Interrupt("simulated kill")

    data = small_dataset(sample_dataset_dir, tmp_path / "data")
    root = tmp_path / "adapters"
    with pytest.raises(Interrupt):
        train.train(str(tiny_base), data, run_name="r", out_root=root, sft=SFT, lora=LORA, device="cpu",
                    callbacks=[KillAt3()])
    assert (root / "r" / "checkpoints" / "checkpoint-2").is_dir() and not (root / "r" / "malbeot.json").exists()
    with pytest.raises(FileNotFoundError):
        runs.latest(root)  # an unfinished run is never "latest"
    run = train.train(str(tiny_base), data, run_name="r", out_root=root, sft=SFT, lora=LORA, device="cpu",
                      resume=True)
    m = json.loads((run / "malbeot.json").read_text(encoding="utf-8"))["metrics"]
    assert m["resumed_from"] == "checkpoint-2" and m["global_step"] == 4 and m["eval_loss_start"] is not None
    assert runs.latest(root) == run.resolve()


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


def test_oom_retries_with_half_batch_then_names_the_setting(monkeypatch, tmp_path):
    import torch

    calls = []

    def fake(name, dataset_dir, run_dir, out_root, bnb, lora, sft, *rest):
        calls.append((sft["per_device_train_batch_size"], sft["gradient_accumulation_steps"]))
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(train, "_train_once", fake)
    with pytest.raises(train.TrainingOOM, match="max_length") as e:
        train.train("tiny-neox", tmp_path, out_root=tmp_path, lora=LORA,
                    sft={**SFT, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 4})
    assert calls == [(4, 4), (2, 8), (1, 16)]  # same effective batch at each retry
    assert "per_device_train_batch_size=1" in str(e.value)


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
