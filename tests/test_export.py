"""lib.export: merge == base + adapter, the GGUF tokenizes like Hugging Face and generates like
transformers (GPT-NeoX and Phi), K-quants through llama.cpp, the export that verifies itself (the sample
adapter's GGUF; a wrong tokenizer caught and named by text id), the nf4 fallback, and the mocked hub upload
that takes only verified GGUFs and carries the blind-test pairs. Purpose-built tokenizers with the real
ones' features: tests/test_gguf_tokenizers.py."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

from lib import blind, config, export, fileio, gguf_verify, gguf_writer, models, runs

CACHE = config.outputs() / "cache"

CHATS = [
    [{"role": "user", "content": "오늘 뭐해?"}, {"role": "assistant", "content": "집이지 ㅋㅋㅋ\n너는??"},
     {"role": "user", "content": "저는 방금 퇴근했어요~ 배고파요 ㅠㅠ"}],
    [{"role": "system", "content": "이도윤처럼 답해"},
     {"role": "user", "content": "내일 7시 30분에 강남역 2번 출구에서 봐요!! 😀👍"},
     {"role": "assistant", "content": "ㅇㅋㅇㅋ 😎 <전화번호> 로 연락해"},
     {"role": "user", "content": "Hello world... it's   3.14159 & <URL> ㅎㅎ\n\n줄바꿈\t탭"}],
]


def _digest(*paths: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


@pytest.fixture(scope="module")
def lora_dir(tiny_base, tmp_path_factory) -> Path:
    """A LoRA on tiny-neox with random (non-zero) B matrices, so merging visibly changes the logits."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    out = tmp_path_factory.mktemp("lora") / "run"
    base = AutoModelForCausalLM.from_pretrained(tiny_base, dtype=torch.float32)
    peft = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=list(models.NEOX_TARGETS)))
    torch.manual_seed(1)
    with torch.no_grad():
        for n, p in peft.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
    peft.save_pretrained(out)
    models.load_tokenizer(tiny_base).save_pretrained(out)
    (out / "malbeot.json").write_text(json.dumps({"base": "tiny-neox", "base_path": str(tiny_base)}))
    return out


@pytest.fixture(scope="module")
def merged(lora_dir, tmp_path_factory) -> Path:
    return export.merge(lora_dir, tmp_path_factory.mktemp("merged") / "merged")


@pytest.fixture(scope="module")
def gguf_q8(merged, tmp_path_factory) -> Path:
    return export.to_gguf(merged, tmp_path_factory.mktemp("gguf") / "model-Q8_0.gguf", "Q8_0")


def _llama(path, **kw):
    import llama_cpp

    return llama_cpp.Llama(model_path=str(path), n_ctx=512, n_threads=1, verbose=False, **kw)


def _chat_texts(tok) -> list[str]:
    texts = [tok.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in CHATS]
    texts += [tok.apply_chat_template(c + [{"role": "assistant", "content": "ㅋㅋ 알겠어\n이따 봐"}], tokenize=False)
              for c in CHATS]
    sample = config.SAMPLE / "pc_ko.txt"
    if sample.is_file():  # the fictional couple's chat: real KakaoTalk-style lines, emoji, URLs
        texts.append(sample.read_text(encoding="utf-8")[:6000])
    return texts


# ------------------------------------------------------------------------------------------ merge
def test_merge_logits_equal_base_plus_adapter(lora_dir, merged, tiny_base):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    tok = models.load_tokenizer(merged)
    ids = tok(tok.apply_chat_template(CHATS[0], tokenize=False, add_generation_prompt=True),
              return_tensors="pt", add_special_tokens=False).input_ids
    base = AutoModelForCausalLM.from_pretrained(tiny_base, dtype=torch.float32)
    with torch.no_grad():
        plain = base(ids).logits
        with_adapter = PeftModel.from_pretrained(base, lora_dir)(ids).logits
        out = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32)(ids).logits
    assert (with_adapter - plain).abs().max() > 0.1          # the adapter does change the model
    torch.testing.assert_close(out, with_adapter, atol=1e-4, rtol=1e-4)
    assert "generation" in tok.chat_template                 # template travels with the merged folder
    assert json.loads((merged / "malbeot.json").read_text())["kind"] == "merged"


def test_merge_refuses_a_folder_without_adapter(tmp_path):
    with pytest.raises(FileNotFoundError, match="adapter_config.json"):
        export.merge(tmp_path, tmp_path / "out")


@pytest.fixture(scope="module")
def sample_merged(tiny_adapter, tmp_path_factory) -> Path:
    """The sample pipeline's adapter (tiny-neox on the sample dataset) merged."""
    return export.merge(tiny_adapter, tmp_path_factory.mktemp("sample") / "merged")


@pytest.mark.slow
def test_merge_trained_adapter(tiny_adapter, sample_merged):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out = sample_merged
    tok = models.load_tokenizer(out)
    ids = tok(tok.apply_chat_template(CHATS[0], tokenize=False, add_generation_prompt=True),
              return_tensors="pt", add_special_tokens=False).input_ids
    base = AutoModelForCausalLM.from_pretrained(models.source(runs.base_of(tiny_adapter)), dtype=torch.float32)
    with torch.no_grad():
        ref = PeftModel.from_pretrained(base, tiny_adapter)(ids).logits
        got = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)(ids).logits
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)


# ------------------------------------------------------------------------------------------- GGUF
def test_pre_tokenizer_is_mapped_by_what_it_does(tiny_base):
    tj = json.loads((tiny_base / "tokenizer.json").read_text(encoding="utf-8"))
    assert gguf_writer.pre_tokenizer_name(tj) == "gpt-2"
    split = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": gguf_writer.GPT2_SPLIT}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    assert gguf_writer.pre_tokenizer_name({**tj, "pre_tokenizer": split}) == "gpt-2"
    with pytest.raises(ValueError, match="no known llama.cpp equivalent"):
        gguf_writer.pre_tokenizer_name({**tj, "pre_tokenizer": {"type": "Metaspace", "replacement": "▁"}})
    with pytest.raises(ValueError, match="byte-level BPE"):
        gguf_writer.pre_tokenizer_name({"model": {"type": "Unigram"}})


def test_gguf_tokenizes_exactly_like_hf(gguf_q8, merged):
    tok = models.load_tokenizer(merged)
    llm = _llama(gguf_q8, vocab_only=True)
    texts = _chat_texts(tok)
    for text in texts:
        hf = tok(text, add_special_tokens=False)["input_ids"]
        ll = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        assert ll == hf, f"token mismatch on {text[:60]!r}"
        assert gguf_verify.llama_detokenize(llm, ll) == tok.decode(hf)
    assert tok.eos_token_id in tok(texts[-2], add_special_tokens=False)["input_ids"]  # EOS parsed as one token
    assert llm.token_eos() == tok.eos_token_id


def test_gguf_metadata_and_llama_template(gguf_q8, merged):
    import gguf
    import jinja2

    r = gguf.GGUFReader(str(gguf_q8))
    field = lambda k: bytes(r.fields[k].parts[-1]).decode()  # noqa: E731
    assert field("general.architecture") == "gptneox"
    assert field("tokenizer.ggml.pre") == "gpt-2"
    template = field("tokenizer.chat_template")
    assert "{% generation %}" not in template and "endgeneration" not in template and "상대:" in template
    tok = models.load_tokenizer(merged)
    env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = lambda m: (_ for _ in ()).throw(ValueError(m))
    for chat in CHATS:   # same text as the training template (generation markers only mark loss)
        ours = env.from_string(template).render(messages=chat, eos_token=tok.eos_token, add_generation_prompt=True)
        assert ours == tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    types = {t.name for t in r.tensors}
    assert {"token_embd.weight", "blk.0.attn_qkv.weight", "output.weight"} <= types
    q = {t.name: t.tensor_type.name for t in r.tensors}
    assert q["blk.0.attn_qkv.weight"] == "Q8_0" and q["blk.0.attn_norm.weight"] == "F32"


def _hf_greedy(model, ids, n):
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=n, min_new_tokens=n, do_sample=False,
                             pad_token_id=0)
    return out[0, len(ids):].tolist()


def _llama_greedy(llm, ids, n):
    """Greedy with EOS banned, like min_new_tokens=n on the transformers side."""
    eos = llm.token_eos()

    def ban_eos(_ids, scores):
        scores[eos] = -np.inf
        return scores

    llm.reset()
    got = []
    for t in llm.generate(ids, top_k=1, temp=0.0, repeat_penalty=1.0, logits_processor=[ban_eos]):
        got.append(t)
        if len(got) == n:
            break
    return got


def test_gguf_q8_greedy_matches_transformers(gguf_q8, merged):
    from transformers import AutoModelForCausalLM

    tok = models.load_tokenizer(merged)
    model = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    llm = _llama(gguf_q8)
    agree = []
    for chat in CHATS:
        ids = tok(tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True),
                  add_special_tokens=False)["input_ids"]
        hf, ll = _hf_greedy(model, ids, 12), _llama_greedy(llm, ids, 12)
        assert ll[:6] == hf[:6], (hf, ll)
        agree.append(sum(a == b for a, b in zip(hf, ll)))
    assert sum(agree) >= 0.8 * 12 * len(CHATS)


def _tiny_phi(src: Path, out: Path) -> Path:
    """A random Phi (EEVE's architecture) with the tiny tokenizer: checks the phi2 tensor layout."""
    from transformers import PhiForCausalLM

    tok = models.load_tokenizer(src)
    cfg = models.make_config("tiny-phi")
    cfg.vocab_size = len(tok) + 14   # padded embeddings like polyglot's 30003 -> 30080
    cfg.bos_token_id = cfg.eos_token_id = tok.eos_token_id
    torch.manual_seed(0)
    model = PhiForCausalLM(cfg).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.dim() > 1:
                p.normal_(0, 0.08)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.mark.parametrize("arch", ["neox", "phi"])
def test_gguf_f32_logits_match(arch, merged, tmp_path):
    """Unquantized GGUF gives transformers' logits: the tensor layout (fused/split qkv, partial rotary,
    parallel residual, lm_head bias) is right for both architectures."""
    from transformers import AutoModelForCausalLM

    src = merged if arch == "neox" else _tiny_phi(merged, tmp_path / "phi")
    path = export.to_gguf(src, tmp_path / "m-F32.gguf", "F32")
    tok = models.load_tokenizer(src)
    model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32).eval()
    llm = _llama(path, logits_all=True)   # llama-cpp-python keeps logits only then
    ids = tok(tok.apply_chat_template(CHATS[1], tokenize=False, add_generation_prompt=True),
              add_special_tokens=False)["input_ids"]
    llm.reset()
    llm.eval(ids)
    ll = np.asarray(llm.scores[llm.n_tokens - 1])
    with torch.no_grad():
        hf = model(torch.tensor([ids])).logits[0, -1].numpy()
    assert ll.shape == hf.shape
    # llama.cpp's GELU is the tanh approximation (polyglot uses exact erf GELU): close, not bit-equal
    assert np.abs(ll - hf).max() < 0.05 * np.abs(hf).max(), np.abs(ll - hf).max()
    assert int(ll.argmax()) == int(hf.argmax())
    if arch == "phi":
        import gguf
        r = gguf.GGUFReader(str(path))
        assert bytes(r.fields["general.architecture"].parts[-1]).decode() == "phi2"
        assert {"blk.0.attn_q.weight", "output.bias"} <= {t.name for t in r.tensors}


def test_q4_k_m_through_llama_quantize(merged, gguf_q8, tmp_path):
    path = export.to_gguf(merged, tmp_path / "m-Q4_K_M.gguf", "Q4_K_M")
    assert path.stat().st_size < gguf_q8.stat().st_size
    assert not list(tmp_path.glob(".gguf-*"))     # the F32 intermediate is gone
    llm = _llama(path)
    tok = models.load_tokenizer(merged)
    ids = tok(tok.apply_chat_template(CHATS[0], tokenize=False, add_generation_prompt=True),
              add_special_tokens=False)["input_ids"]
    assert len(_llama_greedy(llm, ids, 8)) == 8


def test_to_gguf_errors(tmp_path, merged):
    with pytest.raises(ValueError, match="qtype"):
        export.to_gguf(merged, tmp_path / "x.gguf", "Q3_XYZ")
    with pytest.raises(FileNotFoundError, match="config.json"):
        export.to_gguf(tmp_path, tmp_path / "x.gguf")
    bad = tmp_path / "bad"
    shutil.copytree(merged, bad)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["architectures"] = ["LlamaForCausalLM"]
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="not supported"):
        export.to_gguf(bad, tmp_path / "x.gguf")
    assert not (tmp_path / "x.gguf").exists()                    # nothing half-written


# --------------------------------------------------------------------------------- 4-bit fallback
def test_save_4bit_roundtrip(lora_dir, merged, tmp_path):
    from transformers import AutoModelForCausalLM

    from lib.backends import LocalBackend

    out = export.save_4bit(lora_dir, tmp_path / "nf4")
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["quantization_config"]["bnb_4bit_quant_type"] == "nf4"
    size = sum(f.stat().st_size for f in out.glob("*.safetensors"))
    assert size < 0.6 * sum(f.stat().st_size for f in merged.glob("*.safetensors"))
    backend = LocalBackend(out, device="cpu")
    assert backend.quant == "nf4" and models.count_quantized(backend.model)["linear4bit"] > 0
    tok = backend.tokenizer
    ids = tok(tok.apply_chat_template(CHATS[0], tokenize=False, add_generation_prompt=True),
              return_tensors="pt", add_special_tokens=False).input_ids
    with torch.no_grad():
        q = backend.model(ids).logits[0, -1].float()
        ref = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32)(ids).logits[0, -1]
    assert torch.nn.functional.cosine_similarity(q, ref, dim=0) > 0.97


# ------------------------------------------------------------------------------------ verification
def _validation(dataset_dir: Path) -> list[list[dict]]:
    lines = (dataset_dir / "validation.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["messages"] for x in lines if x.strip()]


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


@pytest.mark.slow
def test_sample_adapter_exports_to_a_gguf_that_verifies_itself(sample_merged, sample_dataset_dir, capsys):
    """make pipeline's adapter: `gguf` verifies by default (its malbeot.json names the dataset) and llama.cpp
    tokenizes every validation prompt and reply exactly like Hugging Face."""
    out = sample_merged.parent / "model-Q4_K_M.gguf"
    assert export.main(["gguf", str(sample_merged), str(out), "--greedy-prompts", "8", "--nll-replies", "16"]) == 0
    report = json.loads(gguf_verify.verify_path(out).read_text(encoding="utf-8"))
    assert report["dataset"] == sample_dataset_dir.name                 # the one malbeot.json names
    assert report["n_texts"] == 2 * len(_validation(sample_dataset_dir)) >= 150
    assert report["tokenization_identical"] == 1.0 and report["hard_identical"] == 1.0, report["differing"]
    assert report["greedy_agreement"] >= gguf_verify.MIN_GREEDY_AGREEMENT
    assert abs(report["nll_gap"]) <= gguf_verify.MAX_NLL_GAP and report["n_nll_tokens"] > 16
    assert report["passed"] and "PASSED" in capsys.readouterr().out
    assert gguf_verify.check(out)["gguf_sha256"] == gguf_verify.sha256(out)


def test_a_tokenization_difference_fails_naming_the_text_by_id(merged, sample_dataset_dir, tmp_path, capsys):
    """A GGUF told the wrong pre-tokenizer (llama3's regex keeps '?\n' together, splits digits by three): the
    check exits 1 naming the first differing text by id, and the file holds no text of theirs."""
    bad = export.to_gguf(merged, tmp_path / "bad-Q8_0.gguf", "Q8_0", pre="llama3")
    code = export.main(["verify", str(bad), str(merged), str(sample_dataset_dir),
                        "--greedy-prompts", "2", "--nll-replies", "2"])
    err = capsys.readouterr().err
    report = json.loads(gguf_verify.verify_path(bad).read_text(encoding="utf-8"))
    assert code == 1 and not report["passed"] and report["tokenization_identical"] < 1
    first = report["first_difference"]
    assert re.fullmatch(r"validation\[\d+\]\.(prompt|reply)", first) and f"first {first}" in err
    contents = {m["content"] for row in _validation(sample_dataset_dir) for m in row if len(m["content"]) >= 4}
    assert not [c for s in _strings(report) for c in contents if c in s]
    with pytest.raises(gguf_verify.VerifyError, match=re.escape(first)):
        export.push("me/repo", [bad], api=mock.MagicMock())


def test_gguf_verifies_only_against_a_real_dataset(merged, tmp_path, caplog):
    """No dataset in malbeot.json: written, not verified, and said so; a --verify folder without
    validation.jsonl is refused before anything is written."""
    out = tmp_path / "m-Q8_0.gguf"
    assert export.main(["gguf", str(merged), str(out), "--qtype", "Q8_0"]) == 0
    assert out.is_file() and not gguf_verify.verify_path(out).exists() and "not verified" in caplog.text
    with pytest.raises(FileNotFoundError, match="validation.jsonl"):
        export.gguf(merged, tmp_path / "other.gguf", "Q8_0", verify=tmp_path)
    assert not (tmp_path / "other.gguf").exists()


# ------------------------------------------------------------------------------------------- push
@pytest.fixture(scope="module")
def verified_q8(gguf_q8, merged, sample_dataset_dir, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("verified") / gguf_q8.name
    shutil.copy(gguf_q8, path)
    report = gguf_verify.verify(path, merged, sample_dataset_dir, n_greedy=2, n_nll=4, progress=False)
    assert report["passed"], report["failures"]
    return path


@pytest.fixture()
def pairs_file(tmp_path, monkeypatch) -> Path:
    """outputs/report/blind_pairs.json as `python -m lib.evaluate blind` writes it, in a private outputs/."""
    monkeypatch.setenv("MALBEOT_OUTPUTS", str(tmp_path / "outputs"))
    pairs = {"pairs": [{"context": [{"role": "user", "content": "뭐해?"}], "a": "집", "b": "밖", "real": "a"}],
             "system": "tuned", "seed": 0}
    return fileio.write_json(config.report() / blind.PAIRS_FILE, pairs)


def test_push_uploads_the_verified_gguf_its_proof_and_the_blind_pairs(verified_q8, lora_dir, pairs_file):
    api = mock.MagicMock()
    done = export.push("me/malbeot-private", [verified_q8, lora_dir], token="hf_x", api=api)
    api.create_repo.assert_called_once_with("me/malbeot-private", private=True, exist_ok=True, repo_type="model")
    assert done == ["model-Q8_0.gguf", "model-Q8_0.gguf.verify.json", "run", "blind_pairs.json"]
    files = {c.kwargs["path_in_repo"]: c.kwargs["path_or_fileobj"] for c in api.upload_file.call_args_list}
    assert files["blind_pairs.json"] == str(pairs_file)            # at the repo root, where the page looks
    assert api.upload_folder.call_args.kwargs["path_in_repo"] == "run"
    with pytest.raises(FileNotFoundError, match="nothing to upload"):
        export.push("me/x", [verified_q8.parent / "missing"], api=api)
    with pytest.raises(ValueError, match="user/name"):
        export.push("not a repo", [verified_q8], api=api)


def test_push_without_pairs_says_the_blind_test_stays_empty(verified_q8, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("MALBEOT_OUTPUTS", str(tmp_path / "outputs"))
    api = mock.MagicMock()
    assert export.push("me/x", [verified_q8], api=api) == ["model-Q8_0.gguf", "model-Q8_0.gguf.verify.json"]
    assert "blind test stays empty" in caplog.text
    assert export.push("me/x", [verified_q8], api=api, blind_pairs=False)[-1].endswith(".verify.json")
    bad = fileio.write_json(tmp_path / "pairs.json", {"pairs": [{"a": "x"}]})
    with pytest.raises(ValueError, match="expected"):
        export.push("me/x", [verified_q8], api=api, blind_pairs=bad)


def test_push_refuses_an_unverified_or_changed_gguf(gguf_q8, verified_q8, tmp_path, capsys):
    plain = tmp_path / gguf_q8.name
    shutil.copy(gguf_q8, plain)
    api = mock.MagicMock()
    with pytest.raises(gguf_verify.VerifyError, match="no verify file"):
        export.push("me/x", [plain], api=api, blind_pairs=False)
    api.upload_file.assert_not_called()
    assert export.push("me/x", [plain], api=api, force=True, blind_pairs=False) == [plain.name]
    changed = tmp_path / "changed" / verified_q8.name
    shutil.copytree(verified_q8.parent, changed.parent)
    with open(changed, "ab") as f:
        f.write(b"\0")
    with pytest.raises(gguf_verify.VerifyError, match="another version"):
        export.push("me/x", [changed], api=api, blind_pairs=False)
    assert export.main(["push", "me/x", str(plain), "--no-blind"]) == 1
    assert "--force" in capsys.readouterr().err


def test_push_cli_uses_hfapi_with_token(verified_q8, pairs_file):
    api = mock.MagicMock()
    with mock.patch("huggingface_hub.HfApi", return_value=api) as cls:
        assert export.main(["push", "me/repo", str(verified_q8), "--token", "hf_secret"]) == 0
    cls.assert_called_once_with(token="hf_secret")
    assert [c.kwargs["path_in_repo"] for c in api.upload_file.call_args_list] == \
        ["model-Q8_0.gguf", "model-Q8_0.gguf.verify.json", "blind_pairs.json"]
