"""lib.models: registry facts, meta-device stand-ins, real 4-bit loading, chat template masks; lib.tiny."""
from __future__ import annotations

import json

import pytest

from lib import config, models, template, tiny

CONV = [
    {"role": "system", "content": "말투 연습"},
    {"role": "user", "content": "오빠 뭐해요?"},
    {"role": "assistant", "content": "ㅋㅋ 그냥\n누워있어"},
    {"role": "user", "content": "밥은 먹었어요?"},
    {"role": "assistant", "content": "먹었지 😂"},
]


def test_standin_exact_param_counts_on_meta():
    import torch

    m = models.standin("polyglot-ko-1.3b")
    assert models.param_count(m) == 1_331_810_304
    assert all(p.device == torch.device("meta") for p in m.parameters())  # nothing materialised
    assert m.config.rope_parameters["partial_rotary_factor"] == 0.5  # library default is 0.25
    eeve = models.standin("eeve-2.8b")
    assert 2.75e9 < models.param_count(eeve) < 2.85e9
    assert type(eeve).__name__ == "PhiForCausalLM" and eeve.config.vocab_size == 58944


def test_lora_targets_exist_in_each_architecture():
    for name in ("polyglot-ko-1.3b", "eeve-2.8b", "tiny-neox", "tiny-phi"):
        spec = models.REGISTRY[name]
        leaf = {n.rsplit(".", 1)[-1] for n, _ in models.standin(name).named_modules()}
        assert set(spec.lora_targets) <= leaf, name


def test_spec_resolution_and_errors(tmp_path):
    assert models.spec("EleutherAI/polyglot-ko-1.3b").name == "polyglot-ko-1.3b"
    assert models.spec("/models/yanolja/EEVE-Korean-Instruct-2.8B-v1.0").name == "eeve-2.8b-instruct"
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "phi"}))
    assert models.spec(tmp_path).name == "eeve-2.8b"
    with pytest.raises(ValueError, match="expected one of"):
        models.spec(tmp_path / "nothing-here")
    with pytest.raises(ValueError, match="nf4"):
        models.bnb_config("fp4")
    cfg = models.bnb_config({"load_in_4bit": True, "bnb_4bit_quant_type": "fp4"})   # a profile's `bnb:` section
    assert cfg.load_in_4bit and cfg.bnb_4bit_quant_type == "fp4" and models.bnb_config(None) is None


def test_finding_a_tiny_stand_in_never_builds_it(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "MODELS", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m lib.tiny tiny-phi"):
        models.source("tiny-phi")
    assert not any(tmp_path.iterdir())          # building is the explicit step of lib.tiny


@pytest.mark.slow
def test_template_trains_only_the_final_reply_and_eos(tiny_base):
    tok = models.load_tokenizer(tiny_base)
    out = tok.apply_chat_template(CONV, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    trained = [i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert tok.decode(trained) == " 먹었지 😂" + tok.eos_token
    text = tok.apply_chat_template(CONV, tokenize=False)
    assert text.count(tok.eos_token) == 2  # every assistant turn ends with EOS, context ones untrained
    prompt = tok.apply_chat_template(CONV[:4], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("\n" + template.ROLE_TAGS["assistant"]) and text.startswith(prompt)
    # the prompt ends on the same token boundary as training, so inference sees what training saw
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    assert out["input_ids"][: len(p_ids)] == p_ids


@pytest.mark.slow
def test_nf4_layers_are_really_4bit(tiny_base, tmp_path):
    import bitsandbytes as bnb
    import torch
    from transformers import AutoModelForCausalLM

    model, tok = models.load(tiny_base, bnb="nf4", device="cpu")
    counts = models.count_quantized(model)
    assert counts["linear4bit"] == 4 * 4 and counts["linear"] == 1  # every block linear; lm_head kept
    layer = model.gpt_neox.layers[0].attention.query_key_value
    assert isinstance(layer, bnb.nn.Linear4bit) and layer.weight.dtype == torch.uint8
    assert layer.weight.quant_state.quant_type == "nf4" and layer.weight.quant_state.nested  # double quant
    full = AutoModelForCausalLM.from_pretrained(tiny_base, dtype=torch.float32)
    assert model.get_memory_footprint() < 0.75 * full.get_memory_footprint()
    assert tok.chat_template == models.REGISTRY["tiny-neox"].chat_template
    # the phi stand-in's six targets per block are 4-bit too (random weights; no pre-training needed)
    phi = models.standin("tiny-phi", device="cpu", dtype=torch.float32)
    phi.save_pretrained(tmp_path / "phi")
    phi4 = AutoModelForCausalLM.from_pretrained(tmp_path / "phi", quantization_config=models.bnb_config("nf4"),
                                                dtype=torch.float32, device_map="cpu")
    assert models.count_quantized(phi4)["linear4bit"] == 4 * 6


@pytest.mark.slow
def test_tiny_base_is_cached_and_writes_chat_korean(tiny_base):
    meta = json.loads((tiny_base / "malbeot-tiny.json").read_text(encoding="utf-8"))
    assert 1e6 < meta["params"] < 2e7 and meta["val_loss_end"] < meta["val_loss_start"] / 2
    before = (tiny_base / "model.safetensors").stat().st_mtime_ns
    assert tiny.ensure("tiny-neox") == tiny_base
    assert (tiny_base / "model.safetensors").stat().st_mtime_ns == before  # not rebuilt
    with pytest.raises(ValueError, match="not a tiny stand-in"):
        tiny.ensure("polyglot-ko-1.3b")
