"""Model registry (hub id, architecture, LoRA targets, template tags), loading from a hub id or a local
folder with bitsandbytes really applied, and full-size random-weight stand-ins for memory benchmarks.

The tiny stand-ins (same classes, a few M parameters) are built by lib.tiny; `source()` only finds them.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from lib import config, fileio, runs
from lib.template import EEVE_SYSTEM, INSTRUCT_TAGS, ROLE_TAGS, make_chat_template

log = logging.getLogger(__name__)

# Sampling defaults for every way a reply is generated (app, terminal, comparison, evaluation); a
# profile's `generation:` section overrides them. A fine-tuned small model needs some heat; a chat turn
# is short, and a longer budget only feeds loops.
GENERATION = {"temperature": 0.8, "top_p": 0.9, "repetition_penalty": 1.1, "max_new_tokens": 64}

# `bnb:` presets for the serving side (secrets say quant = "nf4"); a profile's `bnb:` section holds
# BitsAndBytesConfig fields directly. The compute dtype is filled in per device (see compute_dtype).
BNB_PRESETS = {
    "nf4": {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True},
    "int8": {"load_in_8bit": True},
}


# ---------------------------------------------------------------------------------------------------------
# Registry: one entry per model; `arch` is the hub config.json kept in the repo (no hub access needed).
@dataclass(frozen=True)
class ModelSpec:
    name: str
    hub_id: str | None                 # None for the local tiny stand-ins
    arch: dict                         # config.json fields incl. model_type
    lora_targets: tuple[str, ...]
    tags: dict = field(default_factory=lambda: dict(ROLE_TAGS))
    default_system: str | None = None
    tiny: dict | None = None           # pre-training recipe for the tiny stand-ins
    weights_dtype: str = "float16"     # dtype of the published weights

    @property
    def chat_template(self) -> str:
        return make_chat_template(self.tags, self.default_system)

    @property
    def model_type(self) -> str:
        return self.arch["model_type"]


NEOX_TARGETS = ("query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h")  # "dense" = attention output
PHI_TARGETS = ("q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2")

POLYGLOT_ARCH = dict(
    model_type="gpt_neox", architectures=["GPTNeoXForCausalLM"], vocab_size=30080, hidden_size=2048,
    num_hidden_layers=24, num_attention_heads=16, intermediate_size=8192, max_position_embeddings=2048,
    rotary_pct=0.5, rotary_emb_base=10000, use_parallel_residual=True, tie_word_embeddings=False,
    hidden_act="gelu", layer_norm_eps=1e-5, bos_token_id=0, eos_token_id=2,
)
EEVE_ARCH = dict(
    model_type="phi", architectures=["PhiForCausalLM"], vocab_size=58944, hidden_size=2560,
    num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32, intermediate_size=10240,
    max_position_embeddings=2048, partial_rotary_factor=0.4, rope_theta=10000.0, hidden_act="gelu_new",
    layer_norm_eps=1e-5, tie_word_embeddings=False, qk_layernorm=False, bos_token_id=50256, eos_token_id=50256,
)
# Tiny stand-ins: same classes, a few million parameters; dims are multiples of 64 (bitsandbytes blocks).
TINY_RECIPE = dict(vocab_size=4096, seq_len=128, batch=16, steps=160, lr=3e-3, warmup=10, seed=0,
                   window_turns=10, version=4)
# = the real architectures with small dims; tiny-phi rotates half of each 64-wide head (0.4 would be 25.6 dims)
TINY_DIMS = dict(vocab_size=4096, hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024,
                 max_position_embeddings=512, bos_token_id=0, eos_token_id=0)
TINY_NEOX_ARCH = {**POLYGLOT_ARCH, **TINY_DIMS}
TINY_PHI_ARCH = {**EEVE_ARCH, **TINY_DIMS, "num_key_value_heads": 4, "partial_rotary_factor": 0.5}

REGISTRY: dict[str, ModelSpec] = {s.name: s for s in [
    ModelSpec("polyglot-ko-1.3b", "EleutherAI/polyglot-ko-1.3b", POLYGLOT_ARCH, NEOX_TARGETS),
    ModelSpec("eeve-2.8b", "yanolja/EEVE-Korean-2.8B-v1.0", EEVE_ARCH, PHI_TARGETS,
              weights_dtype="bfloat16"),
    ModelSpec("eeve-2.8b-instruct", "yanolja/EEVE-Korean-Instruct-2.8B-v1.0", EEVE_ARCH, PHI_TARGETS,
              tags=dict(INSTRUCT_TAGS), default_system=EEVE_SYSTEM, weights_dtype="bfloat16"),
    ModelSpec("tiny-neox", None, TINY_NEOX_ARCH, NEOX_TARGETS, tiny=TINY_RECIPE, weights_dtype="float32"),
    ModelSpec("tiny-phi", None, TINY_PHI_ARCH, PHI_TARGETS, tiny=TINY_RECIPE, weights_dtype="float32"),
]}


def spec(name_or_path: str | Path) -> ModelSpec:
    """The registry entry for a name, a hub id, an adapter run (malbeot.json) or a local model folder."""
    key = str(name_or_path)
    if key in REGISTRY:
        return REGISTRY[key]
    for s in REGISTRY.values():
        if s.hub_id and key.rstrip("/").lower().endswith(s.hub_id.lower()):
            return s
    path = Path(name_or_path)
    base = runs.read_meta(path).get("base") if path.is_dir() else None
    if base in REGISTRY:
        return REGISTRY[base]
    if path.name in REGISTRY:  # outputs/models/tiny-neox
        return REGISTRY[path.name]
    low = path.name.lower()
    cfg = path / "config.json"
    model_type = json.loads(cfg.read_text(encoding="utf-8")).get("model_type") if cfg.is_file() else None
    if model_type == "phi" or "eeve" in low:
        return REGISTRY["eeve-2.8b-instruct" if "instruct" in low else "eeve-2.8b"]
    if model_type == "gpt_neox" or "polyglot" in low:
        return REGISTRY["polyglot-ko-1.3b"]
    known = ", ".join(REGISTRY)
    raise ValueError(f"unknown model {key!r}: expected one of {known}, a hub id, or a folder with config.json")


def source(name_or_path: str | Path) -> str:
    """Where from_pretrained reads: the tiny stand-in's folder, a hub id, or the given folder."""
    key = str(name_or_path)
    if key in REGISTRY:
        s = REGISTRY[key]
        if not s.tiny:
            return s.hub_id
        folder = config.MODELS / key
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"the tiny stand-in {key!r} is not built yet ({folder}): build it with "
                                    f"`python -m lib.tiny {key}` (make pipeline and the tests do it first)")
        return str(folder)
    path = config.resolve(key)
    if path.is_dir():
        return str(path)
    if "/" in key and not path.exists() and key.count("/") == 1:
        return key  # a hub id
    raise FileNotFoundError(f"model {key!r}: not a registry name ({', '.join(REGISTRY)}), hub id or folder")


def make_config(name: str):
    from transformers import AutoConfig

    arch = dict(REGISTRY[name].arch)
    arch.pop("architectures", None)
    return AutoConfig.for_model(**arch)


def param_count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def standin(name: str, device: str = "meta", dtype=None):
    """A full-size copy of a registry architecture with random weights (meta device = no memory)."""
    import torch
    from transformers import AutoModelForCausalLM

    cfg = make_config(name)
    dtype = dtype or getattr(torch, REGISTRY[name].weights_dtype)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(cfg, dtype=dtype)
    if device != "meta":
        # Skip HF's slow per-module init: random normal weights are all a memory/speed stand-in needs.
        model = model.to_empty(device=device)
        gen = torch.Generator(device=device).manual_seed(0)
        with torch.no_grad():
            for n, p in model.named_parameters():
                if "norm" in n and n.endswith("weight"):
                    p.fill_(1.0)
                elif n.endswith("bias") or "norm" in n:
                    p.zero_()
                else:
                    p.normal_(0.0, 0.02, generator=gen)
        model.apply(_reset_rotary)
    return model


def _reset_rotary(module):
    # rotary embedding buffers are not parameters; recompute them after to_empty()
    if hasattr(module, "inv_freq") and hasattr(module, "rope_init_fn"):
        inv_freq, scale = module.rope_init_fn(module.config, module.inv_freq.device)
        module.inv_freq.copy_(inv_freq)
        if hasattr(module, "original_inv_freq"):
            module.original_inv_freq = inv_freq
        module.attention_scaling = scale


def standin_folder(name: str) -> Path:
    """Save a random full-size stand-in once (outputs/cache/standin-<name>/) so `load()` can 4-bit it
    through the real from_pretrained path. Several GB on disk."""
    out = config.cache() / f"standin-{name}"
    if (out / "config.json").is_file():
        return out
    model = standin(name, device="cpu")
    with fileio.atomic_path(out) as tmp:
        model.save_pretrained(tmp, max_shard_size="2GB")
    del model
    return out


def serving_size(name: str) -> dict:
    """Bytes of the weights to serve at 4-bit (nf4 linears, fp16 rest) and 8-bit (int8 linears, fp16 rest)."""
    import torch

    net = standin(name)
    lin = sum(m.in_features * m.out_features for n, m in net.named_modules()
              if isinstance(m, torch.nn.Linear) and ".layers." in f".{n}")
    rest = param_count(net) - lin
    return {"params": param_count(net), "4bit_gb": round((lin * 0.516 + rest * 2) / 1024**3, 3),
            "8bit_gb": round((lin * 1.0 + rest * 2) / 1024**3, 3), "fp16_gb": round(param_count(net) * 2 / 1024**3, 3)}


def tokens_per_char(tokenizer, texts) -> float:
    """How well a tokenizer fits this chat (ㅋㅋ, emoji, casual Korean): tokens per character, lower = better."""
    texts = [t for t in texts if t]
    n_tok = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
    return n_tok / max(1, sum(len(t) for t in texts))


# ---------------------------------------------------------------------------------------------------------
# Loading
def compute_dtype(device: str = "auto"):
    """bf16 on GPUs that support it (Ampere+), fp16 on older GPUs, fp32 on CPU (bf16 matmuls are slow there)."""
    import torch

    if device != "cpu" and torch.cuda.is_available():
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def bnb_config(bnb: dict | str | None, dtype=None):
    """BitsAndBytesConfig from a profile's `bnb:` section (its fields) or a preset name ("nf4", "int8");
    None = full precision. The 4-bit compute dtype defaults to the device's (compute_dtype)."""
    from transformers import BitsAndBytesConfig

    if bnb in (None, "none", "null") or bnb == {}:
        return None
    if isinstance(bnb, str):
        if bnb not in BNB_PRESETS:
            raise ValueError(f"bnb={bnb!r}: expected a BitsAndBytesConfig section, one of {list(BNB_PRESETS)} or None")
        bnb = BNB_PRESETS[bnb]
    kw = dict(bnb)
    if kw.get("load_in_4bit"):
        kw.setdefault("bnb_4bit_compute_dtype", dtype or compute_dtype())
    return BitsAndBytesConfig(**kw)


def count_quantized(model) -> dict:
    """How many Linear layers are really 4-bit / 8-bit (bitsandbytes) vs plain."""
    import bitsandbytes as bnb
    import torch

    n4 = sum(isinstance(m, bnb.nn.Linear4bit) for m in model.modules())
    n8 = sum(isinstance(m, bnb.nn.Linear8bitLt) for m in model.modules())
    plain = sum(type(m) is torch.nn.Linear for m in model.modules())
    return {"linear4bit": n4, "linear8bit": n8, "linear": plain}


def disable_cpu_packing(model) -> int:
    """bitsandbytes repacks 4-bit CPU weights for AVX512-BF16 inference the first time a layer runs in eval
    mode, and its packed path cannot train (in-place bias add on a grad view). Training on CPU evaluates
    between steps, so switch the repacking off; returns the number of layers touched."""
    import bitsandbytes as bnb

    n = 0
    for m in model.modules():
        if isinstance(m, bnb.nn.Linear4bit):
            m.support_avx512bf16_for_cpu = False
            n += 1
    return n


def load(name_or_path: str | Path, bnb: dict | str | None = "nf4", device: str = "auto", dtype=None):
    """(model, tokenizer) from a registry name, hub id or local folder, with 4-bit/8-bit really applied.
    `bnb`: a profile's `bnb:` section, a preset name ("nf4", "int8") or None (full precision)."""
    import torch
    from transformers import AutoModelForCausalLM

    src = source(name_or_path)
    on_gpu = device != "cpu" and torch.cuda.is_available()
    dtype = dtype or compute_dtype(device)
    qcfg = bnb_config(bnb, dtype)
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(
        src, dtype=dtype, quantization_config=qcfg,
        device_map=("auto" if device == "auto" else device) if on_gpu else "cpu",
    )
    counts = count_quantized(model)
    if qcfg is not None and qcfg.load_in_4bit and counts["linear4bit"] == 0:
        raise RuntimeError(f"asked for 4-bit but {src} loaded with no Linear4bit layers ({counts}); "
                           "is bitsandbytes installed with a backend for this device?")
    if qcfg is not None and qcfg.load_in_8bit and counts["linear8bit"] == 0:
        raise RuntimeError(f"asked for 8-bit but {src} loaded with no Linear8bitLt layers ({counts})")
    log.info("loaded %s (%s) in %.1fs: %s", name_or_path, bnb, time.perf_counter() - t0, counts)
    return model, load_tokenizer(name_or_path)


def load_tokenizer(name_or_path: str | Path):
    """The tokenizer with the project's chat template (kept if the folder already carries one with
    generation markers, e.g. an adapter run), pad = eos where the model has no pad token."""
    from transformers import AutoTokenizer

    key = str(name_or_path)
    src = source(key) if key in REGISTRY else (str(config.resolve(key)) if config.resolve(key).is_dir() else key)
    tok = AutoTokenizer.from_pretrained(src)
    if not tok.chat_template or "generation" not in tok.chat_template:
        tok.chat_template = spec(name_or_path).chat_template
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok
