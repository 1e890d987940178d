"""Proof that a GGUF serves the model that was trained: llama.cpp's tokens, greedy choices and reply NLL
against the merged Hugging Face model on the dataset's validation texts; owns `<gguf>.verify.json`.

    python -m lib.export verify outputs/export/model-Q4_K_M.gguf outputs/export/merged data/processed/me

The file names texts by id (`validation[12].prompt`, `hard[3]`), never by content, so it can travel with
the GGUF. `check(gguf)` is what `lib.export push` asks before uploading.
"""
from __future__ import annotations

import hashlib
import json
import time
import unicodedata
from datetime import datetime
from pathlib import Path

from lib import config, fileio, models, runs
from lib.tokenizer import normalize, unicode_form

SUFFIX = ".verify.json"
# A wrong tensor layout or tokenizer puts the GGUF far outside these (greedy near 0, gap > 1 nat); the
# sample's Q4_K_M measures 0.94 and -0.001 (Q8_0: 0.99, +0.001). A gap either way means the two disagree.
MIN_GREEDY_AGREEMENT = 0.7
MAX_NLL_GAP = 0.15

# Strings every path must tokenize alike, beyond the chat itself (ours, so the file may name them).
HARD_TEXTS = [
    unicodedata.normalize("NFD", "오늘 저녁 뭐 먹을까? 한글이 자모로 풀린 입력"),   # some keyboards send NFD
    "ㅋㅋㅋㅋㅋ ㅎㅎ ㅠㅠ ㄱㄱ ㅇㅋ ㄴㄴ",
    "😀👍🏽 👨‍👩‍👧‍👦 ❤️ 🇰🇷 ✌︎ 🫶",
    "a  b   c    d     e" + " " * 33 + "f" + " " * 64,
    "\ttab\t\t두 탭\t\t\t\t\t\t\t\t\t\t열 탭",
    "   앞뒤 공백   ",
    "\n\n줄바꿈\n\n\n\r\n끝\n",
    "café " + unicodedata.normalize("NFD", "café") + " ﬁ ① ｶﾀｶﾅ 漢字 ひらがな",
    "nbsp\u00a0zero\u200bwidth\u3000ideographic space",
    "010-1234-5678 3.14159 1,000원 <전화번호> (사진) https://example.com/a?b=c&d=e",
]


class VerifyError(RuntimeError):
    """A GGUF without a passing, current verify file (lib.export push refuses it unless forced)."""


def verify_path(gguf_path: str | Path) -> Path:
    p = config.resolve(gguf_path)
    return p.with_name(p.name + SUFFIX)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _rows(dataset_dir: Path) -> list[list[dict]]:
    path = dataset_dir / "validation.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: expected the folder lib.dataset.build wrote "
                                "(data/processed/<name>/ with validation.jsonl)")
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if line.strip():
            msgs = json.loads(line)["messages"]
            if not msgs or msgs[-1]["role"] != "assistant":
                raise ValueError(f"{path} row {i}: the last message must be the assistant reply")
            rows.append(msgs)
    if not rows:
        raise ValueError(f"{path} has no rows: nothing to verify against")
    return rows


def texts(tok, rows: list[list[dict]]) -> list[tuple[str, str]]:
    """(id, text): each validation row's rendered prompt and its reply as the template writes it (with EOS),
    then the hard strings and every added token of this tokenizer in running text."""
    out = []
    for i, msgs in enumerate(rows):
        prompt = tok.apply_chat_template(msgs[:-1], tokenize=False, add_generation_prompt=True)
        full = tok.apply_chat_template(msgs, tokenize=False)
        reply = full[len(prompt):] if full.startswith(prompt) else msgs[-1]["content"]
        out += [(f"validation[{i}].prompt", prompt), (f"validation[{i}].reply", reply)]
    added = [a.content for _, a in sorted(tok.added_tokens_decoder.items())]
    hard = HARD_TEXTS + ["말" + "말 ".join(added) + "끝", "".join(added)]
    return out + [(f"hard[{k}]", t) for k, t in enumerate(hard)]


def _spread(n: int, k: int) -> list[int]:
    """k row indices spread evenly over n (the same ones every run)."""
    if k >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / max(k - 1, 1)) for i in range(k)})


def _sequence(tok, msgs: list[dict], max_length: int) -> tuple[list[int], list[int]]:
    """Token ids of a whole conversation and the mask of the reply tokens training scored (as lib.evaluate)."""
    enc = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = list(enc["input_ids"]), list(enc["assistant_masks"])
    if not any(mask):
        prompt = tok.apply_chat_template(msgs[:-1], tokenize=False, add_generation_prompt=True)
        n = len(tok(prompt, add_special_tokens=False)["input_ids"])
        mask = [0] * n + [1] * (len(ids) - n)
    return ids[-max_length:], mask[-max_length:]


def _log_softmax(x):
    import numpy as np

    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _llama_logits(llm, ids: list[int]):
    """llama.cpp's logits after each of `ids` (one fresh pass)."""
    import numpy as np

    llm.reset()
    llm.eval(ids)
    return np.asarray(llm.scores[:len(ids)], dtype=np.float32)


def llama_detokenize(llm, ids) -> str:
    """llama.cpp's own decoding of `ids` (special tokens as text). Not Llama.detokenize: llama-cpp-python
    reads each piece through a 32-byte buffer and drops longer ones (eleven ㅋ are 33 bytes)."""
    import ctypes

    import llama_cpp

    out, size = b"", 64
    buf = ctypes.create_string_buffer(size)
    for token in ids:
        n = llama_cpp.llama_token_to_piece(llm._model.vocab, int(token), buf, size, 0, True)
        if n < 0:  # too small: llama.cpp says how much it needs
            size = -n
            buf = ctypes.create_string_buffer(size)
            n = llama_cpp.llama_token_to_piece(llm._model.vocab, int(token), buf, size, 0, True)
        out += buf.raw[:n]
    return out.decode("utf-8", "replace")


def verify(gguf_path, merged_dir, dataset_dir, *, n_greedy: int = 32, greedy_tokens: int = 16, n_nll: int = 64,
           max_length: int = 512, device: str = "auto", threads: int | None = None, progress: bool = True) -> dict:
    """Compare the GGUF with the merged model it was written from; write and return `<gguf>.verify.json`.

    tokenization_identical: share of texts (validation prompts and replies) where llama.cpp's tokens of the
    normalized text equal Hugging Face's (hard strings reported apart, both must be 1.0);
    detokenization_identical: share of all texts llama.cpp decodes back exactly from Hugging Face's ids;
    greedy_agreement: along the merged model's greedy reply to `n_greedy` prompts, the share of steps where
    the GGUF's most likely token is the same (teacher-forced, so one early split does not count twice);
    nll_gap: mean per-token NLL of the real replies (`n_nll` rows), GGUF minus merged (nats).
    """
    import numpy as np
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM

    import llama_cpp

    t0 = time.perf_counter()
    gguf_path, merged_dir, dataset_dir = (config.resolve(p) for p in (gguf_path, merged_dir, dataset_dir))
    if not gguf_path.is_file():
        raise FileNotFoundError(f"GGUF {gguf_path} not found: write it with `python -m lib.export gguf`")
    tok = models.load_tokenizer(merged_dir)
    form = unicode_form(tok)
    rows = _rows(dataset_dir)
    items = texts(tok, rows)
    trained = fileio.read_json(merged_dir / "config.json").get("max_position_embeddings") or 2048
    max_length = min(max_length, trained - greedy_tokens)   # never past the context it was trained on

    llm = llama_cpp.Llama(model_path=str(gguf_path), n_ctx=max_length + greedy_tokens, n_batch=256,
                          n_threads=threads, logits_all=True, verbose=False)
    try:
        same, differing, detok_same = {}, [], 0
        for tid, text in tqdm(items, desc="tokenization", disable=not progress, leave=False):
            hf, normal = tok(text, add_special_tokens=False)["input_ids"], normalize(tok, text)
            same[tid] = llm.tokenize(normal.encode("utf-8"), add_bos=False, special=True) == hf
            if not same[tid]:
                differing.append(tid)
            # a llama.cpp server decodes with this vocabulary: it must give the (normalized) text back exactly
            detok_same += llama_detokenize(llm, hf) == normal

        on_gpu = device != "cpu" and torch.cuda.is_available()   # the saved 16-bit type on a GPU, fp32 on CPU
        model = AutoModelForCausalLM.from_pretrained(merged_dir, dtype="auto" if on_gpu else torch.float32)
        model = model.to("cuda" if on_gpu else "cpu").eval()
        dev = next(model.parameters()).device

        agree = steps = 0
        for i in tqdm(_spread(len(rows), n_greedy), desc="greedy", disable=not progress, leave=False):
            prompt = tok.apply_chat_template(rows[i][:-1], tokenize=False, add_generation_prompt=True)
            ids = tok(prompt, add_special_tokens=False)["input_ids"][-max_length:]
            with torch.no_grad():
                out = model.generate(torch.tensor([ids], device=dev), max_new_tokens=greedy_tokens, do_sample=False,
                                     temperature=None, top_p=None, top_k=None, repetition_penalty=1.0,
                                     pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
            cont = out[0, len(ids):].tolist()   # ends at EOS when the model stops: that choice counts too
            picks = _llama_logits(llm, ids + cont[:-1])[len(ids) - 1:].argmax(axis=-1)
            agree += int((picks == np.asarray(cont)).sum())
            steps += len(cont)

        nll_hf = nll_ll = 0.0
        n_tokens = 0
        for i in tqdm(_spread(len(rows), n_nll), desc="reply NLL", disable=not progress, leave=False):
            ids, mask = _sequence(tok, rows[i], max_length)
            pos = np.nonzero(np.asarray(mask[1:]))[0]          # logits at p predict token p + 1
            if not len(pos):
                continue
            target = np.asarray(ids[1:])[pos]
            with torch.no_grad():
                logits = model(torch.tensor([ids], device=dev)).logits[0, :-1].float().cpu().numpy()
            nll_hf -= float(_log_softmax(logits[pos])[np.arange(len(pos)), target].sum())
            nll_ll -= float(_log_softmax(_llama_logits(llm, ids[:-1])[pos])[np.arange(len(pos)), target].sum())
            n_tokens += len(pos)
    finally:
        llm.close()

    val = [t for t, _ in items if t.startswith("validation")]
    hard = [t for t, _ in items if t.startswith("hard")]
    report = {
        "gguf": gguf_path.name, "gguf_sha256": sha256(gguf_path), "gguf_bytes": gguf_path.stat().st_size,
        "merged": merged_dir.name, "dataset": dataset_dir.name, "normalizer": form or "none",   # no home paths
        "n_texts": len(val),
        "tokenization_identical": round(sum(same[t] for t in val) / len(val), 6),
        "n_hard": len(hard), "hard_identical": round(sum(same[t] for t in hard) / len(hard), 6),
        "detokenization_identical": round(detok_same / len(items), 6),
        "n_differing": len(differing), "differing": differing[:20], "first_difference": differing[0] if differing else None,
        "greedy_agreement": round(agree / max(steps, 1), 4), "n_greedy_prompts": min(n_greedy, len(rows)),
        "n_greedy_tokens": steps,
        "nll_gap": round((nll_ll - nll_hf) / max(n_tokens, 1), 5),
        "nll_merged": round(nll_hf / max(n_tokens, 1), 5), "nll_gguf": round(nll_ll / max(n_tokens, 1), 5),
        "n_nll_replies": min(n_nll, len(rows)), "n_nll_tokens": n_tokens,
        "thresholds": {"min_greedy_agreement": MIN_GREEDY_AGREEMENT, "max_nll_gap": MAX_NLL_GAP},
        "merged_device": str(dev), "llama_cpp": llama_cpp.__version__,
        "seconds": round(time.perf_counter() - t0, 1), "created": datetime.now().isoformat(timespec="seconds"),
    }
    report["failures"] = failures(report)
    report["passed"] = not report["failures"]
    fileio.write_json(verify_path(gguf_path), report)
    return report


def failures(report: dict) -> list[str]:
    """What a verify report fails on, one sentence each (texts by id only)."""
    out = []
    if report["tokenization_identical"] < 1 or report["hard_identical"] < 1:
        out.append(f"tokenization differs from Hugging Face's on {report['n_differing']} text(s), first "
                   f"{report['first_difference']}")
    if report["detokenization_identical"] < 1:
        out.append(f"llama.cpp decodes only {report['detokenization_identical']:.1%} of the texts' tokens back to "
                   "the text (expected all)")
    if report["greedy_agreement"] < MIN_GREEDY_AGREEMENT:
        out.append(f"greedy agreement {report['greedy_agreement']:.3f} < {MIN_GREEDY_AGREEMENT}")
    if abs(report["nll_gap"]) > MAX_NLL_GAP:
        out.append(f"NLL gap {report['nll_gap']:+.3f} nats/token is beyond ±{MAX_NLL_GAP}")
    return out


def check(gguf_path) -> dict:
    """The verify report of this exact GGUF if it passed; else VerifyError saying what to run."""
    gguf_path = config.resolve(gguf_path)
    vp = verify_path(gguf_path)
    hint = (f"run `python -m lib.export verify {gguf_path} MERGED_DIR DATASET_DIR` "
            "(or push with --force to upload it unverified)")
    if not vp.is_file():
        raise VerifyError(f"{gguf_path.name} has no verify file ({vp.name}): {hint}")
    report = fileio.read_json(vp)
    if report.get("gguf_sha256") != sha256(gguf_path):
        raise VerifyError(f"{vp.name} belongs to another version of {gguf_path.name} (checksum differs): {hint}")
    if not report.get("passed"):
        raise VerifyError(f"{gguf_path.name} failed verification: {'; '.join(report.get('failures') or ['?'])}")
    return report


def dataset_of(merged_dir) -> Path | None:
    """The dataset the adapter was trained on, from the run metadata the merged folder carries (or None)."""
    name = runs.read_meta(config.resolve(merged_dir)).get("dataset")
    return config.resolve(name) if name else None


def summary(report: dict) -> str:
    verdict = "PASSED" if report["passed"] else "FAILED: " + "; ".join(report["failures"])
    return (f"{report['gguf']}: tokenization identical on {report['tokenization_identical']:.1%} of "
            f"{report['n_texts']} validation texts and {report['hard_identical']:.0%} of {report['n_hard']} hard "
            f"strings; greedy agreement {report['greedy_agreement']:.3f} over {report['n_greedy_tokens']} tokens; "
            f"NLL gap {report['nll_gap']:+.4f} nats/token ({report['nll_gguf']:.3f} vs {report['nll_merged']:.3f}) "
            f"-> {verdict}")
