"""The GGUF file for llama.cpp: a merged Hugging Face folder (GPT-NeoX or Phi, byte-level BPE) written with
the `gguf` package, model + tokenizer + chat template, quantized directly or through llama.cpp's quantizer.

Why our own writer: llama.cpp's convert_hf_to_gguf.py (0.3.36) breaks under transformers 5 (reads
`rotary_pct`) and refuses polyglot's tokenizer (its pre-tokenizer hash is not in its list). The model side
is small for these two architectures (gguf's own tensor-name map does the naming); the tokenizer is mapped
by what its pre-tokenizer *is*. llama.cpp applies no normalizer: the tokenizer's Unicode form (NFC for
polyglot) must be applied to its input (lib.tokenizer.normalize); lib.gguf_verify proves the result.
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

from lib import config, fileio
from lib.tokenizer import unicode_form

# HF architecture -> llama.cpp architecture (gguf.MODEL_ARCH member name)
ARCHS = {"GPTNeoXForCausalLM": "GPTNEOX", "PhiForCausalLM": "PHI2"}

# qtypes written directly by gguf-py, and llama.cpp's quantizer file types for the rest
DIRECT_QTYPES = ("F32", "F16", "BF16", "Q8_0")
LLAMA_FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_M": 12, "Q4_K_S": 14,
                "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18}
QTYPES = DIRECT_QTYPES + tuple(LLAMA_FTYPES)

# ours, not llama.cpp's: the Unicode form its text input needs (llama.cpp ignores the key)
NORMALIZER_KEY = "malbeot.tokenizer.normalizer"

# llama.cpp's GPT-2 split regex, which Hugging Face's ByteLevel(use_regex=True) also applies
GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"


def pre_tokenizer_name(tokenizer_json: dict) -> str:
    """llama.cpp's pre-tokenizer name for a Hugging Face tokenizer.json, by what it does (not by hash).

    polyglot-ko (and the tiny stand-ins) use a bare ByteLevel pre-tokenizer with its GPT-2 regex,
    which is llama.cpp's "gpt-2". Anything else is refused rather than silently mis-tokenized.
    """
    model = tokenizer_json.get("model", {})
    if model.get("type") != "BPE":
        raise ValueError(f"tokenizer model {model.get('type')!r} is not supported: expected byte-level BPE")
    pre = tokenizer_json.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    kinds = [s.get("type") for s in steps]
    if kinds == ["ByteLevel"] and steps[0].get("use_regex", True) and not steps[0].get("add_prefix_space"):
        return "gpt-2"
    if (kinds == ["Split", "ByteLevel"] and not steps[1].get("use_regex", True)
            and steps[0].get("pattern", {}).get("Regex") == GPT2_SPLIT):
        return "gpt-2"
    raise ValueError(f"pre-tokenizer {json.dumps(pre)[:300]} has no known llama.cpp equivalent: "
                     "expected ByteLevel with the GPT-2 regex (pass pre=... to to_gguf to force one)")


def llama_chat_template(template: str | None) -> str | None:
    """The template without the {% generation %} markers (training-only; llama.cpp's Jinja lacks them)."""
    if not template:
        return template
    return re.sub(r"\{%-?\s*(end)?generation\s*-?%\}", "", template)


def _vocab(tok, n_vocab: int):
    """Tokens (byte-level strings as in tokenizer.json) and their llama.cpp types, padded to n_vocab."""
    import gguf

    reverse = {i: t for t, i in tok.get_vocab().items()}
    added = {i: a for i, a in tok.added_tokens_decoder.items()}
    if len(reverse) > n_vocab:
        raise ValueError(f"tokenizer has {len(reverse)} tokens but the model only {n_vocab} embeddings")
    tokens, types = [], []
    for i in range(n_vocab):
        if i not in reverse:  # polyglot pads its 30003 tokens to 30080 embeddings
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(added[i].content)
            types.append(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.NORMAL)
    return tokens, types


def _hparams(cfg) -> dict:
    """The numbers llama.cpp needs, read the same way for transformers 4 and 5 configs."""
    rope = dict(getattr(cfg, "rope_parameters", None) or {})
    partial = rope.get("partial_rotary_factor") or getattr(cfg, "partial_rotary_factor", None) \
        or getattr(cfg, "rotary_pct", None) or 1.0
    theta = rope.get("rope_theta") or getattr(cfg, "rope_theta", None) or getattr(cfg, "rotary_emb_base", None) \
        or 10000.0
    head_dim = cfg.hidden_size // cfg.num_attention_heads
    return dict(n_ctx=cfg.max_position_embeddings, n_embd=cfg.hidden_size, n_layer=cfg.num_hidden_layers,
                n_ff=cfg.intermediate_size, n_head=cfg.num_attention_heads,
                n_head_kv=getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads,
                n_rot=int(partial * head_dim), theta=float(theta), eps=float(cfg.layer_norm_eps),
                head_dim=head_dim)


def _shards(merged_dir: Path) -> list[Path]:
    files = sorted(merged_dir.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"no *.safetensors in {merged_dir}: expected a folder written by export.merge")
    return files


def _tensor_shapes(merged_dir: Path):
    """(name, shape) of every stored tensor, from the safetensors headers only."""
    from safetensors import safe_open

    for f in _shards(merged_dir):
        with safe_open(str(f), framework="pt") as st:
            for name in st.keys():
                yield name, tuple(st.get_slice(name).get_shape())


def _tensors(merged_dir: Path):
    """(name, torch tensor) from the safetensors shards, one at a time (memory-mapped, no full copy)."""
    from safetensors import safe_open

    for f in _shards(merged_dir):
        with safe_open(str(f), framework="pt") as st:
            for name in st.keys():
                yield name, st.get_tensor(name)


def _convert_tensor(name: str, t, arch: str, hp: dict):
    """HF layout -> llama.cpp layout. GPT-NeoX interleaves q/k/v per head; llama.cpp wants [q; k; v]."""
    import torch

    if arch == "GPTNEOX" and ".attention.query_key_value." in name:
        n_head, hd = hp["n_head"], hp["head_dim"]
        rest = t.shape[1:]
        t = t.reshape(n_head, 3, hd, *rest).transpose(0, 1).reshape(3 * n_head * hd, *rest)
    return t.to(torch.float32).numpy()


def _ggml_type(shape: tuple, qtype: str):
    """The type a tensor is stored in: 1-D tensors (norms, biases) stay F32 as llama.cpp expects;
    a matrix whose rows are not a multiple of the quant block falls back to F16."""
    import gguf

    Q = gguf.GGMLQuantizationType
    if len(shape) <= 1 or qtype == "F32":
        return Q.F32
    target = Q[qtype]
    if shape[-1] % gguf.GGML_QUANT_SIZES[target][0]:
        return Q.F16
    return target


def _nbytes(shape: tuple, ggml_type) -> int:
    import math

    import gguf

    block, size = gguf.GGML_QUANT_SIZES[ggml_type]
    return math.prod(shape) // block * size


def _encode(data, ggml_type):
    import gguf
    import numpy as np

    Q = gguf.GGMLQuantizationType
    if ggml_type == Q.F32:
        return data.astype(np.float32)
    if ggml_type == Q.F16:
        return data.astype(np.float16)
    return gguf.quants.quantize(data, ggml_type)


def to_gguf(merged_dir: str | Path, out_path: str | Path, qtype: str = "Q4_K_M", *, pre: str | None = None,
            threads: int | None = None) -> Path:
    """Write a llama.cpp GGUF (model + tokenizer + chat template) from a merged HF folder.

    F32/F16/BF16/Q8_0 are written directly by gguf-py; K-quants (Q4_K_M, ...) go through an F16/BF16
    intermediate and llama.cpp's own quantizer (llama_cpp.llama_model_quantize).
    """
    qtype = qtype.upper()
    if qtype not in QTYPES:
        raise ValueError(f"qtype={qtype!r}: expected one of {', '.join(QTYPES)}")
    merged_dir, out_path = config.resolve(merged_dir), config.resolve(out_path)
    if not (merged_dir / "config.json").is_file():
        raise FileNotFoundError(f"{merged_dir} has no config.json: expected a merged model folder "
                                "(python -m lib.export merge ADAPTER OUT)")
    if qtype in LLAMA_FTYPES:
        return _quantize_llama(merged_dir, out_path, qtype, pre=pre, threads=threads)
    with fileio.atomic_path(out_path) as tmp:
        _write_gguf(merged_dir, tmp, qtype, pre=pre)
    return out_path


def _write_gguf(merged_dir: Path, out: Path, qtype: str, *, pre: str | None) -> None:
    import gguf
    from tqdm.auto import tqdm
    from transformers import AutoConfig, AutoTokenizer

    cfg = AutoConfig.from_pretrained(merged_dir)
    hf_arch = (cfg.architectures or ["?"])[0]
    if hf_arch not in ARCHS:
        raise ValueError(f"{merged_dir}: architecture {hf_arch!r} is not supported; expected one of {list(ARCHS)}")
    arch = ARCHS[hf_arch]
    hp = _hparams(cfg)
    tok = AutoTokenizer.from_pretrained(merged_dir)
    tok_json = json.loads((merged_dir / "tokenizer.json").read_text(encoding="utf-8"))

    w = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH[arch]])
    w.add_name(merged_dir.name)
    w.add_context_length(hp["n_ctx"])
    w.add_embedding_length(hp["n_embd"])
    w.add_block_count(hp["n_layer"])
    w.add_feed_forward_length(hp["n_ff"])
    w.add_head_count(hp["n_head"])
    w.add_rope_dimension_count(hp["n_rot"])
    w.add_rope_freq_base(hp["theta"])
    w.add_layer_norm_eps(hp["eps"])
    if arch == "GPTNEOX":
        w.add_parallel_residual(bool(getattr(cfg, "use_parallel_residual", True)))
    else:
        w.add_head_count_kv(hp["n_head_kv"])
    ftype = {"F32": 0, "F16": 1, "BF16": 32, "Q8_0": 7}[qtype]
    w.add_file_type(ftype)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)

    # tokenizer: byte-level BPE, the vocab and merges exactly as in tokenizer.json
    tokens, types = _vocab(tok, cfg.vocab_size)
    form = unicode_form(tok)  # raises for a normalizer llama.cpp's input could not be given beforehand
    w.add_string(NORMALIZER_KEY, form or "none")  # for whoever feeds it text: normalize first
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre or pre_tokenizer_name(tok_json))
    w.add_token_list(tokens)
    w.add_token_types(types)
    special = gguf.SpecialVocab(merged_dir, load_merges=True, n_vocab=len(tokens))
    with_special = tok("a")["input_ids"]
    plain = tok("a", add_special_tokens=False)["input_ids"]
    special.add_special_token["bos"] = len(with_special) > len(plain) and with_special[0] == tok.bos_token_id
    special.add_special_token["eos"] = len(with_special) > len(plain) and with_special[-1] == tok.eos_token_id
    special.chat_template = llama_chat_template(tok.chat_template)
    special.add_to_gguf(w, quiet=True)

    # header first (shapes and types from the safetensors headers), then one tensor at a time
    import numpy as np

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[arch], hp["n_layer"])
    plan = {}
    for name, shape in _tensor_shapes(merged_dir):
        if name.endswith((".rotary_emb.inv_freq", ".attention.bias", ".attention.masked_bias")):
            continue
        new = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if new is None:
            raise ValueError(f"tensor {name!r} of {merged_dir} has no llama.cpp name for {arch}")
        ggml_type = _ggml_type(shape, qtype)
        w.add_tensor_info(new, shape, np.dtype(np.float32), _nbytes(shape, ggml_type), raw_dtype=ggml_type)
        plan[name] = ggml_type
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for name, t in tqdm(_tensors(merged_dir), total=len(plan), desc=f"GGUF {qtype}", leave=False):
        if name in plan:
            w.write_tensor_data(_encode(_convert_tensor(name, t, arch, hp), plan[name]))
    w.close()


def _quantize_llama(merged_dir: Path, out_path: Path, qtype: str, *, pre, threads) -> Path:
    import llama_cpp

    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # not a line per tensor

    # lossless intermediate: the merged weights' own 16-bit type (fp32 tiny models stay F32)
    src_dtype = json.loads((merged_dir / "config.json").read_text(encoding="utf-8")).get("dtype") \
        or json.loads((merged_dir / "config.json").read_text(encoding="utf-8")).get("torch_dtype")
    inter = {"bfloat16": "BF16", "float16": "F16"}.get(str(src_dtype), "F32")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".gguf-") as d:
        src = Path(d) / f"model-{inter}.gguf"
        _write_gguf(merged_dir, src, inter, pre=pre)
        with fileio.atomic_path(out_path) as tmp:
            params = llama_cpp.llama_model_quantize_default_params()
            params.ftype = LLAMA_FTYPES[qtype]
            params.nthread = threads or os.cpu_count() or 1
            rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), params)
            if rc != 0:
                raise RuntimeError(f"llama.cpp failed to quantize {src} to {qtype} (return code {rc})")
    return out_path
