"""lib.backends: one interface over transformers, llama.cpp and an OpenAI-compatible server (a fake one
on 127.0.0.1 started here), stop strings, open_backend dispatch and its errors. A backend continues the
prompt lib.chat rendered; only a remote chat endpoint takes the messages themselves."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import pytest

from lib import backend, config, export, gguf_writer
from lib.backend import StopText
from lib.backends import LlamaCppBackend, LocalBackend, RemoteBackend, open_backend
from lib.chat import build_prompt
from lib.tokenizer import LightTokenizer

HISTORY = [{"role": "user", "content": "오늘 뭐해?"}, {"role": "assistant", "content": "집이지 ㅋㅋ"},
           {"role": "user", "content": "저녁은 먹었어요?"}]
GREEDY = dict(temperature=0, repetition_penalty=1.0, max_new_tokens=16)


@pytest.fixture(scope="module")
def local(tiny_base):
    return LocalBackend(tiny_base, device="cpu")


@pytest.fixture(scope="module")
def prompt(local):
    """HISTORY as lib.chat renders it with the adapter's template (what every backend continues)."""
    return build_prompt(local.tokenizer, HISTORY, max_prompt_tokens=400)


@pytest.fixture(scope="module")
def gguf_path(tiny_base) -> Path:
    """Q8_0 GGUF of the tiny base, cached by the model and the exporter's code."""
    import hashlib

    key = hashlib.sha256((tiny_base / "model.safetensors").read_bytes()
                         + Path(gguf_writer.__file__).read_bytes()).hexdigest()[:12]
    path = config.outputs() / "cache" / f"gguf-{key}" / "model-Q8_0.gguf"
    if not path.is_file():
        export.to_gguf(tiny_base, path, "Q8_0")
    return path


@pytest.fixture(scope="module")
def llamacpp(gguf_path, tiny_base):
    return LlamaCppBackend(gguf_path, tiny_base, threads=1)


# ------------------------------------------------------------------------------------- stop strings
def test_stop_text_holds_back_a_possible_marker():
    s = StopText(["\n상대:"])
    assert s.feed("응 ") == "응 "
    assert s.feed("먹었어\n") == "먹었어"      # "\n" might start the marker
    assert s.feed("상") == ""
    assert s.feed("대: 뭐") == ""              # it did: cut, done
    assert s.done and s.flush() == ""
    s = StopText(["\n상대:"])
    assert s.feed("응\n") == "응" and s.feed("너는?") == "\n너는?" and s.flush() == ""
    assert backend.cut("ab<|endoftext|>cd", ["<|endoftext|>", "\n나:"]) == "ab"
    assert backend.cut("no marker", []) == "no marker"


def test_unknown_generation_setting_is_refused(local, prompt):
    with pytest.raises(ValueError, match="unknown generation setting"):
        local.generate(prompt, temprature=0.5)
    with pytest.raises(ValueError, match="max_new_tokens"):
        local.generate(prompt, max_new_tokens=0)


# ------------------------------------------------------------------------------------------- local
def test_local_stream_equals_generate_and_stops(local, prompt):
    with pytest.raises(TypeError, match="rendered by lib.chat"):   # Chatbot renders; a backend never guesses
        local.generate(HISTORY, **GREEDY)
    full = local.generate(prompt, **GREEDY)[0]
    assert "".join(local.stream(prompt, **GREEDY)) == full
    assert full.strip()
    marker = full.strip()[:2]
    cut = local.generate(prompt, **GREEDY, stop=[marker])[0]
    assert marker not in cut and full.startswith(cut)
    streamed = "".join(local.stream(prompt, **GREEDY, stop=[marker]))
    assert streamed == cut


def test_local_samples_n_and_forces_length(local, prompt):
    outs = local.generate(prompt, n=3, temperature=1.0, top_p=0.95, max_new_tokens=8, seed=0)
    assert len(outs) == 3 and all(isinstance(o, str) for o in outs)
    ids = local.tokenizer(local.generate(prompt, temperature=0, max_new_tokens=12, min_new_tokens=12)[0],
                          add_special_tokens=False)["input_ids"]
    assert len(ids) >= 8       # EOS held back: roughly the forced length (re-tokenizing may merge)


def test_closing_a_stream_stops_generation(local, prompt):
    it = local.stream(prompt, temperature=0, max_new_tokens=200, min_new_tokens=200)
    next(it)
    it.close()                   # the worker thread is cancelled and joined, the lock released
    assert local._lock.acquire(timeout=1)
    local._lock.release()


# --------------------------------------------------------------------------------------- llama.cpp
def test_llamacpp_greedy_matches_local(local, llamacpp, prompt):
    """The app-level proof: same history, same reply text from transformers and from the Q8_0 GGUF."""
    assert llamacpp.prompt_ids(prompt) == local.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    a = local.generate(prompt, **GREEDY)[0]
    b = llamacpp.generate(prompt, **GREEDY)[0]
    n = 4
    assert b[:n] == a[:n], (a, b)
    assert "".join(llamacpp.stream(prompt, **GREEDY)) == b
    assert llamacpp.context_length == 512                    # capped at the model's training context


def test_llamacpp_stop_sampling_and_min_tokens(llamacpp, prompt):
    full = llamacpp.generate(prompt, **GREEDY)[0]
    marker = full.strip()[:2]
    assert marker not in llamacpp.generate(prompt, **GREEDY, stop=[marker])[0]
    outs = llamacpp.generate(prompt, n=3, temperature=1.2, top_p=1.0, max_new_tokens=12, seed=3)
    assert len(outs) == 3 and len(set(outs)) > 1             # different seeds per candidate
    pieces = list(llamacpp.stream(prompt, temperature=0, max_new_tokens=24, min_new_tokens=24))
    assert len(llamacpp.tokenizer("".join(pieces), add_special_tokens=False)["input_ids"]) >= 16


def test_llamacpp_streams_tokens_longer_than_32_bytes(llamacpp, prompt, monkeypatch):
    """llama-cpp-python's own decoding drops a piece over 32 bytes (eleven ㅋ); the page must show it, and a
    Hangul syllable split over byte tokens comes out whole."""
    tok = llamacpp.tokenizer
    vocab = tok._tok.get_vocab()
    long_id = max(vocab.values(), key=lambda i: len(tok.decode([i]).encode("utf-8")))
    assert len(tok.decode([long_id]).encode("utf-8")) > 32, "the stand-in needs a token as long as real ones"
    byte_ids = [vocab[b] for b in ("ë", "°", "¥")]   # 밥 as three byte-level tokens
    reply = [long_id, *tok.encode(" 배고파", add_special_tokens=False), *byte_ids]
    assert tok.decode(reply) == tok.decode([long_id]) + " 배고파밥"
    monkeypatch.setattr(llamacpp.llm, "generate", lambda ids, **kw: (t for t in reply + [llamacpp.eos_id, long_id]))
    pieces = list(llamacpp.stream(prompt, temperature=0, max_new_tokens=20))
    assert "".join(pieces) == tok.decode(reply)              # nothing dropped, nothing after EOS
    assert all("\ufffd" not in p for p in pieces)
    assert "".join(llamacpp.stream(prompt, temperature=0, max_new_tokens=2)) == tok.decode(reply[:2]).rstrip("\ufffd")


def test_llamacpp_clear_errors(tmp_path, gguf_path, tiny_base):
    with pytest.raises(FileNotFoundError, match="GGUF file"):
        LlamaCppBackend(tmp_path / "missing.gguf", tiny_base)
    with pytest.raises(FileNotFoundError, match="no tokenizer"):
        LlamaCppBackend(gguf_path, tmp_path)


# ------------------------------------------------------------------------------------------ remote
class FakeOpenAI(BaseHTTPRequestHandler):
    """/v1/completions and /v1/chat/completions like llama.cpp's server: ignores n, streams SSE."""
    requests: list = []
    reply = "응 먹었어\n너는?\n상대: 이건 안 보여야 해"

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.headers.get("Authorization") != "Bearer sk-test":
            self.send_response(401)
            self.end_headers()
            self.wfile.write(b'{"error": "bad key"}')
            return
        chat = self.path.endswith("/chat/completions")
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for i in range(0, len(self.reply), 3):
                piece = self.reply[i:i + 3]
                choice = {"delta": {"content": piece}} if chat else {"text": piece}
                self.wfile.write(f"data: {json.dumps({'choices': [choice]}, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            return
        choice = {"message": {"role": "assistant", "content": self.reply}} if chat else {"text": self.reply}
        data = json.dumps({"choices": [choice]}, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def server():
    FakeOpenAI.requests = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def test_remote_chat_endpoint_streams_and_stops(server):
    be = open_backend({"backend": "remote", "base_url": server, "model": "malbeot", "api_key": "sk-test"})
    assert isinstance(be, RemoteBackend) and be.tokenizer is None
    pieces = list(be.stream(HISTORY, temperature=0.7, max_new_tokens=32, stop=["\n상대:"]))
    assert "".join(pieces) == "응 먹었어\n너는?" and len(pieces) > 1
    req = FakeOpenAI.requests[-1]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-test"
    assert req["body"]["messages"] == HISTORY and req["body"]["stream"] is True
    assert req["body"]["max_tokens"] == 32 and req["body"]["stop"] == ["\n상대:"]


def test_remote_with_tokenizer_sends_the_rendered_prompt_and_asks_again_for_n(server, tiny_base):
    be = RemoteBackend(server, "malbeot", "sk-test", tokenizer_dir=tiny_base)
    prompt = build_prompt(be.tokenizer, HISTORY, max_prompt_tokens=400)
    outs = be.generate(prompt, n=2, temperature=0.8, stop=["\n상대:"])
    assert outs == ["응 먹었어\n너는?"] * 2
    reqs = FakeOpenAI.requests
    assert [r["path"] for r in reqs] == ["/v1/completions"] * 2 and reqs[0]["body"]["n"] == 2
    assert prompt.endswith("나:")   # sent as our token ids (llama.cpp's server would skip the normalizer)
    assert reqs[0]["body"]["prompt"] == be.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    with pytest.raises(TypeError, match="rendered by lib.chat"):    # it has a tokenizer: text, not messages
        be.generate(HISTORY)


def test_remote_chatbot_end_to_end(server):
    from lib.chat import Chatbot

    bot = Chatbot(RemoteBackend(server, "malbeot", "sk-test"), generation={"n_candidates": 1})
    assert bot.reply(HISTORY) == ["응 먹었어", "너는?"]


def test_remote_errors(server):
    with pytest.raises(RuntimeError, match="HTTP 401"):
        RemoteBackend(server, "m", "wrong").generate(HISTORY)
    with pytest.raises(ConnectionError, match="cannot reach"):
        RemoteBackend("http://127.0.0.1:9/v1", "m", timeout=2).generate(HISTORY)
    with pytest.raises(ValueError, match="http"):
        RemoteBackend("127.0.0.1:8080", "m")


# ------------------------------------------------------------------------------------ open_backend
def test_open_backend_dispatch_and_errors(tmp_path, tiny_base, gguf_path):
    assert isinstance(open_backend({"backend": "llamacpp", "gguf": str(gguf_path), "tokenizer": str(tiny_base),
                                    "threads": 1}), LlamaCppBackend)
    assert isinstance(open_backend({"kind": "local", "model": str(tiny_base), "device": "cpu"}), LocalBackend)
    with pytest.raises(ValueError, match="must be one of"):
        open_backend({"backend": "tensorrt"})
    with pytest.raises(ValueError, match="needs 'gguf'"):
        open_backend({"backend": "llamacpp"})
    with pytest.raises(ValueError, match="needs 'adapter' or 'model'"):
        open_backend({"backend": "local"})
    with pytest.raises(ValueError, match="needs 'base_url'"):
        open_backend({"backend": "remote", "model": "x"})
    with pytest.raises(TypeError, match="dict"):
        open_backend("local")
    with pytest.raises(FileNotFoundError, match="missing.gguf"):
        open_backend({"backend": "llamacpp", "gguf": str(tmp_path / "missing.gguf"), "tokenizer": str(tiny_base)})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_backend({"backend": "local", "adapter": str(tmp_path / "no-run")})


def test_open_backend_fetches_missing_files_from_the_private_repo(gguf_path, tiny_base):
    with mock.patch("huggingface_hub.hf_hub_download", return_value=str(gguf_path)) as dl, \
            mock.patch("huggingface_hub.snapshot_download", return_value=str(tiny_base.parent)) as snap:
        be = open_backend({"backend": "llamacpp", "gguf": "model-Q8_0.gguf", "tokenizer": tiny_base.name,
                           "repo": "me/malbeot-private", "token": "hf_x", "threads": 1})
    dl.assert_called_once_with("me/malbeot-private", "model-Q8_0.gguf", token="hf_x")
    snap.assert_called_once()
    assert isinstance(be, LlamaCppBackend)


# ---------------------------------------------------------------------------------- light tokenizer
def test_light_tokenizer_matches_hugging_face_without_torch(tiny_base):
    """llama.cpp/remote pages tokenize and render like transformers, and never import torch for it."""
    import subprocess
    import sys

    from lib import models
    from lib.chat import turn_markers

    hf, light = models.load_tokenizer(tiny_base), LightTokenizer(tiny_base)
    chats = [HISTORY, [{"role": "system", "content": "이도윤처럼"}, *HISTORY[:2],
                       {"role": "user", "content": "내일 7시!! 😀 <전화번호>\n\n  hello 3.14"}]]
    for chat in chats:
        for gen in (True, False):
            text = hf.apply_chat_template(chat, tokenize=False, add_generation_prompt=gen)
            assert light.apply_chat_template(chat, add_generation_prompt=gen) == text
            assert light(text, add_special_tokens=False)["input_ids"] == hf(text, add_special_tokens=False)["input_ids"]
        turns = [m for m in chat if m["role"] != "system"]
        for budget in (30, 400):
            assert build_prompt(light, turns, max_prompt_tokens=budget, system="이도윤처럼") == \
                build_prompt(hf, turns, max_prompt_tokens=budget, system="이도윤처럼")
    assert turn_markers(light) == turn_markers(hf)
    assert (light.eos_token, light.eos_token_id) == (hf.eos_token, hf.eos_token_id)
    code = (f"import sys; from lib.tokenizer import light_tokenizer; t = light_tokenizer({str(tiny_base)!r}); "
            "t.apply_chat_template([{'role': 'user', 'content': 'x'}], add_generation_prompt=True); "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=config.ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_local_auto_picks_nf4_for_real_models_on_cpu(tiny_base, tmp_path):
    """quant="auto": a real (non-stand-in) model goes 4-bit on CPU too; the tiny stand-in stays fp32."""
    import shutil

    from lib import models

    real = tmp_path / "my-polyglot"           # a folder that is not a registry stand-in
    shutil.copytree(tiny_base, real)
    be = LocalBackend(real, device="cpu")
    assert be.quant == "nf4" and models.count_quantized(be.model)["linear4bit"] > 0
    assert be.generate(build_prompt(be.tokenizer, HISTORY, max_prompt_tokens=400), **GREEDY)[0] is not None
