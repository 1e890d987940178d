"""The chat page under Streamlit's AppTest: the password gate (a wrong try clears the box, the login token
her phone keeps), a chat turn with the sample-trained tiny adapter, the remote backend against a fake
OpenAI-compatible server on 127.0.0.1, her real name on display and the pseudonym for the model, his
pauses between bubbles, the blind test from the private repo, the split requirements and `import lib`
from anywhere. Her browser's storage itself (reload, 로그아웃) is tested in test_browser.py."""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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


def app_module(name: str):
    """app/common.py or app/store.py as the page imports them (app/ on sys.path)."""
    sys.path.insert(0, str(APP.parent))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(APP.parent))


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


# -------------------------------------------------------------------------------- fake OpenAI server

class FakeOpenAI(BaseHTTPRequestHandler):
    """Just enough of the OpenAI API: /v1/chat/completions and /v1/completions, streamed (SSE) or not."""
    reply = " 응 나도 방금 끝났어\n저녁 뭐 먹을까?"
    seen: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path not in ("/v1/chat/completions", "/v1/completions"):
            self.send_error(404)
            return
        chat = self.path.endswith("chat/completions")
        if not body.get("stream"):
            choice = {"message": {"role": "assistant", "content": self.reply}} if chat else {"text": self.reply}
            data = json.dumps({"choices": [{"index": 0, **choice}]}).encode()
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
            piece = self.reply[i:i + 3]
            choice = {"delta": {"content": piece}} if chat else {"text": piece}
            self.wfile.write(f"data: {json.dumps({'choices': [{'index': 0, **choice}]}, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args):  # keep the test output (and any chat text) quiet
        pass


@pytest.fixture
def fake_server():
    FakeOpenAI.seen = []
    FakeOpenAI.reply = " 응 나도 방금 끝났어\n저녁 뭐 먹을까?"
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)     # port 0: a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def remote(url: str, **more) -> AppTest:
    return app(app_password=PASSWORD, backend="remote", base_url=url, model="malbeot", api_key="sk-test",
               pacing=False, **more)


# ---------------------------------------------------------------------------------------------- gate

def test_gate_refuses_a_wrong_password_clears_the_box_and_admits_the_right_one(fake_server):
    at = remote(fake_server).run()
    assert not at.exception
    assert len(at.chat_input) == 0 and len(at.expander) == 0          # only the login is shown
    login(at, "틀린비번")
    assert "비밀번호가 달라요" in at.error[0].value
    assert at.text_input[0].value == ""                                # the wrong try is not left in the box
    assert len(at.chat_input) == 0 and "messages" not in at.session_state
    login(at, PASSWORD)
    assert not at.exception and not at.error and len(at.text_input) == 0   # the form is gone
    assert len(at.chat_input) == 1 and at.expander[0].label == "설정"
    token = at.session_state["_token"]                                  # what her browser will keep
    store = app_module("store")
    assert store.check_token(token, PASSWORD) and PASSWORD not in token


def test_without_a_password_the_page_refuses_off_localhost():
    at = app(backend="local", adapter="does/not/matter").run()
    assert "비밀번호가 설정되지 않아서" in at.error[0].value
    assert len(at.chat_input) == 0 and len(at.text_input) == 0


def test_the_login_token_expires_and_dies_with_a_new_password():
    store = app_module("store")
    now = 1_800_000_000
    token = store.make_token(PASSWORD, days=30, now=now)
    assert store.check_token(token, PASSWORD, now=now + 29 * 86400)
    assert not store.check_token(token, PASSWORD, now=now + 31 * 86400)        # 30 days, then the password again
    assert not store.check_token(token, "바뀐 비번", now=now)                     # a new app_password signs out
    expiry, sig = token.split(".")
    assert not store.check_token(f"{int(expiry) + 86400 * 365}.{sig}", PASSWORD, now=now)   # no self-extension
    assert not store.check_token("garbage", PASSWORD) and not store.check_token(None, PASSWORD)


def test_what_her_browser_sends_back_is_validated():
    store = app_module("store")
    good = {"role": "user", "content": "안녕", "time": "2026-12-01T10:00:00+00:00"}
    raw = json.dumps([good, {"role": "system", "content": "x", "time": good["time"]}, "junk",
                      {"role": "assistant", "content": "응", "time": "어제"},
                      {"role": "assistant", "content": "ㅋㅋ", "time": "2026-12-01T10:00:05+00:00"}])
    assert store.load(raw) == [good, {"role": "assistant", "content": "ㅋㅋ", "time": "2026-12-01T10:00:05+00:00"}]
    assert store.load("{not json") == [] and store.load(json.dumps({"a": 1})) == []
    answer = lambda read, value: type("S", (), {"stored": json.dumps({"read": read, "value": value})})()  # noqa: E731
    assert store.history(answer(1, raw), read=1)[0] == good
    assert store.history(answer(1, raw), read=2) is None              # an answer from before the last 로그아웃
    assert store.history(None, read=1) is None
    long = [dict(good, content=str(i)) for i in range(store.MAX_MESSAGES + 5)]
    assert len(store.load(store.dump(long))) == store.MAX_MESSAGES


# ---------------------------------------------------------------------------------------------- chat

@pytest.mark.slow
def test_chat_turn_with_the_tiny_adapter_history_and_new_conversation(tiny_adapter):
    """The sample-trained tiny adapter (conftest: a real lib.train run) through the local backend."""
    at = app(app_password=PASSWORD, backend="local", adapter=str(tiny_adapter), bot_name="도윤", pacing=False)
    login(at.run(), PASSWORD)
    # generation defaults come from the run's malbeot.json (the sample-cpu profile)
    sliders = {s.label: s.value for s in at.slider}
    assert sliders["최대 길이 (토큰)"] == config.load_profile("sample-cpu")["generation"]["max_new_tokens"]
    at.chat_input[0].set_value("오늘 뭐 했어요?").run()
    assert not at.exception, at.exception
    msgs = at.session_state["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    assert msgs[0]["content"] == "오늘 뭐 했어요?" and msgs[1]["content"].strip()
    assert all(m["time"].endswith("+00:00") for m in msgs)              # ISO with offset, as stored
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


@pytest.mark.slow
def test_llama_cpp_reads_the_next_prompt_start_while_she_types(tiny_adapter, tmp_path):
    """At load the template's opening is cached; after his reply the page has llama.cpp read the next
    prompt up to her message, so her next message costs only its own tokens."""
    from lib import chat, export
    from lib.backends import LlamaCppBackend

    gguf = export.to_gguf(export.merge(tiny_adapter, tmp_path / "merged"), tmp_path / "model.gguf", qtype="Q8_0")
    be = LlamaCppBackend(gguf, tiny_adapter, n_ctx=512, threads=1)
    assert 0 < be.llm.n_tokens == be.warm()                      # the opening every prompt starts with
    bot = chat.Chatbot(be)
    history = [{"role": "user", "content": "오늘 뭐 했어요?"}, {"role": "assistant", "content": "집에 있었어 ㅋㅋ"}]
    start = app_module("common").next_prompt_start(bot, history)
    assert be.warm(text=start) == len(be.prompt_ids(start)) == be.llm.n_tokens
    assert bot.prompt(history + [{"role": "user", "content": "저녁은 먹었어요?"}]).startswith(start)
    assert list(be.llm._input_ids) == be.prompt_ids(start)      # what generate() will find cached


def test_remote_backend_against_a_fake_openai_server(fake_server):
    at = remote(fake_server)
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("일 끝났어요?").run()
    assert not at.exception, at.exception
    assert bubbles(at, "bot") == ["응 나도 방금 끝났어", "저녁 뭐 먹을까?"]
    request = FakeOpenAI.seen[-1]
    assert request["auth"] == "Bearer sk-test" and request["body"]["stream"] is True
    assert [m for m in request["body"]["messages"] if m["role"] == "user"][-1] == {"role": "user", "content": "일 끝났어요?"}
    assert request["body"]["model"] == "malbeot" and request["body"]["max_tokens"] > 0


def test_settings_speak_korean_and_count_this_conversation_only(fake_server):
    FakeOpenAI.reply = "일 끝났어요?\n저녁 뭐 먹을까?"       # first bubble echoes her: thrown away, then the fallback
    at = remote(fake_server)
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("일 끝났어요?").run()
    captions = " ".join(c.value for c in at.caption)
    assert "이 대화에서 거른 답: 따라 하기" in captions and "대신 보낸 짧은 답 1번" in captions
    assert "echo" not in captions and "empty" not in captions and "llamacpp" not in captions
    other = remote(fake_server)                                # another visitor: her own counts only
    login(other.run(), PASSWORD)
    assert "이 대화에서 거른 답: 없음" in " ".join(c.value for c in other.caption)
    button(at, "새 대화").click().run()
    assert "이 대화에서 거른 답: 없음" in " ".join(c.value for c in at.caption)
    assert {s.label for s in at.slider} == {"창의성", "단어 고르는 폭", "반복 억제", "최대 길이 (토큰)", "다시 쓰기 횟수"}


def test_no_chat_is_written_unless_the_owner_turns_logging_on(fake_server, tmp_path):
    at = remote(fake_server, log_dir=str(tmp_path))
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("비밀 얘기").run()
    assert len(at.session_state["messages"]) == 2 and list(tmp_path.iterdir()) == []
    at = remote(fake_server, log_dir=str(tmp_path), log_chats=True)
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("이건 기록돼요").run()
    (log,) = tmp_path.glob("*.jsonl")
    logged = json.loads(log.read_text(encoding="utf-8"))["messages"]
    assert [m["content"] for m in logged] == ["이건 기록돼요", "응 나도 방금 끝났어\n저녁 뭐 먹을까?"]


# ----------------------------------------------------------------------------- names, pacing, tz

def make_tokenizer(folder: Path) -> Path:
    """A small byte-level BPE tokenizer with the project's chat template (seconds, no model needed)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from lib import template

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    lines = ["상대: 오늘 뭐 했어요?", "나: 그냥 집에 있었어 ㅋㅋ", "다온아 도아가 갈게", "주하님 민준이 기다려요"] * 20
    tok.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=400, special_tokens=["</s>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"eos_token": "</s>", "chat_template": template.CHAT_TEMPLATE, "model_max_length": 2048}), encoding="utf-8")
    return folder


@pytest.fixture
def run_with_names(tmp_path) -> Path:
    """A run folder as the page downloads it for a remote backend with a tokenizer: the tokenizer and a
    malbeot.json that records the pseudonyms (박다온/다온 for her, 윤도아/도아 for me) and his pacing."""
    run = make_tokenizer(tmp_path / "run")
    meta = {"participants": {"her": {"name": "박다온", "given": "다온"}, "me": {"name": "윤도아", "given": "도아"}},
            "pacing": {"resolution_s": 1, "gaps": 9, "quantiles": [[0.05, 0.6], [0.95, 0.6]]}}
    (run / "malbeot.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return run


def sent_prompt(run: Path) -> str:
    """The prompt of the last /completions request, as text (some backends send token ids)."""
    prompt = FakeOpenAI.seen[-1]["body"]["prompt"]
    if isinstance(prompt, list):
        from tokenizers import Tokenizer

        prompt = Tokenizer.from_file(str(run / "tokenizer.json")).decode(prompt)
    return prompt


def test_she_is_called_by_her_name_and_the_model_sees_the_pseudonym(fake_server, run_with_names):
    FakeOpenAI.reply = "다온아 도아가 지금 갈게\n다온이가 먼저 가 있어"
    at = remote(fake_server, tokenizer=str(run_with_names), her_name="김민준", my_name="이주하")
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("주하님 어디예요? 민준이 기다려요").run()
    assert not at.exception, at.exception
    assert bubbles(at, "bot") == ["민준아 주하가 지금 갈게", "민준이가 먼저 가 있어"]
    assert bubbles(at, "me") == ["주하님 어디예요? 민준이 기다려요"]            # her own words as she typed them
    prompt = sent_prompt(run_with_names)
    assert "도아님 어디예요? 다온이 기다려요" in prompt and "민준" not in prompt and "주하" not in prompt
    assert at.session_state["messages"][-1]["content"] == "민준아 주하가 지금 갈게\n민준이가 먼저 가 있어"
    assert any("kt-top" in md.value and "이주하" in md.value for md in at.markdown)   # bot_name defaults to my_name


def test_his_bubbles_keep_his_pauses_unless_she_turns_them_off(fake_server, run_with_names, monkeypatch):
    FakeOpenAI.reply = "응\n지금 가\n조금만 기다려"                   # three bubbles, 0.6 s apart in his chat
    slept = []
    real_sleep = time.sleep

    def sleep(seconds):                                              # the page's own pauses, by caller
        if sys._getframe(1).f_code.co_filename.endswith(os.path.join("views", "chat.py")):
            slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    at = app(app_password=PASSWORD, backend="remote", base_url=fake_server, model="m", tokenizer=str(run_with_names))
    login(at.run(), PASSWORD)
    t0 = time.monotonic()
    at.chat_input[0].set_value("어디야?").run()
    assert bubbles(at, "bot") == ["응", "지금 가", "조금만 기다려"]
    assert time.monotonic() - t0 >= 1.2 and sum(slept) > 0            # each bubble >= 0.6 s after the last
    next(t for t in at.toggle if t.label == "그 사람처럼 쉬었다가 보내기").set_value(False).run()
    slept.clear()
    at.chat_input[0].set_value("빨리 와").run()
    assert len(at.session_state["messages"]) == 4 and not [s for s in slept if s > 0]


def test_a_dead_remote_server_is_reported_and_her_message_kept():
    at = app(app_password=PASSWORD, backend="remote", base_url="http://127.0.0.1:9/v1", model="m", timeout=2)
    login(at.run(), PASSWORD)
    at.chat_input[0].set_value("여보세요?").run()
    assert not at.exception
    assert "답장을 받지 못했어요" in at.error[0].value
    assert [m["role"] for m in at.session_state["messages"]] == ["user"]
    at.run()                                                     # no retry loop on every rerun
    assert len(at.error) == 0 and [m["role"] for m in at.session_state["messages"]] == ["user"]


def test_a_backend_that_cannot_load_is_explained_without_showing_secrets(tmp_path):
    at = app(app_password=PASSWORD, backend="llamacpp", gguf=str(tmp_path / "missing.gguf"), token="hf_secret")
    login(at.run(), PASSWORD)
    assert not at.exception
    message = at.error[0].value
    assert "모델을 불러오지 못했어요" in message and "missing.gguf" in message and "hf_secret" not in message
    assert len(at.chat_input) == 0


@pytest.mark.parametrize("ip, host, local", [
    (None, "localhost:8501", True), (None, "127.0.0.1:8501", True), (None, "[::1]:8501", True),
    (None, "dy-8f3k2.trycloudflare.com", False),     # a tunnel: loopback connection, public host name
    ("203.0.113.7", "localhost:8501", False),        # a spoofed Host header from outside
    (None, None, False),                             # no browser connection at all
])
def test_localhost_means_loopback_connection_and_local_host_name(monkeypatch, ip, host, local):
    import types

    common = app_module("common")
    fake = types.SimpleNamespace(headers={"Host": host} if host else {}, ip_address=ip)
    monkeypatch.setattr(common.st, "context", fake)
    assert common.is_localhost() is local


@pytest.mark.parametrize("value, expected", [("false", False), ("0", False), ("true", True), ("1", True)])
def test_every_backend_key_is_settable_from_the_environment(monkeypatch, value, expected):
    common = app_module("common")
    monkeypatch.setattr(common, "_secrets", lambda: {})
    for key, v in {"backend": "llamacpp", "gguf": "m.gguf", "n_ctx": "1024", "threads": "2", "mmap": value}.items():
        monkeypatch.setenv(f"MALBEOT_{key.upper()}", v)
    spec = common.backend_spec()
    assert spec["mmap"] is expected and spec["n_ctx"] == 1024 and spec["threads"] == 2


def test_the_page_passes_on_every_key_open_backend_reads():
    """Every backend setting is settable from the secrets: the keys lib.backends.open_backend reads."""
    import inspect
    import re

    from lib import backends

    src = inspect.getsource(backends.open_backend)
    read = set(re.findall(r'spec(?:\.get\(|\[)"(\w+)"', src))
    for args in re.findall(r"need\(([^)]*)\)", src):
        read |= set(re.findall(r'"(\w+)"', args))
    assert {"gguf", "mmap", "n_ctx", "base_url"} <= read                   # the pattern still finds them
    assert read - {"kind"} <= set(app_module("common").BACKEND_KEYS)


# ---------------------------------------------------------------------------------------- blind test

PAIRS = {"pairs": [
    {"context": [{"role": "user", "content": "다온이 왔어요"}], "a": "다온아 반가워", "b": "어 왔어?", "real": "a"},
    {"context": [{"role": "user", "content": "뭐 해요?"}], "a": "그냥 있어", "b": "일하지 ㅠ", "real": "b"},
]}


def test_the_blind_test_runs_from_pairs_in_the_private_repo(monkeypatch, tmp_path, fake_server, run_with_names):
    import huggingface_hub

    hub = tmp_path / "hub"
    hub.mkdir()
    (hub / "blind_pairs.json").write_text(json.dumps(PAIRS, ensure_ascii=False), encoding="utf-8")
    asked = []

    def download(repo, filename, token=None, **kw):
        asked.append((repo, filename, token))
        if repo != "me/malbeot-private" or not (hub / filename).is_file():
            raise huggingface_hub.errors.EntryNotFoundError(f"{filename} not in {repo}")
        return str(hub / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(config, "report", lambda: tmp_path / "no-report")
    at = remote(fake_server, repo="me/malbeot-private", token="hf_read", tokenizer=str(run_with_names),
                her_name="김민준", log_blind=True, log_dir=str(tmp_path / "logs"))
    login(at.run(), PASSWORD)
    at.switch_page("views/blind.py").run()
    assert not at.exception, at.exception
    assert ("me/malbeot-private", "blind_pairs.json", "hf_read") in asked
    assert any("민준이 왔어요" in md.value for md in at.markdown)              # her name, not the pseudonym
    button(at, "A가 진짜").click().run()
    button(at, "A가 진짜").click().run()
    assert at.metric[0].value == "1 / 2"
    (log,) = (tmp_path / "logs").glob("blind-*.jsonl")
    saved = json.loads(log.read_text(encoding="utf-8"))
    assert saved["right"] == 1 and saved["picks"] == ["a", "a"] and saved["correct"] == [True, False]
    assert "반가워" not in log.read_text(encoding="utf-8") and "뭐 해요" not in log.read_text(encoding="utf-8")


def test_without_pairs_she_sees_a_friendly_line_not_a_command(monkeypatch, tmp_path, fake_server):
    monkeypatch.setattr(config, "report", lambda: tmp_path / "nothing-here")
    at = remote(fake_server)
    login(at.run(), PASSWORD)
    at.switch_page("views/blind.py").run()
    assert not at.exception
    text = " ".join(i.value for i in at.info)
    assert "아직 준비된 문제가 없어요" in text and "python" not in text and "lib." not in text


# ----------------------------------------------------------------------------------- the install

def pins(path: Path) -> dict:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==")
            out[name.lower()] = version.split("+")[0].strip()
    return out


def test_the_llamacpp_page_installs_no_torch_and_pins_what_the_project_tested():
    cloud, project = pins(APP.parent / "requirements.txt"), pins(config.ROOT / "requirements.txt")
    assert {"streamlit", "tokenizers", "jinja2", "huggingface-hub", "gguf", "llama-cpp-python", "pyyaml"} <= set(cloud)
    assert not {"torch", "transformers", "peft", "bitsandbytes", "accelerate"} & set(cloud)
    # llama-cpp-python: the newest version with a prebuilt CPU wheel on its project's index (see the file)
    assert {k: v for k, v in cloud.items() if project.get(k, v) != v} == {"llama-cpp-python": "0.3.35"}
    text = (APP.parent / "requirements.txt").read_text()
    assert "--extra-index-url https://abetlen.github.io/llama-cpp-python/whl/cpu" in text
    local = pins(APP.parent / "requirements-local.txt")
    assert {"torch", "transformers", "peft", "bitsandbytes", "accelerate", "streamlit"} <= set(local)
    assert {k: v for k, v in local.items() if project.get(k, v) != v} == {}


def test_the_page_runs_on_its_own_requirements_without_transformers(tmp_path):
    """The llamacpp page's import path: what app/requirements.txt installs is enough (no torch/transformers)."""
    code = ("import sys, importlib.abc\n"
            "class Block(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in {'torch', 'transformers', 'peft', 'pandas', 'bitsandbytes', 'accelerate'}:\n"
            "            raise ImportError('not installed on the page: ' + name)\n"
            "sys.meta_path.insert(0, Block())\n"
            f"sys.path.insert(0, {str(APP.parent)!r})\n"
            "import common, store\n"
            "from lib import blind, names, pacing, tokenizer\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


def test_import_lib_finds_this_project_from_any_directory(tmp_path):
    """llama-cpp-python installs a top-level `lib/` folder into site-packages; the project's `lib` must win."""
    out = subprocess.run([sys.executable, "-c", "import lib, lib.chat; print(lib.__file__)"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": ""})
    assert out.returncode == 0, out.stderr[-2000:]
    assert Path(out.stdout.strip()) == config.ROOT / "lib" / "__init__.py"
