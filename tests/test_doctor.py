"""lib.doctor: each check on the conditions this machine has (real) and on the ones it cannot have
(monkeypatched: a GPU, Windows, a missing package, a full disk, a gated model), and the CLI end to end."""
from __future__ import annotations

import re
import subprocess
import sys
import time
import types
from collections import namedtuple

import pytest

from lib import config, doctor, pipeline

LINE = re.compile(r"^(OK|WARN|FIX) [\w .-]+: \S")
GPU = config.load_profile("rtx3060ti")
CPU = config.load_profile("sample-cpu")


def _doctor(profile: str):
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "lib.doctor", "--profile", profile], cwd=config.ROOT,
                          capture_output=True, text=True, timeout=300)
    checks = [line for line in proc.stdout.splitlines() if line and not line.startswith(("ready", " "))
              and "thing(s) to fix" not in line]
    return proc, checks, time.monotonic() - t0


@pytest.mark.slow
def test_the_sample_profile_is_ready_on_this_cpu_machine():
    proc, checks, _ = _doctor("sample-cpu")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert checks and all(LINE.match(c) for c in checks), checks
    assert not [c for c in checks if c.startswith("FIX")]
    names = {c.split(":")[0].split(" ", 1)[1] for c in checks}
    assert {"python", "requirements", "torch", "bitsandbytes", "disk", "hub", "export"} <= names
    assert "ready for profile sample-cpu" in proc.stdout


@pytest.mark.slow
def test_the_gpu_profile_exits_1_naming_cuda_and_the_offline_hub_answers_at_once():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    proc, checks, seconds = _doctor("rtx3060ti")
    assert proc.returncode == 1, proc.stdout
    assert all(LINE.match(c) for c in checks), checks
    cuda = [c for c in checks if c.startswith("FIX cuda:")]
    assert cuda and "CUDA" in cuda[0] and "--index-url https://download.pytorch.org/whl/cu128" in cuda[0]
    hub = next(c for c in checks if c.split(":")[0].endswith(" hub"))
    assert hub.startswith(("FIX", "WARN")) and "unreachable" in hub   # huggingface.co is not reachable here
    assert seconds < 120  # imports dominate; the hub check gives up at its first network failure


def test_requirements_pins_against_installed_versions():
    pinned = {"torch": "2.13.0", "trl": "1.16.0", "streamlit": "1.67.0", "gguf": "0.19.0"}
    installed = {"torch": "2.13.0+cu128", "trl": "1.16.0", "streamlit": "1.67.0"}

    def version(name):
        if name not in installed:
            raise doctor.importlib.metadata.PackageNotFoundError(name)
        return installed[name]

    assert doctor.check_requirements(pinned, version).level == "OK"  # a CUDA torch matches its pin; gguf: own check
    installed["streamlit"] = "1.50.0"
    c = doctor.check_requirements(pinned, version)
    assert c.level == "WARN" and "streamlit 1.50.0 (pinned 1.67.0)" in c.detail
    del installed["trl"]
    c = doctor.check_requirements(pinned, version, platform="win32")
    assert c.level == "FIX" and "trl missing (pinned 1.16.0)" in c.detail
    assert r"`.venv\Scripts\python -m pip install -r requirements.txt`" in c.detail
    assert doctor.check_requirements().level == "OK"  # this venv was built from requirements.txt


def test_python_version_and_venv():
    assert doctor.check_python((3, 9, 18), "/v", "/usr")[0].level == "FIX"
    assert doctor.check_python((3, 12, 1), "/v", "/usr")[0].level == "WARN"
    ok = doctor.check_python((3, 11, 7), "/usr", "/usr", platform="linux")
    assert [c.level for c in ok] == ["OK", "WARN"] and ".venv/bin/python -m lib.doctor" in ok[1].detail


def _torch(cuda_build, available, name="NVIDIA GeForce RTX 3060 Ti"):
    props = types.SimpleNamespace(name=name, total_memory=8 * 1024**3, major=8, minor=6)
    return types.SimpleNamespace(
        __version__="2.13.0+cu128" if cuda_build else "2.13.0+cpu", version=types.SimpleNamespace(cuda=cuda_build),
        cuda=types.SimpleNamespace(is_available=lambda: available, get_device_properties=lambda i: props,
                                   is_bf16_supported=lambda: True))


def test_torch_cuda_lines_name_the_fix():
    win = doctor.check_torch(GPU, _torch(None, False), platform="win32")
    assert win.level == "FIX" and "CPU-only" in win.detail and "PyPI's torch for Windows" in win.detail
    assert r".venv\Scripts\python -m pip install --force-reinstall torch==2.13.0 --index-url " \
           "https://download.pytorch.org/whl/cu128" in win.detail
    driver = doctor.check_torch(GPU, _torch("12.8", False), platform="linux")
    assert driver.level == "FIX" and "nvidia-smi" in driver.detail and "driver" in driver.detail
    ok = doctor.check_torch(GPU, _torch("12.8", True))
    assert ok.level == "OK" and "RTX 3060 Ti" in ok.detail and "8.0 GiB" in ok.detail and "bf16" in ok.detail
    assert doctor.check_torch(CPU, _torch(None, False)).level == "OK"


def test_free_vram_against_the_plan():
    gib = 1024**3
    full = doctor.check_vram(GPU, mem_get_info=lambda: (4 * gib, 8 * gib))
    assert full.level == "FIX" and "eeve-2.8b needs 6.3 GiB" in full.detail and "polyglot" not in full.detail.split(":")[0]
    assert "nvidia-smi" in full.detail
    assert doctor.check_vram(GPU, mem_get_info=lambda: (7.6 * gib, 8 * gib)).level == "OK"
    assert doctor.check_vram(CPU).level == "OK"


def test_bitsandbytes_runs_a_real_4bit_matmul_on_the_cpu():
    c = doctor.check_bnb(CPU)
    assert c.level == "OK" and "nf4 matmul forward+backward on cpu" in c.detail


def test_bitsandbytes_failure_is_a_fix(monkeypatch):
    import bitsandbytes

    def broken(*a, **k):
        raise RuntimeError("CUDA Setup failed despite GPU being available")

    monkeypatch.setattr(bitsandbytes.nn, "Linear4bit", broken)
    c = doctor.check_bnb(CPU)
    assert c.level == "FIX" and "CUDA Setup failed" in c.detail and "bitsandbytes==0.50.2" in c.detail


def test_hub_unreachable_fails_fast_and_a_cached_model_is_enough(monkeypatch):
    import huggingface_hub as hh

    t0 = time.monotonic()
    lines, sizes = doctor.hub_sizes(GPU, timeout=3)
    assert time.monotonic() - t0 < 15
    assert lines[0].level == "FIX" and "unreachable" in lines[0].detail
    assert [c.level for c in lines[1:]] == ["FIX", "FIX"] and sizes == {"polyglot-ko-1.3b": None, "eeve-2.8b": None}
    monkeypatch.setattr(hh, "try_to_load_from_cache", lambda repo, f: "/cache/config.json")
    lines, sizes = doctor.hub_sizes(GPU, timeout=3)
    assert lines[0].level == "WARN" and "HF_HUB_OFFLINE=1" in lines[0].detail and set(sizes.values()) == {0}
    assert doctor.hub_sizes(CPU)[0][0].level == "OK"


def test_hub_sizes_and_a_gated_model(monkeypatch):
    import httpx
    import huggingface_hub as hh
    from huggingface_hub import errors

    monkeypatch.setattr(hh, "try_to_load_from_cache", lambda repo, f: None)
    File = namedtuple("File", "rfilename size")

    class Api:
        def model_info(self, repo, **kw):
            if "EEVE" in repo:
                denied = httpx.Response(401, request=httpx.Request("GET", f"https://huggingface.co/api/models/{repo}"))
                raise errors.GatedRepoError("401 Client Error: access to model is restricted", response=denied)
            return types.SimpleNamespace(siblings=[File("model.safetensors", 2_700_000_000), File("tokenizer.json", 1000),
                                                   File("pytorch_model.bin", 5_000_000_000)])

    lines, sizes = doctor.hub_sizes(GPU, api=Api())
    assert sizes["polyglot-ko-1.3b"] == 2_700_001_000  # safetensors win over .bin; the tokenizer counts
    poly, eeve = lines[1:]
    assert poly.level == "OK" and "2.7 GB to download" in poly.detail
    assert eeve.level == "FIX" and "hf auth login" in eeve.detail


def test_disk_need_with_numbers():
    usage = namedtuple("usage", "total used free")
    need = doctor.disk_needs(GPU, {"polyglot-ko-1.3b": 2_700_000_000, "eeve-2.8b": None})
    assert 2.7e9 + 5.0e9 < need["downloads"] < 2.7e9 + 6.0e9  # EEVE from the registry: 2.8 B params in bf16
    assert need["export"] > 10e9 and 0 < need["checkpoints"] < 1e9
    full = doctor.check_disk(GPU, {"polyglot-ko-1.3b": 0, "eeve-2.8b": 0}, usage=lambda p: usage(0, 0, 5e9))
    assert full.level == "FIX" and "5.0 GB are free" in full.detail and "free up" in full.detail
    assert doctor.check_disk(GPU, {}, usage=lambda p: usage(0, 0, 500e9)).level == "OK"


def test_export_packages_and_windows(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import fails
    c = doctor.check_export(platform="win32")
    assert c.level == "WARN" and c.detail.startswith("llama-cpp-python (ModuleNotFoundError) cannot be imported")
    assert "--extra-index-url https://abetlen.github.io/llama-cpp-python/whl/cpu" in c.detail and "gguf==" not in c.detail
    win = doctor.check_windows("win32", symlinks=False)
    assert win[-1].level == "WARN" and "Developer Mode" in win[-1].detail
    assert doctor.check_windows("linux") == []


def test_chat_and_me():
    assert doctor.check_chat(CPU).level == "OK"
    missing = doctor.check_chat(GPU)
    assert missing.level == "FIX" and "KakaoTalk.txt" in missing.detail
    assert "ME=" in doctor.check_chat(GPU, chat=["data/sample/pc_ko.txt"]).detail


def test_the_pipeline_stops_before_the_notebooks_when_the_doctor_says_fix(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "run", lambda prof, **kw: [doctor.Check("FIX", "cuda", "no GPU")])
    monkeypatch.setattr(pipeline, "run_notebook", lambda *a, **k: pytest.fail("a notebook ran"))
    assert pipeline.main(["--profile", "rtx3060ti"]) == 1
    out = capsys.readouterr()
    assert "FIX cuda: no GPU" in out.out and "stopped before the notebooks" in out.err
