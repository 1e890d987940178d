"""Can this profile run on this machine? One line per check, `OK|WARN|FIX <check>: <detail and the fix>`;
exit 1 when any line says FIX. lib.pipeline runs it first for a GPU profile, before hours are spent.

    python -m lib.doctor --profile rtx3060ti [--chat data/raw/KakaoTalk.txt --me 내이름]   # make doctor PROFILE=...

Checks: Python and the venv against requirements.txt; torch's CUDA build, the GPU and its free memory
against lib.plan; a real 4-bit matmul in bitsandbytes; free disk against downloads, checkpoints and the
export; the Hugging Face Hub and each model; llama-cpp-python and gguf for the export; Windows specifics.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from lib import config, models, plan

GB = 1024 ** 3
TORCH_INDEX = "https://download.pytorch.org/whl/cu128"  # CUDA 12.8, as in the README's GPU set-up
# a different version of these changes the training code path; the rest (app, notebooks, tests) only warns
TRAINING_STACK = {"torch", "transformers", "tokenizers", "datasets", "peft", "trl", "accelerate", "bitsandbytes",
                  "huggingface-hub"}
OWN_CHECK = {"llama-cpp-python", "gguf"}  # the export line covers them


@dataclass
class Check:
    level: str   # OK | WARN | FIX
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.level} {self.name}: {self.detail}"


def _venv_python(platform: str = sys.platform) -> str:
    return r".venv\Scripts\python" if platform.startswith("win") else ".venv/bin/python"


def _wants_gpu(prof: dict) -> bool:
    return prof.get("device") == "cuda"


def _models(prof: dict) -> list[str]:
    m = prof.get("models") or {}
    return list(dict.fromkeys([*(m.get("candidates") or []), *([m["train"]] if m.get("train") else [])]))


# ---------------------------------------------------------------------------------------------------------
# Python and the packages
def check_python(version=None, prefix: str | None = None, base_prefix: str | None = None,
                 platform: str = sys.platform) -> list[Check]:
    v = version or sys.version_info
    prefix, base_prefix = prefix or sys.prefix, base_prefix or sys.base_prefix
    text = f"{v[0]}.{v[1]}.{v[2]}"
    out = []
    if (v[0], v[1]) < (3, 10):
        out.append(Check("FIX", "python", f"{text} is too old (the project needs 3.10+, is tested on 3.11): install "
                                          "Python 3.11, delete .venv and run `make venv` again"))
    elif (v[0], v[1]) != (3, 11):
        out.append(Check("WARN", "python", f"{text}; the pins in requirements.txt are tested on 3.11"))
    else:
        out.append(Check("OK", "python", f"{text}"))
    if prefix == base_prefix:
        out.append(Check("WARN", "venv", f"not running inside a virtual environment ({prefix}): run "
                                         f"`{_venv_python(platform)} -m lib.doctor` (every make target does)"))
    return out


def pins(path: Path | None = None) -> dict[str, str]:
    """name -> pinned version from requirements.txt (`name==version` lines)."""
    out = {}
    for line in (path or config.ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, ver = (x.strip() for x in line.split("==", 1))
            out[name.lower()] = ver
    return out


def check_requirements(pinned: dict[str, str] | None = None, version=importlib.metadata.version,
                       platform: str = sys.platform) -> Check:
    pinned = pins() if pinned is None else pinned
    fix, warn = [], []
    for name, want in pinned.items():
        if name in OWN_CHECK:
            continue
        try:
            got = version(name)
        except importlib.metadata.PackageNotFoundError:
            got = None
        if got is not None and got.split("+")[0] == want:  # 2.13.0+cu128 is torch==2.13.0
            continue
        what = f"{name} {'missing' if got is None else got} (pinned {want})"
        (fix if name in TRAINING_STACK else warn).append(what)
    if not fix and not warn:
        return Check("OK", "requirements", f"the {len(set(pinned) - OWN_CHECK)} pins of requirements.txt match "
                                           "(llama-cpp-python and gguf: see export)")
    cmd = f"`{_venv_python(platform)} -m pip install -r requirements.txt`"
    return Check("FIX" if fix else "WARN", "requirements", "; ".join(fix + warn) + f": run {cmd}")


# ---------------------------------------------------------------------------------------------------------
# torch, the GPU, bitsandbytes
def torch_install_command(platform: str = sys.platform) -> str:
    want = pins().get("torch", "2.13.0")
    return f"{_venv_python(platform)} -m pip install --force-reinstall torch=={want} --index-url {TORCH_INDEX}"


def check_torch(prof: dict, torch=None, platform: str = sys.platform) -> Check:
    if torch is None:
        try:
            import torch
        except ImportError as e:
            return Check("FIX", "torch", f"cannot import torch ({e}): run `{_venv_python(platform)} -m pip install -r "
                                         "requirements.txt`" + (f" after `{torch_install_command(platform)}`"
                                                                if _wants_gpu(prof) else ""))
    if not _wants_gpu(prof):
        return Check("OK", "torch", f"{torch.__version__} (profile {prof['name']} trains on the CPU)")
    if torch.version.cuda is None:
        why = "PyPI's torch for Windows is CPU-only" if platform.startswith("win") else "this wheel has no CUDA"
        return Check("FIX", "cuda", f"torch {torch.__version__} is a CPU-only build ({why}) but profile {prof['name']} "
                                    f"needs CUDA: run `{torch_install_command(platform)}` (cu128 = CUDA 12.8; "
                                    "use the index pytorch.org lists for your driver), then rerun the doctor")
    if not torch.cuda.is_available():
        return Check("FIX", "cuda", f"torch {torch.__version__} is built for CUDA {torch.version.cuda} but sees no GPU: "
                                    "install or update the NVIDIA driver (`nvidia-smi` must list the card; CUDA "
                                    f"{torch.version.cuda} wants driver 570 or newer) and check CUDA_VISIBLE_DEVICES")
    props = torch.cuda.get_device_properties(0)
    bf16 = "bf16" if torch.cuda.is_bf16_supported() else "fp16 (no bf16 on this card: slower, less stable)"
    return Check("OK", "cuda", f"torch {torch.__version__}, CUDA {torch.version.cuda}, {props.name} "
                               f"({props.total_memory / GB:.1f} GiB, compute {props.major}.{props.minor}, {bf16})")


def _needs(prof: dict, name: str, limit_gb: float = plan.GPU_LIMIT_GB) -> dict:
    sft, lora = prof.get("sft") or {}, prof.get("lora") or {}
    return plan.plan(name, sft.get("max_length", 1024), sft.get("per_device_train_batch_size", 1), lora.get("r", 16),
                     gradient_checkpointing=sft.get("gradient_checkpointing", True), limit_gb=limit_gb)


def check_vram(prof: dict, mem_get_info=None) -> Check:
    """Free GPU memory now against the planner's total (CUDA context included) for each model."""
    if not _wants_gpu(prof):
        return Check("OK", "vram", "not needed (CPU profile)")
    needs = {m: _needs(prof, m)["total_gb"] for m in _models(prof)}
    listed = ", ".join(f"{m} {g:.1f} GiB" for m, g in needs.items())
    if mem_get_info is None:
        import torch

        if not torch.cuda.is_available():
            return Check("WARN", "vram", f"not checked without a CUDA GPU; the plan needs {listed}")
        mem_get_info = torch.cuda.mem_get_info
    free, total = (x / GB for x in mem_get_info())
    over = {m: g for m, g in needs.items() if g > free}
    if over:
        tight = ", ".join(f"{m} needs {g:.1f} GiB" for m, g in over.items())
        return Check("FIX", "vram", f"{free:.1f} of {total:.1f} GiB free, {tight}: close programs using the GPU "
                                    "(`nvidia-smi` lists them), or halve `sft.per_device_train_batch_size` and double "
                                    "`gradient_accumulation_steps` in the profile (`python -m lib.train plan` shows the effect)")
    level = "WARN" if max(needs.values()) > 0.9 * free else "OK"
    return Check(level, "vram", f"{free:.1f} of {total:.1f} GiB free; the plan needs {listed}"
                 + (" (under 10% to spare: close other GPU programs)" if level == "WARN" else ""))


def check_bnb(prof: dict, device: str | None = None) -> Check:
    """A real 4-bit nf4 matmul, forward and backward, on the device the profile trains on."""
    import torch

    device = device or ("cuda" if _wants_gpu(prof) else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        return Check("WARN", "bitsandbytes", "4-bit kernels not checked without a CUDA GPU")
    fix = (f"run `{_venv_python()} -m pip install --force-reinstall bitsandbytes=={pins().get('bitsandbytes', '')}` "
           "(its wheel carries the CUDA kernels; Windows needs 0.43 or newer)")
    try:
        import bitsandbytes as bnb

        dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if device == "cuda" else torch.float32
        g = torch.Generator().manual_seed(0)
        w = torch.randn(128, 64, generator=g) * 0.05
        layer = bnb.nn.Linear4bit(64, 128, bias=False, compute_dtype=dtype, quant_type="nf4")
        layer.weight = bnb.nn.Params4bit(w, requires_grad=False, quant_type="nf4")
        layer = layer.to(device)
        x = torch.randn(8, 64, generator=g).to(device=device, dtype=dtype).requires_grad_()
        y = layer(x)
        y.float().sum().backward()
        deq = bnb.functional.dequantize_4bit(layer.weight.data, layer.weight.quant_state).float()
        ref = x.detach().float() @ deq.t()
        err = ((y.detach().float() - ref).abs().max() / ref.abs().max()).item()
        if not (err < 0.05 and torch.isfinite(x.grad).all()):
            return Check("FIX", "bitsandbytes", f"4-bit matmul on {device} is wrong (relative error {err:.3f}): {fix}")
    except Exception as e:  # noqa: BLE001 - any failure here is the finding
        return Check("FIX", "bitsandbytes", f"4-bit matmul on {device} failed ({type(e).__name__}: "
                                            f"{str(e).strip().splitlines()[0][:160] if str(e).strip() else ''}): {fix}")
    return Check("OK", "bitsandbytes", f"{bnb.__version__}: nf4 matmul forward+backward on {device} "
                                       f"(error {err:.4f} vs dequantized)")


# ---------------------------------------------------------------------------------------------------------
# The hub and the disk
def _hub_error_kind(e: Exception) -> str:
    name = type(e).__name__
    if name in ("GatedRepoError",) or "401" in str(e) or "403" in str(e):
        return "token"
    if name in ("RepositoryNotFoundError", "RevisionNotFoundError"):
        return "missing"
    return "network"


def hub_sizes(prof: dict, timeout: float = 5.0, api=None) -> tuple[list[Check], dict[str, int | None]]:
    """One line for the hub and one per hub model; bytes each model still has to download (None = unknown,
    0 = already in the cache). Stops at the first network failure, so an offline machine answers at once."""
    import huggingface_hub as hh
    from huggingface_hub import constants

    wanted = {m: models.REGISTRY[m].hub_id for m in _models(prof) if m in models.REGISTRY and models.REGISTRY[m].hub_id}
    if not wanted:
        return [Check("OK", "hub", "not needed: the profile's models are local stand-ins (lib.tiny builds them)")], {}
    api = api or hh.HfApi()
    token = hh.get_token()
    lines, sizes, down = [], {}, None
    for name, repo in wanted.items():
        cached = isinstance(hh.try_to_load_from_cache(repo, "config.json"), str)
        if down is None:
            try:
                info = api.model_info(repo, timeout=timeout, files_metadata=True, token=token)
            except Exception as e:  # noqa: BLE001
                kind = _hub_error_kind(e)
                if kind == "network":
                    down = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:120] if str(e).strip() else 'no answer'}"
                elif kind == "token":
                    lines.append(Check("FIX", f"model {name}", f"{repo} needs a Hugging Face token with access: "
                                                                "accept its terms on huggingface.co, then `hf auth login` "
                                                                "(or set HF_TOKEN)"))
                    sizes[name] = None
                    continue
                else:
                    lines.append(Check("FIX", f"model {name}", f"{repo} not found on {constants.ENDPOINT}: check "
                                                                "lib/models.py REGISTRY"))
                    sizes[name] = None
                    continue
            else:
                files = {s.rfilename: s.size or 0 for s in info.siblings or []}
                weights = [n for n in files if n.endswith(".safetensors")] or [n for n in files if n.endswith(".bin")]
                total = sum(files[n] for n in weights) + sum(v for n, v in files.items() if n.startswith("tokenizer"))
                sizes[name] = 0 if cached else total
                lines.append(Check("OK", f"model {name}", f"{repo}: " + ("in the cache" if cached else
                                   f"{total / 1e9:.1f} GB to download ({len(weights)} weight file(s))")))
                continue
        sizes[name] = 0 if cached else None
        lines.append(Check("OK" if cached else "FIX", f"model {name}", f"{repo}: " + (
            "in the local cache" if cached else
            f"not in the cache ({constants.HF_HUB_CACHE}) and the hub cannot be reached: connect this machine, or "
            f"download it elsewhere with `hf download {repo}` and copy the cache folder here")))
    if down:
        level = "WARN" if all(v == 0 for v in sizes.values()) else "FIX"
        hub = Check(level, "hub", f"{constants.ENDPOINT} unreachable within {timeout:g}s ({down}): check the "
                                  "internet connection or proxy (HTTPS_PROXY), or point HF_ENDPOINT at a mirror"
                    + ("; every model is cached, so set HF_HUB_OFFLINE=1" if level == "WARN" else ""))
    else:
        hub = Check("OK", "hub", f"{constants.ENDPOINT} reachable" + (", token set" if token else ""))
    return [hub] + lines, sizes


def disk_needs(prof: dict, download: dict[str, int | None] | None = None) -> dict:
    """Bytes the run writes: model downloads (the hub's file sizes when known, else parameters x the
    published dtype), checkpoints (save_total_limit + the best one, each adapter + optimizer), the export
    (merged 16-bit + the GGUF's 16-bit intermediate + the 4-bit GGUF)."""
    import torch

    download = download or {}
    sft = prof.get("sft") or {}
    keep = sft.get("save_total_limit", 2) + 1
    out = {"downloads": 0, "checkpoints": 0, "export": 0}
    for name in _models(prof):
        p = _needs(prof, name)
        spec = models.spec(name)
        if spec.hub_id:
            known = download.get(name)
            out["downloads"] += known if known is not None else \
                p["params_total"] * torch.finfo(getattr(torch, spec.weights_dtype)).bits // 8
        ckpt = p["bytes"]["lora_weights"] * 2 + p["bytes"]["optimizer_states"]   # adapter: fp32 at most
        out["checkpoints"] = max(out["checkpoints"], keep * ckpt)
        size = models.serving_size(name)
        out["export"] = max(out["export"], int((2 * size["fp16_gb"] + size["4bit_gb"]) * GB))
    return out


def _size(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def check_disk(prof: dict, download: dict[str, int | None] | None = None, usage=shutil.disk_usage) -> Check:
    from huggingface_hub import constants

    need = disk_needs(prof, download)
    outputs = config.outputs()
    cache = Path(constants.HF_HUB_CACHE)
    where = {}
    for path, bytes_ in ((cache, need["downloads"]), (outputs, need["checkpoints"] + need["export"])):
        probe = next((p for p in [path, *path.parents] if p.exists()), Path.cwd())
        free = usage(probe).free
        key = probe.stat().st_dev  # one disk, one budget (on Windows: the volume)
        prev = where.get(key, (0, free, []))
        where[key] = (prev[0] + bytes_, free, prev[2] + [str(path)])
    detail = (f"downloads {_size(need['downloads'])} -> {cache}, checkpoints {_size(need['checkpoints'])}"
              f" + export {_size(need['export'])} -> {outputs}")
    worst = "OK"
    for total, free, paths in where.values():
        if free < total:
            return Check("FIX", "disk", f"need {_size(total)} on the disk of {', '.join(paths)} but {_size(free)} "
                                        f"are free ({detail}): free up {_size(total - free)}, or move the "
                                        "cache with HF_HOME and the outputs with MALBEOT_OUTPUTS")
        if free < 1.2 * total:
            worst = "WARN"
    free_text = ", ".join(f"{_size(f)} free for {', '.join(p)}" for _, f, p in where.values())
    return Check(worst, "disk", f"need {_size(sum(need.values()))} ({detail}); {free_text}"
                 + (" (under 20% to spare)" if worst == "WARN" else ""))


# ---------------------------------------------------------------------------------------------------------
# Export, the chat file, Windows
def check_export(platform: str = sys.platform) -> Check:
    want, py = pins(), _venv_python(platform)
    fixes = {"gguf": f"`{py} -m pip install gguf=={want.get('gguf')}`",
             "llama-cpp-python": (f"`{py} -m pip install llama-cpp-python=={want.get('llama-cpp-python')} "
                                  "--extra-index-url https://abetlen.github.io/llama-cpp-python/whl/cpu` (prebuilt CPU wheel)"
                                  if platform.startswith("win") else
                                  f"`{py} -m pip install llama-cpp-python=={want.get('llama-cpp-python')}` "
                                  "(compiles ~5 min; needs a C++ compiler and cmake)")}
    missing = {}
    for module, pkg in (("gguf", "gguf"), ("llama_cpp", "llama-cpp-python")):
        try:
            __import__(module)
        except Exception as e:  # noqa: BLE001 - a broken shared library raises OSError, not ImportError
            missing[pkg] = type(e).__name__
    if not missing:
        return Check("OK", "export", "llama-cpp-python and gguf import (GGUF export and CPU serving)")
    return Check("WARN", "export", ", ".join(f"{p} ({why})" for p, why in missing.items()) + " cannot be imported; "
                 "training does not need it, the GGUF export does: run " + " and ".join(fixes[p] for p in missing))


def check_chat(prof: dict, chat=None, me: str | None = None) -> Check:
    paths = [config.resolve(p) for p in (chat or prof.get("chat") or [])]
    me = me or prof.get("me")
    missing = [str(p) for p in paths if not p.is_file()]
    if not paths or missing:
        return Check("FIX", "chat", f"export not found: {', '.join(missing) or 'none given'}: put your KakaoTalk "
                                    "export in data/raw/ and pass CHAT=... (or set `chat:` in the profile)")
    if not me:
        return Check("FIX", "chat", "whose replies to learn is not set: pass ME=<your name in the export> (or set "
                                    f"`me:` in configs/{prof['name']}.yaml); `python -m lib.kakao FILE` lists the names")
    return Check("OK", "chat", f"{len(paths)} export(s), me = {me}")


def check_windows(platform: str = sys.platform, symlinks=None) -> list[Check]:
    if not platform.startswith("win"):
        return []
    if symlinks is None:
        from huggingface_hub import constants, file_download

        symlinks = file_download.are_symlinks_supported(constants.HF_HUB_CACHE)
    out = [Check("OK", "windows", "no make needed: `.venv\\Scripts\\python -m lib.pipeline --profile ...` runs the same")]
    if not symlinks:
        out.append(Check("WARN", "windows", "the Hugging Face cache cannot make symlinks here, so downloads are stored "
                                            "twice: turn on Developer Mode (Settings > For developers) or run as admin"))
    return out


# ---------------------------------------------------------------------------------------------------------
def run(profile: str | dict, *, chat=None, me: str | None = None, hub_timeout: float = 5.0) -> list[Check]:
    """Every check for `profile` on this machine, in the order a fix should be made."""
    prof = config.profile(profile)
    checks = check_python() + [check_requirements(), check_torch(prof)]
    gpu_ready = checks[-1].level == "OK"
    checks += [check_vram(prof), check_bnb(prof) if gpu_ready or not _wants_gpu(prof) else
               Check("WARN", "bitsandbytes", "4-bit kernels not checked without a working CUDA torch (see above)")]
    hub, sizes = hub_sizes(prof, timeout=hub_timeout)
    checks += hub + [check_disk(prof, sizes), check_export(), check_chat(prof, chat, me)] + check_windows()
    return checks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.doctor", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="sample-cpu", help="profile name in configs/ or a YAML path")
    ap.add_argument("--chat", nargs="*", help="export file(s) (default: the profile's `chat`)")
    ap.add_argument("--me", help="your name in the export (default: the profile's `me`)")
    ap.add_argument("--hub-timeout", type=float, default=5.0, help="seconds to wait for huggingface.co")
    args = ap.parse_args(argv)
    checks = run(args.profile, chat=args.chat, me=args.me, hub_timeout=args.hub_timeout)
    for c in checks:
        print(c, flush=True)
    fixes = sum(c.level == "FIX" for c in checks)
    print(f"\n{'ready' if not fixes else f'{fixes} thing(s) to fix'} for profile "
          f"{config.profile(args.profile)['name']}" + ("" if not fixes else ": see the FIX lines above"))
    return 1 if fixes else 0


if __name__ == "__main__":
    sys.exit(main())
