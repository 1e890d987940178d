"""The real page in a real browser: `streamlit run` on a free localhost port, driven by Debian's Chromium
(selenium + chromium-driver) at phone size. Her visit as she lives it: log in (a wrong try first), an empty
chat, a reply of several bubbles with her real name in it and his pauses, a reload that keeps the
conversation and the login, the blind test, 로그아웃 that forgets both. A second server runs the
sample-trained tiny adapter on llama.cpp, the cloud page's serving path. Screenshots of each state go to
outputs/screenshots/ (not committed).

Needs `apt-get install chromium chromium-driver` (`make browser`); skipped cleanly without them."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from lib import config

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
PASSWORD = "브라우저-테스트-비번"
SHOTS = config.outputs() / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                       reason="needs Debian's chromium + chromium-driver (make browser)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(tmp: Path, secrets: str):
    """The app on 127.0.0.1:<free port>; secrets from a temp file, so a real .streamlit/secrets.toml
    in the checkout is never read (and the repo's config.toml theme still applies)."""
    from test_app import APP_SETTINGS_ENV

    (tmp / "secrets.toml").write_text(secrets, encoding="utf-8")
    secrets = tmp / "secrets.toml"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not APP_SETTINGS_ENV(k)}
    log = open(tmp / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", f"--secrets.files={secrets}",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=config.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"streamlit did not start:\n{(tmp / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# Her visit: a fake OpenAI-compatible server answers, so the replies are known in advance: several bubbles,
# her pseudonym (다온) in them, never the same twice (a repeat would be thrown away by the guards).
REPLIES = ["다온아 나 방금 퇴근했어\n오늘 진짜 길었다 ㅋㅋ\n저녁 먹었어?", "ㅋㅋㅋ 다온이가 먼저 먹어\n나는 이따 먹을게"]
PAIRS = {"pairs": [
    {"context": [{"role": "user", "content": "오늘 일찍 끝나요?"}], "a": "아니 ㅠ 야근", "b": "응 6시에", "real": "a"},
    {"context": [{"role": "user", "content": "다온이 배고파요"}], "a": "다온아 뭐 먹을래", "b": "밥 먹어", "real": "a"},
]}


@pytest.fixture(scope="module")
def her_server(tmp_path_factory):
    """The page with the remote backend against a scripted server, a run folder that records the
    pseudonyms (her: 박다온/다온) and his pacing (0.6 s between bubbles), her name, and blind pairs."""
    import io

    from test_app import FakeOpenAI, make_tokenizer
    from tokenizers import Tokenizer

    class Scripted(FakeOpenAI):
        """Answers her first message with REPLIES[0], her second with REPLIES[1] (read off the prompt)."""

        def do_POST(self):  # noqa: N802
            length = int(self.headers["Content-Length"])
            body = self.rfile.read(length)
            prompt = json.loads(body).get("prompt")
            if isinstance(prompt, list):
                prompt = Tokenizer.from_file(str(run / "tokenizer.json")).decode(prompt)
            type(self).reply = REPLIES[1 if "아직이요" in str(prompt) else 0]
            self.rfile = io.BytesIO(body)             # the parent reads the body again
            super().do_POST()

    tmp = tmp_path_factory.mktemp("her")
    run = make_tokenizer(tmp / "run")
    (run / "malbeot.json").write_text(json.dumps({
        "participants": {"her": {"name": "박다온", "given": "다온"}, "me": {"name": "윤도아", "given": "도아"}},
        "pacing": {"resolution_s": 1, "gaps": 9, "quantiles": [[0.05, 0.6], [0.95, 0.6]]}}), encoding="utf-8")
    (tmp / "blind_pairs.json").write_text(json.dumps(PAIRS, ensure_ascii=False), encoding="utf-8")
    api = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    secrets = (f'app_password = "{PASSWORD}"\nbackend = "remote"\nbase_url = "http://127.0.0.1:{api.server_address[1]}/v1"\n'
               f'model = "m"\ntokenizer = "{run}"\nher_name = "김민준"\nmy_name = "이주하"\n'
               f'blind_pairs = "{tmp / "blind_pairs.json"}"\n')
    try:
        with streamlit_server(tmp, secrets) as url:
            yield url
    finally:
        api.shutdown()
        api.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_adapter):
    """With a password, the sample-trained tiny adapter served the way the cloud page serves it:
    merged into the base, written as GGUF, run by llama.cpp."""
    from lib import export

    tmp = tmp_path_factory.mktemp("browser")
    adapter = tiny_adapter
    gguf = export.to_gguf(export.merge(adapter, tmp / "merged"), tmp / "model-Q8_0.gguf", qtype="Q8_0")
    with streamlit_server(tmp, f'app_password = "{PASSWORD}"\nbot_name = "도윤"\nbackend = "llamacpp"\n'
                               f'gguf = "{gguf}"\ntokenizer = "{adapter}"\nthreads = 1\npacing = false\n') as url:
        yield url


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=390,844", "--force-device-scale-factor=2", "--lang=ko-KR"):
        opts.add_argument(arg)
    # a phone: touch, mobile user agent, iPhone-sized viewport
    opts.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0},
        "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                     "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    drv.set_window_size(390, 844)
    yield drv
    drv.quit()


def shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def texts(driver, css: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def log_in(driver, wait, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC

    box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "input[type='password']")))
    box.send_keys(password, Keys.ENTER)


def wait_for_reply(driver, wait, n_rows: int) -> None:
    """Done when n_rows of his turns are drawn from history and no typing dots are left."""
    from selenium.webdriver.common.by import By

    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".kt-typing")
               and len(d.find_elements(By.CSS_SELECTOR, ".kt-row.bot")) >= n_rows)


def open_settings(driver, tries: int = 10) -> None:
    """Open 설정 (a tap while the page is still redrawing can be lost, so tap until it is open)."""
    from selenium.webdriver.common.by import By

    for _ in range(tries):
        if any(b.is_displayed() for b in driver.find_elements(By.XPATH, "//button[.//p[text()='로그아웃']]")):
            return
        driver.find_element(By.XPATH, "//summary[.//p[text()='설정']]").click()
        time.sleep(1.0)
    raise AssertionError("설정 did not open")


def floating(driver) -> list[str]:
    """Controls that would float over the chat on a phone (header menu, sidebar toggle), if displayed."""
    from selenium.webdriver.common.by import By

    ids = ("stHeader", "stSidebarCollapsedControl", "stExpandSidebarButton", "stSidebar", "stToolbar")
    return [i for i in ids for e in driver.find_elements(By.CSS_SELECTOR, f"[data-testid='{i}']") if e.is_displayed()]


def test_her_visit_login_chat_reload_blind_test_and_logout(her_server, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 60)
    driver.delete_all_cookies()
    driver.get(her_server)
    log_in(driver, wait, "틀린 비번")
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid='stAlert']"), "비밀번호가 달라요"))
    assert driver.find_element(By.CSS_SELECTOR, "input[type='password']").get_attribute("value") == ""
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-testid='stChatInput']")     # only the login
    shot(driver, "login")
    log_in(driver, wait, PASSWORD)

    box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
    wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".kt-empty")))
    assert not driver.find_elements(By.CSS_SELECTOR, "input[type='password']") and floating(driver) == []
    shot(driver, "empty")

    box.send_keys("주하님 퇴근했어요? 민준이 기다려요", Keys.ENTER)
    # his bubbles arrive one by one with his pause between them, the typing dots up meanwhile
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".kt-row.bot .kt-bubble:not(.kt-typing)")
               and d.find_elements(By.CSS_SELECTOR, ".kt-typing"))
    wait_for_reply(driver, wait, 1)
    bot = texts(driver, ".kt-row.bot .kt-bubble")
    assert bot == ["민준아 나 방금 퇴근했어", "오늘 진짜 길었다 ㅋㅋ", "저녁 먹었어?"]      # her name, not 다온
    assert "이주하" in driver.find_element(By.CSS_SELECTOR, ".kt-top").text             # his name as the header
    shot(driver, "reply")
    box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
    box.send_keys("아직이요 ㅎㅎ", Keys.ENTER)
    wait_for_reply(driver, wait, 2)
    mine, bot = texts(driver, ".kt-row.me .kt-bubble"), texts(driver, ".kt-row.bot .kt-bubble")
    assert mine == ["주하님 퇴근했어요? 민준이 기다려요", "아직이요 ㅎㅎ"] and bot[-2:] == ["ㅋㅋㅋ 민준이가 먼저 먹어", "나는 이따 먹을게"]
    stored = json.loads(driver.execute_script("return localStorage.getItem('malbeot:history')"))
    assert [m["content"] for m in stored][0] == mine[0] and all(m["time"].endswith("+00:00") for m in stored)

    driver.refresh()                                # the phone dropped the tab: she comes back
    wait.until(lambda d: texts(d, ".kt-row.me .kt-bubble") == mine)
    assert not driver.find_elements(By.CSS_SELECTOR, "input[type='password']")        # still logged in
    assert texts(driver, ".kt-row.bot .kt-bubble") == bot and len(texts(driver, ".kt-time")) == 4
    shot(driver, "after_reload")

    driver.get(her_server + "/blind")               # the blind test, straight from its address
    wait.until(EC.element_to_be_clickable((By.XPATH, "//button[.//p[text()='A가 진짜']]")))
    shot(driver, "blind_test")
    driver.find_element(By.XPATH, "//button[.//p[text()='A가 진짜']]").click()
    wait.until(lambda d: "민준이 배고파요" in texts(d, ".kt-row.me .kt-bubble"))     # her name in question 2
    time.sleep(1)                                   # let the redraw settle before the second tap
    driver.execute_script("arguments[0].click()", driver.find_element(By.XPATH, "//button[.//p[text()='A가 진짜']]"))
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid='stMetricValue']"), "2 / 2"))
    shot(driver, "blind_score")

    driver.get(her_server)
    wait.until(lambda d: texts(d, ".kt-row.me .kt-bubble") == mine)
    open_settings(driver)
    settings = driver.find_element(By.CSS_SELECTOR, "[data-testid='stExpander']").text
    assert "이 대화에서 거른 답" in settings and "브라우저에만 저장돼요" in settings and "empty" not in settings
    shot(driver, "settings")
    driver.find_element(By.XPATH, "//button[.//p[text()='로그아웃']]").click()
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "input[type='password']")))
    wait.until(lambda d: d.execute_script("return localStorage.getItem('malbeot:history')") is None)
    assert driver.get_cookie("malbeot_login") is None
    driver.refresh()                                # signed out stays signed out, and the chat is gone
    log_in(driver, wait, PASSWORD)
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
    wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".kt-empty")))
    assert texts(driver, ".kt-row.me .kt-bubble") == []


def test_the_tiny_adapter_answers_through_llama_cpp(server, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 90)
    driver.delete_all_cookies()
    driver.get(server)
    log_in(driver, wait, PASSWORD)
    box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
    for i, text in enumerate(("오늘 뭐 했어요?", "저녁은 먹었어요? 나는 아직이에요"), 1):
        box.send_keys(text, Keys.ENTER)
        wait.until(lambda d, t=text: any(t in e for e in texts(d, ".kt-row.me .kt-bubble")))
        wait_for_reply(driver, wait, i)
        box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
    mine, bot = texts(driver, ".kt-row.me .kt-bubble"), texts(driver, ".kt-row.bot .kt-bubble")
    assert mine == ["오늘 뭐 했어요?", "저녁은 먹었어요? 나는 아직이에요"]
    assert len(driver.find_elements(By.CSS_SELECTOR, ".kt-row.bot")) == 2 and all(b.strip() for b in bot)
    assert "도윤" in driver.find_element(By.CSS_SELECTOR, ".kt-row.bot .kt-name").text
    times = texts(driver, ".kt-time")
    assert len(times) == 4 and all(t.startswith(("오전", "오후")) for t in times)
    shot(driver, "chat_llamacpp")


def test_without_a_password_it_opens_on_localhost_only_and_says_so(driver, tmp_path):
    """No app_password: a browser on this machine gets in (the remote backend needs no model to load),
    with a notice; off localhost the page refuses (see test_app's is_localhost cases)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    with streamlit_server(tmp_path, 'backend = "remote"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n') as url:
        driver.get(url.replace("127.0.0.1", "localhost"))
        wait = WebDriverWait(driver, 30)
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid='stChatInput']")))
        assert "localhost" in driver.find_element(By.CSS_SELECTOR, "[data-testid='stCaptionContainer']").text
        assert not driver.find_elements(By.CSS_SELECTOR, "input[type='password']")
