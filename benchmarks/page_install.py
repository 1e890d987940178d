"""The page's install and start, as a fresh cloud box does them (issue 13 §3): a new venv with only
app/requirements.txt, then `streamlit run` from it with the llama.cpp backend, a login in headless Chromium
and the first reply. JSON to benchmarks/results/page_install.json.

    .venv/bin/python benchmarks/page_install.py --gguf outputs/bench/polyglot-ko-1.3b/model-Q4_K_M.gguf \
        --tokenizer outputs/bench/polyglot-ko-1.3b/hf
    .venv/bin/python benchmarks/page_install.py --venv /tmp/pagevenv --skip-install ...   # start + login only

Timed in two steps: everything but llama-cpp-python (wheels from PyPI), then llama-cpp-python. The cloud
gets the latter as a prebuilt wheel from its project's CPU index; where that index is out of reach (this
machine) pip compiles the sdist, here with CMAKE_ARGS=-DGGML_NATIVE=OFF, the portable build that wheel is.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib import config, fileio  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "page_install.json"
REQS = ROOT / "app" / "requirements.txt"
PASSWORD = "benchmark-password"
HEAVY = {"torch", "transformers", "peft", "bitsandbytes", "accelerate"}


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def install(venv: Path, log: Path) -> dict:
    """Fresh venv + app/requirements.txt, without the pip cache, timed per step."""
    shutil.rmtree(venv, ignore_errors=True)
    lines = REQS.read_text(encoding="utf-8").splitlines()
    reachable = _reachable("https://abetlen.github.io/llama-cpp-python/whl/cpu/")
    # an index this machine cannot reach only adds DNS retries to every package: leave it out here
    keep = [ln for ln in lines if reachable or "abetlen.github.io" not in ln]
    rest = tmp_reqs(venv.parent, "rest", [ln for ln in keep if not ln.strip().startswith("llama-cpp-python")])
    llama = tmp_reqs(venv.parent, "llama", [ln for ln in keep if ln.startswith("--") or "llama-cpp-python" in ln])
    env = dict(os.environ, CMAKE_ARGS="-DGGML_NATIVE=OFF", PIP_NO_CACHE_DIR="1")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    steps = {}
    with open(log, "w") as f:
        for name, reqs in (("everything_but_llama_cpp_s", rest), ("llama_cpp_python_s", llama)):
            t = time.perf_counter()
            subprocess.run([py, "-m", "pip", "install", "--disable-pip-version-check", "-r", str(reqs)],
                           env=env, stdout=f, stderr=subprocess.STDOUT, check=True)
            steps[name] = round(time.perf_counter() - t, 1)
    text = log.read_text()
    built = bool(re.search(r"Building wheel for llama[-_]cpp[-_]python", text))
    freeze = subprocess.run([py, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    installed = {ln.split("==")[0].lower() for ln in freeze.splitlines() if "==" in ln}
    return {"install_s": round(time.perf_counter() - t0, 1), **steps, "venv_mb": round(_du(venv) / 2**20),
            "llama_cpp_compiled": built, "wheel_index_reachable": reachable,
            "heavy_packages_installed": sorted(HEAVY & installed), "packages": len(installed)}


def tmp_reqs(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / f"requirements-{name}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _reachable(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5).close()
        return True
    except OSError:
        return False


def start_and_login(venv: Path, gguf: str, tokenizer: str, tmp: Path) -> dict:
    """`streamlit run` from the fresh venv; Chromium logs in and sends one message."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    secrets = tmp / "secrets.toml"
    secrets.write_text(f'app_password = "{PASSWORD}"\nbackend = "llamacpp"\ngguf = "{config.resolve(gguf)}"\n'
                       f'tokenizer = "{config.resolve(tokenizer)}"\nthreads = 2\npacing = false\n', encoding="utf-8")
    port = 8600 + os.getpid() % 300
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALBEOT_") or k in ("MALBEOT_OUTPUTS",)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(venv / "bin" / "python"), "-m", "streamlit", "run", "app/streamlit_app.py",
                             "--server.port", str(port), "--server.headless", "true", f"--secrets.files={secrets}",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=open(tmp / "streamlit.log", "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=390,844"):
        opts.add_argument(arg)
    drv = None
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t0 > 120:
                    raise RuntimeError((tmp / "streamlit.log").read_text()[-1500:])
                time.sleep(0.2)
        server_s = time.perf_counter() - t0
        drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        wait = WebDriverWait(drv, 600)
        drv.get(url)
        box = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "input[type='password']")))
        t1 = time.perf_counter()
        box.send_keys(PASSWORD, Keys.ENTER)
        chat = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
        login_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        chat.send_keys("오늘 뭐 했어요?", Keys.ENTER)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".kt-row.bot")
                   and not d.find_elements(By.CSS_SELECTOR, ".kt-typing"))
        reply_s = time.perf_counter() - t2
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) * 1024 / 2**30
        torch_loaded = "torch" in Path(f"/proc/{proc.pid}/maps").read_text()
        return {"server_start_s": round(server_s, 1), "login_to_chat_s": round(login_s, 1),
                "first_reply_s": round(reply_s, 1), "server_peak_rss_gb": round(peak, 3),
                "torch_loaded_in_server": torch_loaded}
    finally:
        if drv is not None:
            drv.quit()
        proc.terminate()
        proc.wait(timeout=20)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--venv", default=None, help="where the fresh venv goes (default: a temp folder, removed)")
    ap.add_argument("--skip-install", action="store_true", help="reuse --venv as it is")
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="page-install-"))
    venv = Path(a.venv) if a.venv else tmp / "venv"
    row = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": f"{platform.machine()} {os.cpu_count()} CPUs",
           "load_avg_1m_before": round(os.getloadavg()[0], 2), "requirements": "app/requirements.txt"}
    if not a.skip_install:
        row.update(install(venv, tmp / "pip.log"))
        print(json.dumps(row, indent=1), flush=True)
    row.update(start_and_login(venv, a.gguf, a.tokenizer, tmp), gguf=Path(a.gguf).name)
    print(json.dumps(row, indent=1))
    path = Path(a.out)
    old = json.loads(path.read_text()) if path.is_file() else {}
    if a.skip_install:       # keep the last measured install beside a start-only run
        row = {**{k: v for k, v in old.items() if k.endswith(("_s", "_mb")) or k in (
            "llama_cpp_compiled", "wheel_index_reachable", "heavy_packages_installed", "packages")}, **row}
    fileio.write_json(path, row)
    if not a.venv:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
