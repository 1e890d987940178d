"""The real page in a real browser: `streamlit run` on a free localhost port with a test password and
the sample-trained tiny adapter served by llama.cpp (the cloud page's fast CPU backend), driven by Debian's Chromium (selenium + chromium-driver) at phone size. Logs in,
sends a message, waits for the bot's bubbles and saves outputs/screenshots/chat.png (not committed).

Needs `apt-get install chromium chromium-driver` (`make browser`); skipped cleanly without them."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
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


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_adapter):
    """With a password, the sample-trained tiny adapter served the way the cloud page serves it:
    merged into the base, written as GGUF, run by llama.cpp."""
    from lib import export

    tmp = tmp_path_factory.mktemp("browser")
    adapter = tiny_adapter
    gguf = export.to_gguf(export.merge(adapter, tmp / "merged"), tmp / "model-Q8_0.gguf", qtype="Q8_0")
    with streamlit_server(tmp, f'app_password = "{PASSWORD}"\nbot_name = "도윤"\nbackend = "llamacpp"\n'
                               f'gguf = "{gguf}"\ntokenizer = "{adapter}"\nthreads = 1\n') as url:
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


def test_log_in_send_a_message_and_see_the_reply(server, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 60)
    driver.get(server)
    password = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "input[type='password']")))
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-testid='stChatInput']")   # only the login
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / "login.png"))

    password.send_keys("틀린 비번", Keys.ENTER)
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid='stAlert']"), "비밀번호가 달라요"))
    password = driver.find_element(By.CSS_SELECTOR, "input[type='password']")
    password.send_keys(Keys.CONTROL, "a")
    password.send_keys(PASSWORD, Keys.ENTER)

    box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
    for text in ("오늘 뭐 했어요?", "저녁은 먹었어요? 나는 아직이에요"):
        box.send_keys(text, Keys.ENTER)
        wait.until(lambda d, t=text: any(t in e.text for e in d.find_elements(By.CSS_SELECTOR, ".kt-row.me .kt-bubble")))
        # the reply is done when the typing dots are gone and the page redrew from history
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".kt-typing")
                   and len(d.find_elements(By.CSS_SELECTOR, ".kt-row.bot")) >= 1)
        box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
    mine = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".kt-row.me .kt-bubble")]
    bot = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".kt-row.bot .kt-bubble")]
    assert mine == ["오늘 뭐 했어요?", "저녁은 먹었어요? 나는 아직이에요"]
    assert len(driver.find_elements(By.CSS_SELECTOR, ".kt-row.bot")) == 2 and all(b.strip() for b in bot)
    assert "도윤" in driver.find_element(By.CSS_SELECTOR, ".kt-row.bot .kt-name").text
    times = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".kt-time")]
    assert len(times) == 4 and all(t.startswith(("오전", "오후")) for t in times)
    driver.save_screenshot(str(SHOTS / "chat.png"))


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
