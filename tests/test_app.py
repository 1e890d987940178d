"""The chat page under Streamlit's AppTest: the password gate, a chat turn with the sample-trained tiny
adapter through the real local backend, history across reruns, "새 대화", and the remote backend
against a fake OpenAI-compatible server on 127.0.0.1. Tests that only need *a* model use a fresh LoRA
on the tiny base (seconds, no training): `make_adapter`."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from streamlit.testing.v1 import AppTest

from lib import config

APP = config.ROOT / "app" / "streamlit_app.py"
PASSWORD = "우리만아는비번-42"
TIMEOUT = 120          # AppTest's default is 3 s; the first run loads torch and the model


def APP_SETTINGS_ENV(key: str) -> bool:  # noqa: N802 - a predicate shared with test_browser
    """An environment variable the page would read as a setting (MALBEOT_OUTPUTS etc. are paths, kept)."""
    return key.startswith("MALBEOT_") and key not in ("MALBEOT_OUTPUTS", "MALBEOT_PROCESSED")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """A developer's own MALBEOT_APP_PASSWORD / MALBEOT_BACKEND must not leak into these tests."""
    for key in list(os.environ):
        if APP_SETTINGS_ENV(key):
            monkeypatch.delenv(key)


def make_adapter(out: Path) -> Path:
    """The tiny stand-in base (lib.tiny.ensure, cached) with a fresh LoRA on it, saved the way
    lib.train saves a run: adapter, tokenizer with the template, malbeot.json. Seconds, no training."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from lib import models, tiny

    base = tiny.ensure("tiny-neox")
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=list(models.NEOX_TARGETS), task_type="CAUSAL_LM")
    get_peft_model(model, lora).save_pretrained(out)
    models.load_tokenizer(base).save_pretrained(out)
    profile = config.load_profile("sample-cpu")
    (out / "malbeot.json").write_text(json.dumps({"base": "tiny-neox", "registry": "tiny-neox", "quant": None,
                                                  "generation": profile["generation"]}), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def adapter(tmp_path_factory) -> Path:
    return make_adapter(tmp_path_factory.mktemp("adapter") / "run")


def app(**secrets) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in secrets.items():
        at.secrets[key] = value
    return at


def login(at: AppTest, password: str) -> AppTest:
    at.text_input[0].input(password)
    at.button[0].click()
    return at.run()


def bubbles(at: AppTest, who: str) -> list[str]:
    """Bubble texts drawn for one side ("me" = her, "bot")."""
    import re

    out = []
    for md in at.markdown:
        if f"kt-row {who}" in md.value:
            out += [re.sub(r"<[^>]+>", "", b) for b in re.findall(r'class="kt-bubble[^"]*">(.*?)</div>', md.value)]
    return [b for b in out if b]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


# ---------------------------------------------------------------------------------------------- gate

@pytest.mark.slow
def test_gate_refuses_a_wrong_password_and_admits_the_right_one(adapter):
    at = app(app_password=PASSWORD, backend="local", adapter=str(adapter)).run()
    assert not at.exception
    assert len(at.chat_input) == 0 and len(at.expander) == 0          # only the login is shown
    login(at, "틀린비번")
    assert "비밀번호가 달라요" in at.error[0].value
    assert len(at.chat_input) == 0 and "messages" not in at.session_state
    login(at, PASSWORD)
    assert not at.exception and not at.error
    assert len(at.chat_input) == 1 and at.expander[0].label == "설정"
    # generation defaults come from the run's malbeot.json (the sample-cpu profile: 48 new tokens)
    sliders = {s.label: s.value for s in at.slider}
    assert sliders["최대 길이 (토큰)"] == config.load_profile("sample-cpu")["generation"]["max_new_tokens"]


def test_without_a_password_the_page_refuses_off_localhost():
    at = app(backend="local", adapter="does/not/matter").run()
    assert "비밀번호가 설정되지 않아서" in at.error[0].value
    assert len(at.chat_input) == 0 and len(at.text_input) == 0


# ---------------------------------------------------------------------------------------------- chat

@pytest.mark.slow
def test_chat_turn_with_the_tiny_adapter_history_and_new_conversation(tiny_adapter):
    """The sample-trained tiny adapter (conftest: a real lib.train run) through the local backend."""
    at = app(app_password=PASSWORD, backend="local", adapter=str(tiny_adapter), bot_name="도윤")
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("오늘 뭐 했어요?").run()
    assert not at.exception, at.exception
    msgs = at.session_state["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    assert msgs[0]["content"] == "오늘 뭐 했어요?" and msgs[1]["content"].strip()
    assert bubbles(at, "me") == ["오늘 뭐 했어요?"]
    assert len(bubbles(at, "bot")) >= 1 and "도윤" in "".join(md.value for md in at.markdown)

    at.chat_input[0].set_value("그렇구나 ㅎㅎ").run()               # second turn: history goes along
    assert [m["role"] for m in at.session_state["messages"]] == ["user", "assistant"] * 2
    drawn = bubbles(at, "me")
    at.run()                                                          # a plain rerun keeps everything
    assert bubbles(at, "me") == drawn == ["오늘 뭐 했어요?", "그렇구나 ㅎㅎ"]
    assert len(at.session_state["messages"]) == 4

    button(at, "새 대화").click().run()
    assert at.session_state["messages"] == [] and bubbles(at, "me") == [] and bubbles(at, "bot") == []
    assert any("메시지를 보내 보세요" in md.value for md in at.markdown)


# -------------------------------------------------------------------------------------------- remote

class FakeOpenAI(BaseHTTPRequestHandler):
    """Just enough of the OpenAI chat API: /v1/chat/completions, streamed (SSE) or not."""
    reply = " 응 나도 방금 끝났어\n저녁 뭐 먹을까?"
    seen: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        if not body.get("stream"):
            payload = {"choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply}}]}
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i in range(0, len(self.reply), 3):
            chunk = {"choices": [{"index": 0, "delta": {"content": self.reply[i:i + 3]}}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args):  # keep the test output (and any chat text) quiet
        pass


@pytest.fixture
def fake_server():
    FakeOpenAI.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)     # port 0: a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_remote_backend_against_a_fake_openai_server(fake_server):
    at = app(app_password=PASSWORD, backend="remote", base_url=fake_server, model="malbeot", api_key="sk-test")
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("일 끝났어요?").run()
    assert not at.exception, at.exception
    assert bubbles(at, "bot") == ["응 나도 방금 끝났어", "저녁 뭐 먹을까?"]
    request = FakeOpenAI.seen[-1]
    assert request["auth"] == "Bearer sk-test" and request["body"]["stream"] is True
    assert request["body"]["messages"][-1] == {"role": "user", "content": "일 끝났어요?"}
    assert request["body"]["model"] == "malbeot" and request["body"]["max_tokens"] > 0


def test_cloud_requirements_pin_the_same_versions_as_the_project():
    """app/requirements.txt is what the cloud installs; it must not drift from what the tests ran with."""
    def pins(path):
        out = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if "==" in line and not line.startswith("-"):
                name, version = line.split("==")
                out[name.lower()] = version.split("+")[0]
        return out

    cloud, project = pins(APP.parent / "requirements.txt"), pins(config.ROOT / "requirements.txt")
    assert {"streamlit", "transformers", "torch", "peft", "llama-cpp-python"} <= set(cloud)
    assert {k: v for k, v in cloud.items() if project.get(k) != v} == {}
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in (APP.parent / "requirements.txt").read_text()


def test_no_chat_is_written_unless_the_owner_turns_logging_on(fake_server, tmp_path):
    secrets = dict(app_password=PASSWORD, backend="remote", base_url=fake_server, model="m", log_dir=str(tmp_path))
    at = app(**secrets)
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("비밀 얘기").run()
    assert len(at.session_state["messages"]) == 2 and list(tmp_path.iterdir()) == []
    at = app(**secrets, log_chats=True)
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("이건 기록돼요").run()
    (log,) = tmp_path.glob("*.jsonl")
    logged = json.loads(log.read_text(encoding="utf-8"))["messages"]
    assert [m["content"] for m in logged] == ["이건 기록돼요", "응 나도 방금 끝났어\n저녁 뭐 먹을까?"]


@pytest.mark.parametrize("ip, host, local", [
    (None, "localhost:8501", True), (None, "127.0.0.1:8501", True), (None, "[::1]:8501", True),
    (None, "dy-8f3k2.trycloudflare.com", False),     # a tunnel: loopback connection, public host name
    ("203.0.113.7", "localhost:8501", False),        # a spoofed Host header from outside
    (None, None, False),                             # no browser connection at all
])
def test_localhost_means_loopback_connection_and_local_host_name(monkeypatch, ip, host, local):
    import importlib
    import sys
    import types

    sys.path.insert(0, str(APP.parent))
    try:
        common = importlib.import_module("common")
    finally:
        sys.path.remove(str(APP.parent))
    fake = types.SimpleNamespace(headers={"Host": host} if host else {}, ip_address=ip)
    monkeypatch.setattr(common.st, "context", fake)
    assert common.is_localhost() is local


def test_a_dead_remote_server_is_reported_and_her_message_kept():
    at = app(app_password=PASSWORD, backend="remote", base_url="http://127.0.0.1:9/v1", model="m", timeout=2)
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("여보세요?").run()
    assert not at.exception
    assert "답장을 받지 못했어요" in at.error[0].value
    assert [m["role"] for m in at.session_state["messages"]] == ["user"]


def test_a_backend_that_cannot_load_is_explained_without_showing_secrets(tmp_path):
    at = app(app_password=PASSWORD, backend="llamacpp", gguf=str(tmp_path / "missing.gguf"), token="hf_secret")
    login(at.run(), PASSWORD)
    assert not at.exception
    message = at.error[0].value
    assert "모델을 불러오지 못했어요" in message and "missing.gguf" in message and "hf_secret" not in message
    assert len(at.chat_input) == 0
