"""A tokenizer for the light serving path: the part of a Hugging Face tokenizer that lib.chat and the
llama.cpp / remote backends use, on the `tokenizers` library and Jinja alone (no torch, no transformers).
Also owns the text normalization llama.cpp lacks (`unicode_form`, `normalize`).
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from lib import config, fileio, models


class LightTokenizer:
    """The part of a Hugging Face tokenizer that lib.chat and the llama.cpp/remote backends use, on the
    `tokenizers` library and Jinja alone: importing transformers pulls in torch (~300 MB resident),
    which a llama.cpp page on a 2.7 GB box cannot spare and does not otherwise need.

    Same tokenizer.json, same template (rendered like transformers: sandboxed Jinja, trim_blocks,
    lstrip_blocks; the training-only {% generation %} markers dropped); tests check it matches.
    """

    def __init__(self, folder):
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.name_or_path = str(folder)
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        cfg = fileio.read_json(folder / "tokenizer_config.json")
        tok_str = lambda v: v.get("content") if isinstance(v, dict) else v  # noqa: E731
        self.eos_token, self.bos_token = tok_str(cfg.get("eos_token")), tok_str(cfg.get("bos_token"))
        self.pad_token = tok_str(cfg.get("pad_token")) or self.eos_token
        self.eos_token_id = self._tok.token_to_id(self.eos_token) if self.eos_token else None
        self.bos_token_id = self._tok.token_to_id(self.bos_token) if self.bos_token else None
        self.pad_token_id = self._tok.token_to_id(self.pad_token) if self.pad_token else None
        self.model_max_length = int(cfg.get("model_max_length") or 2048)
        template = cfg.get("chat_template")
        if not template and (folder / "chat_template.jinja").is_file():
            template = (folder / "chat_template.jinja").read_text(encoding="utf-8")
        if not template or "generation" not in template:  # as lib.models.load_tokenizer: the project template
            template = models.spec(folder).chat_template
        self.chat_template = template
        self._template = None

    def __call__(self, text: str, add_special_tokens: bool = True, **_):
        return {"input_ids": self._tok.encode(text, add_special_tokens=add_special_tokens).ids}

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self(text, add_special_tokens)["input_ids"]

    def normalize(self, text: str) -> str:
        """The text as this tokenizer's normalizer sees it (what llama.cpp must be given instead of the raw
        text: it applies no normalizer, so decomposed Hangul would otherwise tokenize differently)."""
        return normalize(self, text)

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def __len__(self) -> int:
        return self._tok.get_vocab_size(with_added_tokens=True)

    def apply_chat_template(self, messages, tokenize: bool = False, add_generation_prompt: bool = False, **kw):
        if self._template is None:
            import jinja2
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            def raise_exception(message):
                raise jinja2.exceptions.TemplateError(message)

            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                extensions=["jinja2.ext.loopcontrols"])
            env.globals["raise_exception"] = raise_exception
            source = re.sub(r"\{%-?\s*(end)?generation\s*-?%\}", "", self.chat_template)
            self._template = env.from_string(source)
        text = self._template.render(messages=list(messages), add_generation_prompt=add_generation_prompt,
                                     eos_token=self.eos_token, bos_token=self.bos_token,
                                     pad_token=self.pad_token, **kw)
        return self.encode(text, add_special_tokens=False) if tokenize else text


def _backend(tokenizer):
    """The `tokenizers.Tokenizer` inside a LightTokenizer or a Hugging Face fast tokenizer."""
    inner = getattr(tokenizer, "_tok", None)
    if inner is None:
        inner = getattr(tokenizer, "backend_tokenizer", None)
    if inner is None:
        raise TypeError(f"{type(tokenizer).__name__} has no tokenizers backend: expected a LightTokenizer or a "
                        "Hugging Face fast tokenizer")
    return inner


def unicode_form(tokenizer) -> str | None:
    """The Unicode normal form the tokenizer applies before BPE ("NFC" for GPT-NeoX/polyglot tokenizers, None
    for GPT-2/phi ones). Anything else (lowercasing, replacements, ...) is refused: llama.cpp's byte-level BPE
    has no normalizer, so only a form we can apply outside it keeps both paths identical."""
    normalizer = _backend(tokenizer).normalizer
    spec = json.loads(normalizer.__getstate__()) if normalizer is not None else None
    steps = (spec.get("normalizers") or []) if spec and spec.get("type") == "Sequence" else [spec] if spec else []
    forms = [s.get("type") for s in steps]
    if not forms:
        return None
    if len(forms) == 1 and forms[0] in ("NFC", "NFD", "NFKC", "NFKD"):
        return forms[0]
    raise ValueError(f"tokenizer normalizer {json.dumps(spec)[:200]} is not supported: expected none or one "
                     "Unicode normal form (NFC/NFD/NFKC/NFKD), which llama.cpp's input can be given beforehand")


def normalize(tokenizer, text: str) -> str:
    """`text` in the tokenizer's Unicode normal form (unchanged when it has none); see `unicode_form`."""
    form = unicode_form(tokenizer)
    return unicodedata.normalize(form, text) if form else text


def light_tokenizer(folder):
    """LightTokenizer when the folder has a tokenizer.json, else the full Hugging Face one."""
    folder = config.resolve(folder)
    if (folder / "tokenizer.json").is_file():
        return LightTokenizer(folder)
    return models.load_tokenizer(folder)
