"""Model registry, loading (hub id or local folder, 4-bit really applied), full-size random stand-ins,
the locally built tiny stand-ins (tokenizer + brief pre-training) and the project's chat templates."""
from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from lib import config, fileio

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------------
# Chat template. A base model has no chat format, so turns are plain speaker-tagged lines:
#     [### system line\n]상대: 그녀의 말\n나: 내 답<eos>\n상대: ...\n나: 내 답<eos>
# The tag is followed by the content with a leading space *inside* the reply, so the prompt at inference
# ("...\n나:") ends on the same token boundary as in training. Every assistant turn ends with EOS
# (generation stops there); only the LAST assistant turn is inside {% generation %}, so context replies
# in the history are not trained again and again.
ROLE_TAGS = {"system": "### ", "user": "상대:", "assistant": "나:"}
INSTRUCT_TAGS = {"system": "", "user": "Human:", "assistant": "Assistant:"}  # EEVE-Instruct's own format
EEVE_SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
               "The assistant gives helpful, detailed, and polite answers to the user's questions.")


def stop_strings(tags: dict = ROLE_TAGS) -> list[str]:
    """Strings that end a reply besides EOS: the start of the next speaker-tagged line."""
    return ["\n" + tags["user"], "\n" + tags["assistant"]]


STOP_STRINGS = stop_strings(ROLE_TAGS)


def make_chat_template(tags: dict = ROLE_TAGS, default_system: str | None = None) -> str:
    """A Jinja chat template with speaker tags; see the comment above ROLE_TAGS for the format."""
    j = lambda s: json.dumps(s, ensure_ascii=False)  # noqa: E731 - a Jinja string literal
    system_default = (
        f"{{%- if messages[0]['role'] != 'system' -%}}{{{{ {j(tags['system'] + default_system + chr(10))} }}}}"
        "{%- endif -%}" if default_system else ""
    )
    return (
        "{%- set ns = namespace(last=-1) -%}"
        "{%- for m in messages -%}{%- if m['role'] == 'assistant' -%}{%- set ns.last = loop.index0 -%}"
        "{%- endif -%}{%- endfor -%}"
        + system_default +
        "{%- for m in messages -%}"
        "{%- if m['role'] == 'system' -%}"
        f"{{{{ {j(tags['system'])} + m['content'] + '\\n' }}}}"
        "{%- elif m['role'] == 'user' -%}"
        f"{{{{ {j(tags['user'])} + ' ' + m['content'] + '\\n' }}}}"
        "{%- elif m['role'] == 'assistant' -%}"
        f"{{{{ {j(tags['assistant'])} }}}}"
        "{%- if loop.index0 == ns.last -%}"
        "{% generation %}{{ ' ' + m['content'] + eos_token }}{% endgeneration %}"
        "{%- else -%}{{ ' ' + m['content'] + eos_token }}{%- endif -%}"
        "{%- if not loop.last -%}{{ '\\n' }}{%- endif -%}"
        "{%- else -%}{{ raise_exception('unknown role ' + m['role'] + ': expected system, user or assistant') }}"
        "{%- endif -%}"
        "{%- endfor -%}"
        f"{{%- if add_generation_prompt -%}}{{{{ {j(tags['assistant'])} }}}}{{%- endif -%}}"
    )


CHAT_TEMPLATE = make_chat_template(ROLE_TAGS)


# ---------------------------------------------------------------------------------------------------------
# Registry: one entry per model; `arch` is the hub config.json kept in the repo (no hub access needed).
@dataclass(frozen=True)
class ModelSpec:
    name: str
    hub_id: str | None                 # None for the local tiny stand-ins
    arch: dict                         # config.json fields incl. model_type
    lora_targets: tuple[str, ...]
    train_defaults: dict               # 8 GB settings (SFTConfig / LoraConfig field names)
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
TRAIN_8GB = dict(max_length=1024, per_device_train_batch_size=2, gradient_accumulation_steps=8,
                 learning_rate=2e-4, r=16, lora_alpha=32)

# Tiny stand-ins: same classes, a few million parameters; dims are multiples of 64 (bitsandbytes blocks).
TINY_RECIPE = dict(vocab_size=4096, seq_len=128, batch=16, steps=160, lr=3e-3, warmup=10, seed=0,
                   window_turns=10, version=4)
# = the real architectures with small dims; tiny-phi rotates half of each 64-wide head (0.4 would be 25.6 dims)
TINY_DIMS = dict(vocab_size=4096, hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024,
                 max_position_embeddings=512, bos_token_id=0, eos_token_id=0)
TINY_NEOX_ARCH = {**POLYGLOT_ARCH, **TINY_DIMS}
TINY_PHI_ARCH = {**EEVE_ARCH, **TINY_DIMS, "num_key_value_heads": 4, "partial_rotary_factor": 0.5}
TRAIN_TINY = dict(max_length=256, per_device_train_batch_size=8, gradient_accumulation_steps=1,
                  learning_rate=2e-3, r=8, lora_alpha=16)

REGISTRY: dict[str, ModelSpec] = {s.name: s for s in [
    ModelSpec("polyglot-ko-1.3b", "EleutherAI/polyglot-ko-1.3b", POLYGLOT_ARCH, NEOX_TARGETS, TRAIN_8GB),
    ModelSpec("eeve-2.8b", "yanolja/EEVE-Korean-2.8B-v1.0", EEVE_ARCH, PHI_TARGETS, TRAIN_8GB,
              weights_dtype="bfloat16"),
    ModelSpec("eeve-2.8b-instruct", "yanolja/EEVE-Korean-Instruct-2.8B-v1.0", EEVE_ARCH, PHI_TARGETS, TRAIN_8GB,
              tags=dict(INSTRUCT_TAGS), default_system=EEVE_SYSTEM, weights_dtype="bfloat16"),
    ModelSpec("tiny-neox", None, TINY_NEOX_ARCH, NEOX_TARGETS, TRAIN_TINY, tiny=TINY_RECIPE, weights_dtype="float32"),
    ModelSpec("tiny-phi", None, TINY_PHI_ARCH, PHI_TARGETS, TRAIN_TINY, tiny=TINY_RECIPE, weights_dtype="float32"),
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
    meta = path / "malbeot.json"
    if meta.is_file():
        base = json.loads(meta.read_text(encoding="utf-8")).get("base")
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
    """Where from_pretrained reads: the tiny stand-in's cache folder, a hub id, or the given folder."""
    key = str(name_or_path)
    if key in REGISTRY:
        s = REGISTRY[key]
        return str(ensure_tiny(key)) if s.tiny else s.hub_id
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
    out = config.OUTPUTS / "cache" / f"standin-{name}"
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


def quant_config(quant: str | None, dtype=None, **overrides):
    """BitsAndBytesConfig for nf4 (double quant, explicit quant type) or int8; None = full precision."""
    from transformers import BitsAndBytesConfig

    if quant in (None, "none", "null"):
        return None
    if quant == "nf4":
        kw = dict(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                  bnb_4bit_compute_dtype=dtype or compute_dtype())
    elif quant == "int8":
        kw = dict(load_in_8bit=True)
    else:
        raise ValueError(f"quant={quant!r}: expected 'nf4', 'int8' or None")
    kw.update(overrides)
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


def load(name_or_path: str | Path, quant: str | None = "nf4", device: str = "auto", dtype=None):
    """(model, tokenizer) from a registry name, hub id or local folder, with 4-bit/8-bit really applied."""
    import torch
    from transformers import AutoModelForCausalLM

    src = source(name_or_path)
    on_gpu = device != "cpu" and torch.cuda.is_available()
    dtype = dtype or compute_dtype(device)
    qcfg = quant_config(quant, dtype)
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(
        src, dtype=dtype, quantization_config=qcfg,
        device_map=("auto" if device == "auto" else device) if on_gpu else "cpu",
    )
    counts = count_quantized(model)
    if quant == "nf4" and counts["linear4bit"] == 0:
        raise RuntimeError(f"asked for 4-bit but {src} loaded with no Linear4bit layers ({counts}); "
                           "is bitsandbytes installed with a backend for this device?")
    if quant == "int8" and counts["linear8bit"] == 0:
        raise RuntimeError(f"asked for 8-bit but {src} loaded with no Linear8bitLt layers ({counts})")
    log.info("loaded %s (%s) in %.1fs: %s", name_or_path, quant, time.perf_counter() - t0, counts)
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


# ---------------------------------------------------------------------------------------------------------
# Tiny stand-ins: tokenizer trained on the chat, model briefly pre-trained on BOTH speakers' turns with
# the roles assigned at random per window, so it writes chat-like Korean in nobody's style in particular.
def chat_sessions(chat=None, *, gap_minutes: int = 5, session_hours: int = 6) -> list[list[tuple[str, str]]]:
    """Sessions of (speaker, turn text) from a chat DataFrame (lib.kakao columns; default the sample chat):
    one speaker's consecutive text bubbles within `gap_minutes` form a turn ("\n"-joined); a silence
    longer than `session_hours` starts a new session."""
    import pandas as pd

    if chat is None:
        chat = _sample_chat()
    df = chat[chat["speaker"].notna() & (chat["kind"] == "text")].sort_values("time", kind="stable")
    sessions: list[list[tuple[str, str]]] = []
    prev_time, prev_speaker = None, None
    for t, who, text in zip(df["time"], df["speaker"].astype(str), df["text"]):
        text = str(text).strip()
        if not text:
            continue
        if prev_time is None or t - prev_time > pd.Timedelta(hours=session_hours):
            sessions.append([])
        turns = sessions[-1]
        if turns and who == prev_speaker and t - prev_time <= pd.Timedelta(minutes=gap_minutes):
            turns[-1] = (who, turns[-1][1] + "\n" + text)
        else:
            turns.append((who, text))
        prev_time, prev_speaker = t, who
    return sessions


def chat_documents(chat=None, *, window_turns: int = 10, seed: int = 0) -> list[list[dict]]:
    """Pre-training conversations for a base model that writes chat Korean in nobody's style: turns of
    BOTH speakers, shuffled across the whole chat, in windows with 상대/나 alternating. Keeping the real
    order would let the model infer "나 = the other one" from context and pre-learn the persona, leaving
    the fine-tune nothing to show."""
    rng = random.Random(seed)
    turns = [t for session in chat_sessions(chat) for t in session]
    rng.shuffle(turns)
    docs = []
    for start in range(0, len(turns), window_turns):
        first = rng.choice(["user", "assistant"])
        other = "assistant" if first == "user" else "user"
        docs.append([{"role": first if i % 2 == 0 else other, "content": x}
                     for i, (_, x) in enumerate(turns[start:start + window_turns])])
    return docs


def _sample_chat():
    """The bundled fictional chat: data/sample/pc_ko.txt when written, else lib.sample.generate()."""
    path = config.SAMPLE / "pc_ko.txt"
    if path.is_file():
        from lib import kakao

        return kakao.read_chat(path)
    from lib import sample

    return sample.generate()


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()[:16]


_VERIFIED: dict[str, int] = {}


def ensure_tiny(name: str, texts=None, *, force: bool = False) -> Path:
    """Build (once) and return outputs/models/<name>/: tokenizer + briefly pre-trained base model.
    `texts`: a chat DataFrame, a list of conversations (message lists) or plain strings; default the sample
    chat. Rebuilt when the recipe, architecture, template or text changes (hash in malbeot-tiny.json)."""
    s = REGISTRY.get(name)
    if s is None or not s.tiny:
        raise ValueError(f"{name!r} is not a tiny stand-in: expected one of "
                         f"{[n for n, v in REGISTRY.items() if v.tiny]}")
    out = config.MODELS / name
    stamp = out / "malbeot-tiny.json"
    recipe = s.tiny
    if texts is None and not force and stamp.is_file() and _VERIFIED.get(name) == stamp.stat().st_mtime_ns:
        return out  # already checked against the sample text in this process
    if texts is None or hasattr(texts, "columns"):
        docs = chat_documents(texts, window_turns=recipe["window_turns"], seed=recipe["seed"])
    else:
        docs = list(texts)
    key = _digest([s.arch, recipe, s.chat_template, docs])
    if stamp.is_file() and not force:
        meta = json.loads(stamp.read_text(encoding="utf-8"))
        if meta.get("hash") == key:
            if texts is None:
                _VERIFIED[name] = stamp.stat().st_mtime_ns
            return out
    import fcntl

    config.MODELS.mkdir(parents=True, exist_ok=True)
    with open(config.MODELS / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test workers / a notebook must not build it twice at once
        if stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")).get("hash") == key and not force:
            return out
        t0 = time.perf_counter()
        with fileio.atomic_path(out) as tmp:
            info = _build_tiny(s, docs, tmp)
            info.update(hash=key, recipe_hash=_digest([s.arch, recipe, s.chat_template]),
                        default_text=texts is None, build_seconds=round(time.perf_counter() - t0, 1))
            fileio.write_json(tmp / "malbeot-tiny.json", info)
        log.info("built %s in %.0fs", name, time.perf_counter() - t0)
    if texts is None:
        _VERIFIED[name] = stamp.stat().st_mtime_ns
    return out


def _build_tiny(s: ModelSpec, docs: list, out: Path) -> dict:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    r = s.tiny
    eos = "<|endoftext|>"
    plain = [d if isinstance(d, str) else "\n".join(m["content"] for m in d) for d in docs]
    tags = list(s.tags.values())
    # byte-level BPE like polyglot's: every byte is in the alphabet, so unseen emoji still encode
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=r["vocab_size"], special_tokens=[eos], min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(plain + tags * 50, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=eos, bos_token=eos, pad_token=eos,
                                  model_max_length=s.arch["max_position_embeddings"])
    tok.chat_template = s.chat_template
    tok.save_pretrained(out)

    rendered = [d if isinstance(d, str) else tok.apply_chat_template(d, tokenize=False) for d in docs]
    ids: list[int] = []
    for text in rendered:
        ids.extend(tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id])
    L = r["seq_len"]
    blocks = torch.tensor(ids[: len(ids) // L * L]).view(-1, L)
    if len(blocks) < 4:
        raise ValueError(f"only {len(ids)} tokens of text for {s.name}: need at least {4 * L} to pre-train")
    n_val = max(2, len(blocks) // 20)
    g = torch.Generator().manual_seed(r["seed"])
    blocks = blocks[torch.randperm(len(blocks), generator=g)]
    val, train = blocks[:n_val], blocks[n_val:]

    torch.manual_seed(r["seed"])
    cfg = make_config(s.name)
    cfg.vocab_size = len(tok)
    cfg.bos_token_id = cfg.eos_token_id = cfg.pad_token_id = tok.eos_token_id
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    opt = torch.optim.AdamW(model.parameters(), lr=r["lr"], weight_decay=0.01, betas=(0.9, 0.98))
    steps, warm = r["steps"], r["warmup"]
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps)))

    def val_loss():
        model.eval()
        with torch.no_grad():
            loss = sum(model(input_ids=b, labels=b).loss.item() for b in val.split(r["batch"])) / len(val.split(r["batch"]))
        model.train()
        return loss

    start = val_loss()
    model.train()
    bar = tqdm(range(steps), desc=f"pre-training {s.name}", leave=False)
    for i in bar:
        idx = torch.randint(0, len(train), (r["batch"],), generator=g)
        x = train[idx]
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(), sched.step(), opt.zero_grad(set_to_none=True)
        if i % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    end = val_loss()
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.eos_token_id
    model.save_pretrained(out)
    return {"name": s.name, "params": param_count(model), "vocab": len(tok), "tokens": len(ids),
            "documents": len(docs), "val_loss_start": round(start, 3), "val_loss_end": round(end, 3),
            "recipe": r}
