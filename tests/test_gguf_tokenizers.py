"""The GGUF writer on tokenizers built here with the features of the real ones (nothing downloaded):

- polyglot-ko: GPT-NeoX, NFC normalizer, specials <|endoftext|> <|sep|> inside the base vocab and
  <|acc|> <|tel|> <|rrn|> added after it, embeddings padded past the vocab (30,003 tokens, 30,080 rows);
- phi-2: GPT-2 layout (<|endoftext|> the last base id), 38 added whitespace tokens (runs of 2-31 spaces,
  2-9 tabs, normalized, not special), CodeGenTokenizer, padded embeddings (50,295 -> 51,200);
- EEVE: phi's base vocab extended with Korean tokens *and merges* appended after it, then its specials.

Each gets a tiny model of its real class, a GGUF, and the same verification as a real export: tokens equal
to Hugging Face's on every validation text of the sample dataset and on the hard strings (decomposed
Hangul, emoji, added tokens in text, runs of spaces). The page's llama.cpp path and the remote path are
checked on the same tokenizers, the remote one against a llama.cpp-backed server.
"""
from __future__ import annotations

import json
import re
import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lib import config, export, gguf_verify, gguf_writer, models
from lib.tokenizer import LightTokenizer, normalize, unicode_form

HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
WHITESPACE = [" " * n for n in range(31, 1, -1)] + ["\t" * n for n in range(9, 1, -1)]   # phi-2's 38
NFD = unicodedata.normalize("NFD", "오늘 저녁 뭐 먹을까")
FAST = dict(n_greedy=4, greedy_tokens=8, n_nll=8, progress=False)


# ------------------------------------------------------------------------------- the tokenizers
def _korean() -> list[str]:
    return [x for x in (config.SAMPLE / "pc_ko.txt").read_text(encoding="utf-8").splitlines() if x.strip()]


def _english() -> list[str]:
    lines = []
    for p in ("README.md", "docs/ARCHITECTURE.md", "docs/DEPLOY.md", "data/sample/pc_en.txt"):
        lines += [x for x in (config.ROOT / p).read_text(encoding="utf-8").splitlines()
                  if x.strip() and not HANGUL.search(x)]
    return lines


def _bpe(lines: list[str], vocab_size: int, specials: list[str]) -> dict:
    """A byte-level BPE trained on `lines`, as tokenizer.json."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers, trainers
    from tokenizers.models import BPE

    t = Tokenizer(BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    t.train_from_iterator(lines, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return json.loads(t.to_str())


def _added(i: int, content: str, special: bool, normalized: bool = False) -> dict:
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": normalized, "special": special}


def _gpt2_base(vocab_size: int) -> dict:
    """GPT-2's layout: <|endoftext|> sits in the model vocab as its last id (50256)."""
    tj = _bpe(_english(), vocab_size, [])
    eot = len(tj["model"]["vocab"])
    tj["model"]["vocab"]["<|endoftext|>"] = eot
    tj["added_tokens"] = [_added(eot, "<|endoftext|>", True)]
    return tj


def polyglot_like() -> tuple[dict, dict]:
    tj = _bpe(_korean(), 1500, ["<|startoftext|>", "<|pad|>", "<|endoftext|>", "<|sep|>"])  # eos id 2, sep 3
    tj["normalizer"] = {"type": "NFC"}
    n = len(tj["model"]["vocab"])
    tj["added_tokens"] += [_added(n + k, s, True) for k, s in enumerate(["<|acc|>", "<|tel|>", "<|rrn|>"])]
    return tj, {"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|endoftext|>",
                "pad_token": "<|endoftext|>"}


def phi2_like() -> tuple[dict, dict]:
    tj = _gpt2_base(1200)
    n = len(tj["model"]["vocab"])
    tj["added_tokens"] += [_added(n + k, w, False, normalized=True) for k, w in enumerate(WHITESPACE)]
    return tj, {"tokenizer_class": "CodeGenTokenizer", "add_bos_token": False, "add_prefix_space": False,
                "eos_token": "<|endoftext|>", "bos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}


def eeve_like() -> tuple[dict, dict]:
    tj = _gpt2_base(1200)
    korean = _bpe(_korean(), 1500, [])
    vocab, merges = tj["model"]["vocab"], tj["model"]["merges"]
    for token in korean["model"]["vocab"]:          # new tokens after the base ids, their merges after its merges
        vocab.setdefault(token, len(vocab))
    known = {tuple(m) for m in merges}
    merges += [m for m in korean["model"]["merges"] if tuple(m) not in known]
    n = len(vocab)
    tj["added_tokens"] += [_added(n + k, s, True) for k, s in enumerate(["<s>", "</s>", "<unk>", "<|im_end|>"])]
    return tj, {"tokenizer_class": "CodeGenTokenizer", "add_bos_token": False, "eos_token": "<|im_end|>",
                "bos_token": "<s>", "unk_token": "<unk>", "pad_token": "</s>"}


KINDS = {"polyglot": (polyglot_like, "neox", 128), "phi2": (phi2_like, "phi", 128), "eeve": (eeve_like, "phi", 1)}


def build(kind: str, out: Path) -> Path:
    """A merged-model folder like `lib.export.merge` writes: a tiny model of the real class around the
    tokenizer (saved back through transformers, as training does), with the project's chat template."""
    import torch
    from transformers import AutoTokenizer, GPTNeoXConfig, GPTNeoXForCausalLM, PhiConfig, PhiForCausalLM

    make, arch, pad_to = KINDS[kind]
    tj, cfg_json = make()
    raw = out.with_name(out.name + "-tokenizer")
    raw.mkdir(parents=True)
    (raw / "tokenizer.json").write_text(json.dumps(tj, ensure_ascii=False), encoding="utf-8")
    (raw / "tokenizer_config.json").write_text(json.dumps(cfg_json), encoding="utf-8")
    tok = AutoTokenizer.from_pretrained(raw)
    tok.chat_template = models.REGISTRY["tiny-neox"].chat_template
    rows = -(-len(tok) // pad_to) * pad_to
    dims = dict(vocab_size=rows, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
                max_position_embeddings=512, bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    if arch == "neox":
        model = GPTNeoXForCausalLM(GPTNeoXConfig(**dims, rotary_pct=0.5))
    else:
        model = PhiForCausalLM(PhiConfig(**dims, partial_rotary_factor=0.5))
    model.config.architectures = [type(model).__name__]
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module", params=list(KINDS))
def exported(request, tmp_path_factory, sample_dataset_dir):
    """(kind, merged folder, Q8_0 GGUF, verify report on the sample dataset)."""
    root = tmp_path_factory.mktemp(request.param)
    merged = build(request.param, root / "merged")
    path, report = export.gguf(merged, root / "model-Q8_0.gguf", "Q8_0", verify=sample_dataset_dir, **FAST)
    return request.param, merged, path, report


def _llama(path, **kw):
    import llama_cpp

    return llama_cpp.Llama(model_path=str(path), n_ctx=512, n_threads=1, verbose=False, **kw)


# ------------------------------------------------------------------------------------- the spec
def test_the_tokenizers_have_the_real_ones_features(exported):
    """Guards the fixtures themselves: each tokenizer really has the feature its GGUF is tested for."""
    import gguf
    from transformers import AutoConfig

    kind, merged, path, _ = exported
    tok = models.load_tokenizer(merged)
    n_rows = AutoConfig.from_pretrained(merged).vocab_size
    reader = gguf.GGUFReader(str(path))
    field = lambda k: reader.fields[k].contents()  # noqa: E731
    types = field("tokenizer.ggml.token_type")
    assert len(field("tokenizer.ggml.tokens")) == n_rows
    assert field(gguf_writer.NORMALIZER_KEY) == (unicode_form(tok) or "none")
    if kind == "polyglot":
        assert unicode_form(tok) == "NFC" and n_rows > len(tok)             # 30003 tokens in 30080 rows
        ids = [tok.convert_tokens_to_ids(s) for s in ("<|endoftext|>", "<|sep|>", "<|acc|>", "<|tel|>", "<|rrn|>")]
        assert ids[:2] == [2, 3] and ids[2:] == [len(tok) - 3, len(tok) - 2, len(tok) - 1]
        assert all(types[i] == gguf.TokenType.CONTROL for i in ids)
        assert all(types[i] == gguf.TokenType.UNUSED for i in range(len(tok), n_rows))
    elif kind == "phi2":
        assert type(tok).__name__ == "CodeGenTokenizer" and unicode_form(tok) is None and n_rows > len(tok)
        spaces = tok.convert_tokens_to_ids(" " * 5)
        assert spaces > tok.eos_token_id and types[spaces] == gguf.TokenType.USER_DEFINED
        assert spaces in tok("a     b", add_special_tokens=False)["input_ids"]   # the added run, not BPE
    else:
        base = tok.convert_tokens_to_ids("<|endoftext|>")
        ko = tok("오늘 저녁 뭐 먹을까 진짜", add_special_tokens=False)["input_ids"]
        assert sum(i > base for i in ko) > len(ko) / 2 and len(ko) < len("오늘 저녁 뭐 먹을까 진짜".encode()) / 2
        assert tok.eos_token_id == len(tok) - 1 and types[tok.eos_token_id] == gguf.TokenType.CONTROL


def test_gguf_verifies_on_every_sample_validation_text(exported, sample_dataset_dir):
    kind, merged, path, report = exported
    assert report == json.loads(gguf_verify.verify_path(path).read_text(encoding="utf-8"))
    assert report["n_texts"] == 2 * len((sample_dataset_dir / "validation.jsonl").read_text().splitlines()) >= 150
    assert report["tokenization_identical"] == 1.0 and report["hard_identical"] == 1.0, report["differing"]
    assert report["detokenization_identical"] == 1.0
    assert report["greedy_agreement"] >= 0.9 and abs(report["nll_gap"]) < 0.05    # Q8_0 of the same weights
    assert report["passed"] and gguf_verify.check(path)["gguf_sha256"] == report["gguf_sha256"]


def test_llama_cpp_needs_the_normalizer_and_gets_it(exported):
    """The NFD case can fail: llama.cpp on the raw text splits polyglot's Hangul into jamo bytes."""
    kind, merged, path, _ = exported
    tok = models.load_tokenizer(merged)
    llm = _llama(path, vocab_only=True)
    hf = tok(NFD, add_special_tokens=False)["input_ids"]
    raw = llm.tokenize(NFD.encode(), add_bos=False, special=True)
    assert llm.tokenize(normalize(tok, NFD).encode(), add_bos=False, special=True) == hf
    assert (raw != hf) == (kind == "polyglot")
    llm.close()


def test_light_tokenizer_and_llamacpp_backend_tokenize_like_hugging_face(exported, tmp_path):
    """The page's llama.cpp path: the prompt's ids come from the light tokenizer (no torch), which must
    equal transformers' on the hard strings, for a tokenizer folder saved the way training saves it."""
    from lib.backends import LlamaCppBackend

    kind, merged, path, _ = exported
    hf = models.load_tokenizer(merged)
    light = LightTokenizer(merged)
    backend = LlamaCppBackend(path, merged, n_ctx=256, threads=1)
    for text in [*gguf_verify.HARD_TEXTS, NFD + " <|endoftext|>ㅋㅋ"]:
        ids = hf(text, add_special_tokens=False)["input_ids"]
        assert light(text, add_special_tokens=False)["input_ids"] == ids, text
        assert backend.prompt_ids(text) == ids, text
        assert light.normalize(text) == normalize(hf, text)
    backend.close()


# ------------------------------------------------------------------------ remote (llama.cpp server)
class LlamaServer(BaseHTTPRequestHandler):
    """/v1/completions on a real llama.cpp model (as llama.cpp's server: a text prompt is tokenized by
    llama.cpp with special tokens parsed, a list is taken as token ids); records what it evaluated."""
    llm = None
    evaluated: list = []

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        out = type(self).llm.create_completion(body["prompt"], max_tokens=body["max_tokens"], temperature=0.0,
                                               top_k=1, stream=False)
        llm = type(self).llm
        type(self).evaluated.append(llm.input_ids[:llm.n_tokens].tolist())
        data = json.dumps({"choices": [{"text": out["choices"][0]["text"]}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_remote_backend_sends_what_training_saw(exported):
    from lib.backends import RemoteBackend
    from lib.chat import build_prompt

    kind, merged, path, _ = exported
    LlamaServer.llm, LlamaServer.evaluated = _llama(path), []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), LlamaServer)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    try:
        history = [{"role": "user", "content": NFD + " 😀👍🏽   ㅋㅋ"}, {"role": "assistant", "content": "응\t\t좋아"},
                   {"role": "user", "content": "<|sep|>" + "  " * 4 + unicodedata.normalize("NFD", "뭐해?")}]
        hf = models.load_tokenizer(merged)
        for prompt_as in ("ids", "text"):
            be = RemoteBackend(url, "m", tokenizer_dir=merged, prompt_as=prompt_as, context_length=512)
            prompt = build_prompt(be.tokenizer, history, max_prompt_tokens=400)
            be.generate(prompt, max_new_tokens=2, temperature=0)
            ids = hf(prompt, add_special_tokens=False)["input_ids"]
            assert LlamaServer.evaluated[-1][:len(ids)] == ids, prompt_as
    finally:
        srv.shutdown()
        srv.server_close()
        LlamaServer.llm.close()
