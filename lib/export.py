"""Serving files for the chat page: the adapter merged into its base, a GGUF for llama.cpp checked against
the merged model, a pre-quantized 4-bit checkpoint for PyPI-only installs, and the upload of what the page needs.

    python -m lib.export merge outputs/adapters/latest outputs/export/merged
    python -m lib.export gguf  outputs/export/merged outputs/export/model-Q4_K_M.gguf --qtype Q4_K_M
    python -m lib.export verify outputs/export/model-Q4_K_M.gguf outputs/export/merged data/processed/me
    python -m lib.export 4bit  outputs/adapters/latest outputs/export/nf4
    python -m lib.export push  me/malbeot-private outputs/export/model-Q4_K_M.gguf outputs/adapters/latest

`gguf` verifies by default when the run's malbeot.json names its dataset (lib.gguf_verify: tokens,
greedy choices, reply NLL against the merged model) and exits 1 naming the first text that tokenizes
differently. `push` refuses a GGUF without a passing verify file (--force overrides) and uploads the
blind-test pairs (outputs/report/blind_pairs.json) to the repo root for the page's blind test.
The writer itself is lib.gguf_writer.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

from lib import blind, config, fileio, gguf_verify, models, runs
from lib.gguf_writer import QTYPES, to_gguf

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------ merge
def load_merged(adapter_dir: str | Path, dtype=None):
    """(model, tokenizer): base in full precision with the adapter merged in, in memory."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter_dir = config.resolve(adapter_dir)
    base = runs.base_of(adapter_dir)
    src = models.source(base)
    if dtype is None:  # keep the published dtype (fp16/bf16 for real models, fp32 for the tiny ones)
        dtype = getattr(torch, models.spec(base).weights_dtype)
    model = AutoModelForCausalLM.from_pretrained(src, dtype=dtype, device_map="cpu")
    model = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    model.eval()
    return model, models.load_tokenizer(adapter_dir)


def merge(adapter_dir: str | Path, out_dir: str | Path, dtype=None) -> Path:
    """Merge a LoRA adapter into its base and save it (safetensors) with the tokenizer and template."""
    model, tok = load_merged(adapter_dir, dtype)
    out_dir = config.resolve(out_dir)
    with fileio.atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp, max_shard_size="2GB")
        tok.save_pretrained(tmp)
        _copy_meta(config.resolve(adapter_dir), tmp, kind="merged")
    log.info("merged %s -> %s", adapter_dir, out_dir)
    return out_dir


def _copy_meta(adapter_dir: Path, out: Path, **extra) -> None:
    """The run's malbeot.json travels with its serving files (base, template, generation settings)."""
    runs.write_meta(out, {**runs.read_meta(adapter_dir), **extra, "adapter": str(adapter_dir)})



# ------------------------------------------------------------------------------------ 4-bit (PyPI)
def save_4bit(adapter_dir: str | Path, out_dir: str | Path, *, compute_dtype: str = "bfloat16") -> Path:
    """Merged model saved already quantized to nf4 by bitsandbytes (PyPI wheels only, CPU or GPU).

    Loading it back (`from_pretrained(out_dir)`, the config carries the quantization) never
    materializes the 16-bit weights, so the serving peak is the 4-bit size plus embeddings.
    """
    adapter_dir, out_dir = config.resolve(adapter_dir), config.resolve(out_dir)
    with tempfile.TemporaryDirectory(dir=config.outputs() if config.outputs().exists() else None) as d:
        merged = merge(adapter_dir, Path(d) / "merged")
        return quantize_4bit(merged, out_dir, compute_dtype=compute_dtype, meta_from=adapter_dir)


def quantize_4bit(merged_dir: str | Path, out_dir: str | Path, *, compute_dtype: str = "bfloat16",
                  meta_from: Path | None = None) -> Path:
    """A merged (or any full-precision) folder -> nf4 checkpoint with tokenizer and template."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    merged_dir, out_dir = config.resolve(merged_dir), config.resolve(out_dir)
    dtype = getattr(torch, compute_dtype)
    qcfg = models.bnb_config("nf4", dtype)
    model = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=dtype, quantization_config=qcfg,
                                                 device_map="cpu")
    if models.count_quantized(model)["linear4bit"] == 0:
        raise RuntimeError(f"bitsandbytes did not quantize {merged_dir} (no Linear4bit layers)")
    tok = AutoTokenizer.from_pretrained(merged_dir)
    with fileio.atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp, max_shard_size="2GB")
        tok.save_pretrained(tmp)
        _copy_meta(meta_from or merged_dir, tmp, kind="nf4")
    return out_dir


# ------------------------------------------------------------------------------------------- push
def push(repo_id: str, paths, token: str | None = None, *, private: bool = True, api=None, force: bool = False,
         blind_pairs: str | Path | None | bool = True) -> list[str]:
    """Upload files/folders to the user's (private) Hugging Face repo; returns the paths in the repo.

    A folder lands under its own name (outputs/adapters/latest -> its run's name/), a file at the top. A
    GGUF goes only with its passing verify file (uploaded beside it) unless `force`. `blind_pairs`: True =
    outputs/report/blind_pairs.json when it exists, a path, or False; it lands at the root as
    blind_pairs.json, where the page's blind test downloads it.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [config.resolve(p) for p in paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"nothing to upload at {missing}")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo_id or ""):
        raise ValueError(f"repo_id {repo_id!r}: expected 'user/name'")
    uploads = []
    for p in paths:
        uploads.append((p, p.resolve().name if p.is_symlink() else p.name))
        if p.suffix != ".gguf":
            continue
        try:
            gguf_verify.check(p)
        except gguf_verify.VerifyError:
            if not force:
                raise
            log.warning("uploading %s unverified (--force)", p.name)
        proof = gguf_verify.verify_path(p)
        if proof.is_file():   # beside the GGUF: what was checked, by text id only
            uploads.append((proof, proof.name))
    if blind_pairs is True:
        default = config.report() / blind.PAIRS_FILE
        if default.is_file():
            uploads.append((default, blind.PAIRS_FILE))
        else:
            log.warning("no %s: the page's blind test stays empty until `python -m lib.evaluate blind` writes it "
                        "and you push again", default)
    elif blind_pairs:
        pairs = config.resolve(blind_pairs)
        blind.load_pairs(pairs)   # refuses a file the page could not read
        uploads.append((pairs, blind.PAIRS_FILE))
    token = token or os.environ.get("HF_TOKEN")
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    done = []
    for p, name in uploads:
        if p.is_dir():
            api.upload_folder(folder_path=str(p), path_in_repo=name, repo_id=repo_id,
                              commit_message=f"malbeot: upload {name}/")
        else:
            api.upload_file(path_or_fileobj=str(p), path_in_repo=name, repo_id=repo_id,
                            commit_message=f"malbeot: upload {name}")
        done.append(name)
    return done


# -------------------------------------------------------------------------------------------- GGUF
def gguf(merged_dir, out_path, qtype: str = "Q4_K_M", *, verify: str | Path | bool = True, pre: str | None = None,
         **verify_kw) -> tuple[Path, dict | None]:
    """to_gguf, then gguf_verify.verify against `verify` (a dataset folder; True = the one the run's
    malbeot.json names, skipped with a warning when it names none; False = not verified)."""
    dataset = gguf_verify.dataset_of(merged_dir) if verify is True else (config.resolve(verify) if verify else None)
    if dataset is not None and not (dataset / "validation.jsonl").is_file():
        raise FileNotFoundError(f"cannot verify against {dataset}: no validation.jsonl there (pass --verify "
                                "DATASET_DIR, the folder lib.dataset.build wrote, or --no-verify)")
    path = to_gguf(merged_dir, out_path, qtype, pre=pre)
    if dataset is None:
        if verify is True:
            log.warning("%s not verified: %s names no dataset (pass --verify DATASET_DIR)", path.name,
                        config.resolve(merged_dir) / runs.META)
        return path, None
    return path, gguf_verify.verify(path, merged_dir, dataset, **verify_kw)


# -------------------------------------------------------------------------------------------- CLI
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.export", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge", help="merge an adapter into its base")
    m.add_argument("adapter"), m.add_argument("out")
    g = sub.add_parser("gguf", help="merged folder -> GGUF for llama.cpp, then verify it")
    g.add_argument("merged"), g.add_argument("out")
    g.add_argument("--qtype", default="Q4_K_M", choices=QTYPES)
    g.add_argument("--pre", default=None, help="force llama.cpp's pre-tokenizer name")
    how = g.add_mutually_exclusive_group()
    how.add_argument("--verify", metavar="DATASET_DIR", default=True,
                     help="dataset whose validation texts check the GGUF (default: the one malbeot.json names)")
    how.add_argument("--no-verify", dest="verify", action="store_false")
    v = sub.add_parser("verify", help="check a GGUF against the merged model (writes GGUF.verify.json)")
    v.add_argument("gguf"), v.add_argument("merged")
    v.add_argument("dataset", nargs="?", help="default: the dataset the merged run's malbeot.json names")
    for cmd in (g, v):   # more prompts = a surer number, a longer check (every text is always tokenized)
        cmd.add_argument("--greedy-prompts", type=int, default=32, help="prompts for greedy_agreement (32)")
        cmd.add_argument("--nll-replies", type=int, default=64, help="replies for nll_gap (64)")
    q = sub.add_parser("4bit", help="adapter -> merged nf4 checkpoint (PyPI-only fallback)")
    q.add_argument("adapter"), q.add_argument("out")
    p = sub.add_parser("push", help="upload files/folders (+ blind-test pairs) to a private Hugging Face repo")
    p.add_argument("repo_id"), p.add_argument("paths", nargs="+")
    p.add_argument("--token", default=None, help="default: $HF_TOKEN")
    p.add_argument("--public", action="store_true")
    p.add_argument("--force", action="store_true", help="upload a GGUF without a passing verify file")
    p.add_argument("--blind", default=True, metavar="PAIRS_JSON", help="default: outputs/report/blind_pairs.json")
    p.add_argument("--no-blind", dest="blind", action="store_false")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if a.cmd == "merge":
        print(merge(a.adapter, a.out))
    elif a.cmd in ("gguf", "verify"):
        sizes = dict(n_greedy=a.greedy_prompts, n_nll=a.nll_replies)
        if a.cmd == "gguf":
            path, report = gguf(a.merged, a.out, a.qtype, verify=a.verify, pre=a.pre, **sizes)
            print(path)
        else:
            dataset = a.dataset or gguf_verify.dataset_of(a.merged)
            if dataset is None:
                print(f"error: {a.merged} names no dataset; pass DATASET_DIR", file=sys.stderr)
                return 2
            report = gguf_verify.verify(a.gguf, a.merged, dataset, **sizes)
        if report is not None:
            where = gguf_verify.verify_path(a.out if a.cmd == "gguf" else a.gguf)
            if not report["passed"]:   # the GGUF stays for a look; push refuses it
                print(f"error: {gguf_verify.summary(report)}\n(details: {where})", file=sys.stderr)
                return 1
            print(gguf_verify.summary(report))
            print(where)
    elif a.cmd == "4bit":
        print(save_4bit(a.adapter, a.out))
    else:
        try:
            print("\n".join(push(a.repo_id, a.paths, a.token, private=not a.public, force=a.force,
                                 blind_pairs=a.blind)))
        except gguf_verify.VerifyError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
