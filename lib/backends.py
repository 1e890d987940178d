"""The three generation backends lib.chat drives, and `open_backend` that builds one from a spec:
transformers+peft (`local`), llama.cpp on a GGUF (`llamacpp`, the fast CPU path for the cloud page) and
any OpenAI-compatible endpoint (`remote`).

    backend = open_backend({"backend": "llamacpp", "gguf": "outputs/export/model-Q4_K_M.gguf",
                            "tokenizer": "outputs/adapters/latest"})
    for piece in backend.stream(prompt, temperature=0.8, max_new_tokens=64, stop=["\\n상대:"]): ...

A backend continues the prompt lib.chat.build_prompt rendered with the adapter's template (see
lib.backend for the settings); a remote chat endpoint without a local tokenizer gets the messages instead.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import random
import threading
import unicodedata
import urllib.error
import urllib.request
import weakref
from pathlib import Path

from lib import config, fileio, models, runs
from lib.backend import Backend, cut, decode_stream, settings
from lib.tokenizer import light_tokenizer, normalize

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------ local
class LocalBackend(Backend):
    """transformers (+ peft). `path`: an adapter run (base + LoRA), a merged/nf4 folder, or a registry
    name / hub id. quant="auto" = the fastest form that fits: a pre-quantized folder as saved; else nf4
    for real models (GPU, and CPU: 3x the bf16 speed, benchmarks/results/cpu_serving.json) and fp32 with
    the LoRA merged for the tiny stand-ins. On a 2.7 GB cloud box only the nf4 folder written by
    `python -m lib.export 4bit` fits (quantizing while loading peaks at 4.8 GB for polyglot)."""

    name = "local"

    def __init__(self, path, quant: str | None = "auto", device: str = "auto", threads: int | None = None):
        super().__init__()
        import torch
        from transformers import AutoModelForCausalLM

        if threads:
            torch.set_num_threads(int(threads))
        key = str(path)
        folder = config.resolve(key)
        if not folder.exists() and key not in models.REGISTRY and key.count("/") != 1:
            raise FileNotFoundError(f"local backend: {folder} does not exist (expected an adapter run, "
                                    f"a model folder, or one of {list(models.REGISTRY)})")
        on_gpu = device != "cpu" and torch.cuda.is_available()
        adapter = folder if (folder / "adapter_config.json").is_file() else None
        base = runs.base_of(adapter) if adapter is not None else key
        pre_quantized = folder.is_dir() and "quantization_config" in fileio.read_json(folder / "config.json")
        try:
            tiny = bool(models.spec(base).tiny)
        except ValueError:
            tiny = False
        if quant == "auto":
            quant = None if pre_quantized or (tiny and not on_gpu) else "nf4"
        if on_gpu:
            dtype = models.compute_dtype(device)
        else:  # fp32 for the tiny stand-ins; bf16 halves a real model's RAM (this CPU has AVX512-BF16)
            dtype = torch.float32 if tiny else torch.bfloat16
        if pre_quantized:
            self.model = AutoModelForCausalLM.from_pretrained(folder, device_map="auto" if on_gpu else "cpu")
        else:
            self.model, _ = models.load(base, bnb=quant, device=device if on_gpu else "cpu", dtype=dtype)
        if adapter is not None:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, str(adapter))
            if quant is None:  # a merged LoRA costs nothing per token
                self.model = self.model.merge_and_unload()
        self.model.eval()
        self.tokenizer = models.load_tokenizer(adapter or (folder if folder.exists() else key))
        self.context_length = getattr(self.model.config, "max_position_embeddings", None)
        self.device = next(self.model.parameters()).device
        self.quant = "nf4" if pre_quantized else quant

    def _inputs(self, prompt: str):
        return self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.device)

    def _kwargs(self, g: dict, n: int = 1) -> dict:
        import torch

        sample = g["temperature"] > 0
        if g["seed"] is not None:
            torch.manual_seed(int(g["seed"]))
        kw = dict(max_new_tokens=g["max_new_tokens"], min_new_tokens=g["min_new_tokens"] or None,
                  do_sample=sample, repetition_penalty=g["repetition_penalty"],
                  num_return_sequences=n, pad_token_id=self.tokenizer.pad_token_id,
                  eos_token_id=self.tokenizer.eos_token_id)
        if sample:
            kw.update(temperature=g["temperature"], top_p=g["top_p"], top_k=g["top_k"] or None)
        else:
            kw.update(temperature=None, top_p=None, top_k=None)
        return kw

    def _stream(self, prompt, g):
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        inputs = self._inputs(prompt)
        cancel = threading.Event()

        class Cancel(StoppingCriteria):
            def __call__(self, input_ids, scores, **kw):
                return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool)

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
        kw = self._kwargs(g)
        errors = []

        def run():
            try:
                with torch.inference_mode():
                    self.model.generate(**inputs, **kw, streamer=streamer,
                                        stopping_criteria=StoppingCriteriaList([Cancel()]))
            except Exception as e:  # surfaced in the caller's thread below
                errors.append(e)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            cancel.set()
            worker.join()
        if errors:
            raise errors[0]

    def generate(self, prompt, n: int = 1, **gen) -> list[str]:
        """Sampled together as one batch (cheap on a GPU, no worse on CPU)."""
        import torch

        g = settings(gen)
        with self._lock:
            inputs = self._inputs(self._check(prompt))
            with torch.inference_mode():
                out = self.model.generate(**inputs, **self._kwargs(g, int(n)))
        new = out[:, inputs["input_ids"].shape[1]:]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        return [cut(t, g["stop"]) for t in texts]


# --------------------------------------------------------------------------------------- llama.cpp
class LlamaCppBackend(Backend):
    """llama.cpp via llama-cpp-python on a GGUF written by lib.export.to_gguf. The prompt is rendered
    and tokenized by the Hugging Face tokenizer (exactly as in training) and handed over as token ids;
    llama.cpp keeps the KV cache of the longest common prefix, so a growing chat re-reads only the
    new turn (benchmarks: TTFT 2 s for a fresh 200-token prompt, 0.4-0.6 s for the next turn).
    use_mmap=False by default: llama.cpp repacks Q4 weights into its own buffers anyway, and with the
    file also mapped the peak RSS was 1.65 vs 1.21 GB (polyglot Q4_K_M), 2.94 vs 1.92 GB (EEVE)."""

    name = "llamacpp"

    def __init__(self, gguf_path, tokenizer_dir=None, *, n_ctx: int = 2048, threads: int | None = None,
                 use_mmap: bool = False, n_batch: int = 256):
        super().__init__()
        # OpenMP workers that sleep instead of spinning: on a shared 2-CPU box (the cloud page, this
        # machine) spinning threads fight the other processes and one reply took 300x longer.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import llama_cpp
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ImportError("llamacpp backend needs llama-cpp-python (app/requirements.txt, see docs/DEPLOY.md)"
                              " - or the 'local' backend with an nf4 folder from `python -m lib.export 4bit`") from e
        path = config.resolve(gguf_path)
        if not path.is_file():
            raise FileNotFoundError(f"llamacpp backend: GGUF file {path} not found "
                                    "(write one with `python -m lib.export gguf MERGED OUT.gguf`)")
        tok_dir = config.resolve(tokenizer_dir) if tokenizer_dir else path.parent
        if not (tok_dir / "tokenizer_config.json").is_file() and not (tok_dir / "tokenizer.json").is_file():
            raise FileNotFoundError(f"llamacpp backend: no tokenizer in {tok_dir}; pass tokenizer=<the adapter "
                                    "run folder> so prompts use the template the adapter was trained with")
        self.tokenizer = light_tokenizer(tok_dir)
        threads = int(threads or min(2, os.cpu_count() or 1))
        n_ctx = min(int(n_ctx), _gguf_context(path) or int(n_ctx))  # no use going past what it was trained on
        self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads,
                                   n_threads_batch=threads, n_batch=n_batch, use_mmap=use_mmap,
                                   verbose=False)
        atexit.register(_close_quietly, weakref.ref(self.llm))
        self.context_length = n_ctx
        self.eos_id = self.llm.token_eos()
        self.warm()

    def warm(self, system: str | None = None, text: str | None = None) -> int:
        """Read a prompt's start into llama.cpp's cache ahead of time, keeping what is cached already: at load
        the start all prompts share (system line, template opening; the first decode's set-up is paid here),
        between turns the page's next prompt up to her message. Returns the number of tokens now cached."""
        if text is None:
            head = [{"role": "system", "content": system}] if system else []
            text = self.tokenizer.apply_chat_template(head + [{"role": "user", "content": "\x01"}], tokenize=False,
                                                      add_generation_prompt=True).split("\x01", 1)[0]
        ids = self.prompt_ids(text) if text else []
        with self._lock:
            keep = next((i for i, (a, b) in enumerate(zip(self.llm._input_ids, ids)) if a != b),
                        min(self.llm.n_tokens, len(ids)))
            if keep < len(ids):
                self.llm.n_tokens = keep                 # eval() drops the cache from here on
                self.llm.eval(ids[keep:])
        return len(ids)

    def prompt_ids(self, prompt: str) -> list[int]:
        """Token ids of a rendered prompt, by the Hugging Face tokenizer (exactly as in training, its
        normalizer included: llama.cpp's own tokenizer would skip NFC and split decomposed Hangul apart)."""
        return self.tokenizer(prompt, add_special_tokens=False)["input_ids"]

    def _stream(self, prompt, g):
        import numpy as np

        ids = self.prompt_ids(prompt)
        room = self.context_length - len(ids)
        if room < 1:
            raise ValueError(f"prompt of {len(ids)} tokens does not fit the context of {self.context_length}")
        count = [0]

        def hold_eos(input_ids, scores):
            # min_new_tokens: EOS is not allowed until that many tokens are out
            if count[0] < g["min_new_tokens"]:
                scores[self.eos_id] = -np.inf
            count[0] += 1
            return scores

        greedy = g["temperature"] <= 0
        # Not create_completion: its decoding drops any piece over 32 bytes (eleven ㅋ are 33); the Hugging
        # Face tokenizer decodes exactly what training encoded.
        self.llm.set_seed(int(g["seed"]) if g["seed"] is not None else random.randrange(2**32))
        tokens = self.llm.generate(
            ids, temp=0.0 if greedy else g["temperature"], top_p=1.0 if greedy else g["top_p"],
            top_k=1 if greedy else int(g["top_k"] or 0), min_p=0.0, repeat_penalty=g["repetition_penalty"],
            logits_processor=[hold_eos] if g["min_new_tokens"] else None)
        try:
            yield from decode_stream(self.tokenizer, tokens, self.eos_id, min(g["max_new_tokens"], room))
        finally:
            tokens.close()

    def close(self) -> None:
        self.llm.close()


def _gguf_context(path: Path) -> int | None:
    """The training context length stored in the GGUF header (memory-mapped read, no weights loaded)."""
    try:
        import gguf

        r = gguf.GGUFReader(str(path))
        arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
        return int(r.fields[f"{arch}.context_length"].parts[-1][0])
    except Exception:  # noqa: BLE001 - an unusual file still loads, only without the cap
        return None


def _close_quietly(ref) -> None:
    # free the model before interpreter teardown; llama-cpp's __del__ fails once modules are gone
    llm = ref()
    if llm is not None:
        try:
            llm.close()
        except Exception:  # noqa: BLE001
            pass


# ------------------------------------------------------------------------------------------ remote
class RemoteBackend(Backend):
    """Any OpenAI-compatible server (llama.cpp server, vLLM, Ollama, behind a tunnel). With a local
    tokenizer (the adapter folder) the prompt is rendered and tokenized here and /completions gets the
    token ids (prompt_as="ids"): llama.cpp's server would tokenize text without the tokenizer's normalizer
    (NFC for polyglot), so ids are the one form that is exactly what training saw. prompt_as="text" (servers
    that take no ids, e.g. Ollama) sends the normalized text. Without a tokenizer, messages go to
    /chat/completions."""

    name = "remote"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *, tokenizer_dir=None,
                 timeout: float = 120, context_length: int | None = None, prompt_as: str = "ids"):
        super().__init__()
        if prompt_as not in ("ids", "text"):
            raise ValueError(f"remote backend: prompt_as={prompt_as!r}, expected 'ids' or 'text'")
        self.prompt_as = prompt_as
        if not base_url or not str(base_url).startswith(("http://", "https://")):
            raise ValueError(f"remote backend: base_url {base_url!r} must start with http:// or https:// "
                             "(e.g. http://127.0.0.1:8080/v1)")
        self.base_url = str(base_url).rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.context_length = context_length
        if tokenizer_dir:
            self.tokenizer = light_tokenizer(tokenizer_dir)
            self.context_length = context_length or 2048

    def _check(self, prompt):
        if self.tokenizer is None and isinstance(prompt, list):
            return prompt  # a chat endpoint applies its own template
        return super()._check(prompt)

    def _payload(self, prompt, g: dict, stream: bool, n: int = 1) -> tuple[str, dict]:
        body = {"model": self.model, "max_tokens": g["max_new_tokens"], "temperature": g["temperature"],
                "top_p": g["top_p"], "stream": stream}
        if n > 1:
            body["n"] = n
        if g["stop"]:
            body["stop"] = g["stop"][:4]          # OpenAI allows 4; the rest are cut locally
        if g["seed"] is not None:
            body["seed"] = int(g["seed"])
        if g["top_k"]:
            body["top_k"] = int(g["top_k"])
        if g["repetition_penalty"] != 1.0:       # llama.cpp server / vLLM names
            body["repeat_penalty"] = body["repetition_penalty"] = g["repetition_penalty"]
        if isinstance(prompt, str):
            body["prompt"] = self._prompt(prompt)
            return "/completions", body
        # the server's template and tokenizer take it from here; NFC is the form polyglot's tokenizer
        # applies and the one Korean keyboards mostly send
        body["messages"] = [{"role": m["role"], "content": unicodedata.normalize("NFC", m["content"])}
                            for m in prompt]
        return "/chat/completions", body

    def _prompt(self, prompt: str):
        """What /completions gets for a rendered prompt: our token ids, or text in the tokenizer's form."""
        if self.tokenizer is None:
            return unicodedata.normalize("NFC", prompt)
        if self.prompt_as == "ids":
            return self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        return normalize(self.tokenizer, prompt)

    def _post(self, route: str, body: dict):
        req = urllib.request.Request(self.base_url + route, data=json.dumps(body).encode("utf-8"),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {})})
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")[:300]
            raise RuntimeError(f"remote backend: {self.base_url + route} answered HTTP {e.code}: {detail}") from e
        except urllib.error.URLError as e:
            raise ConnectionError(f"remote backend: cannot reach {self.base_url + route}: {e.reason} "
                                  "(is the server/tunnel running?)") from e

    @staticmethod
    def _text(choice: dict) -> str:
        if "delta" in choice:
            return choice["delta"].get("content") or ""
        if "message" in choice:
            return choice["message"].get("content") or ""
        return choice.get("text") or ""

    def _stream(self, prompt, g):
        route, body = self._payload(prompt, g, stream=True)
        resp = self._post(route, body)
        try:
            for raw in resp:
                line = raw.decode("utf-8").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                event = json.loads(data)
                if event.get("error"):
                    raise RuntimeError(f"remote backend: server error {event['error']}")
                for choice in event.get("choices", [])[:1]:
                    text = self._text(choice)
                    if text:
                        yield text
        finally:
            resp.close()

    def generate(self, prompt, n: int = 1, **gen) -> list[str]:
        """One request with `n`; servers that ignore `n` (llama.cpp) are asked again for the rest."""
        g = settings(gen)
        prompt = self._check(prompt)
        texts: list[str] = []
        while len(texts) < n:
            route, body = self._payload(prompt, g, stream=False, n=n - len(texts))
            with self._post(route, body) as resp:
                reply = json.loads(resp.read().decode("utf-8"))
            choices = reply.get("choices") or []
            if not choices:
                raise RuntimeError(f"remote backend: no choices in the answer {str(reply)[:200]}")
            texts += [cut(self._text(c), g["stop"]) for c in choices]
        return texts[:n]


# -------------------------------------------------------------------------------------------- spec
KINDS = {"local": "local", "transformers": "local", "llamacpp": "llamacpp", "llama.cpp": "llamacpp",
         "gguf": "llamacpp", "remote": "remote", "openai": "remote"}


def _fetch(spec: dict, key: str, *, folder: bool) -> str | None:
    """A path from the spec; when it is not on disk and `repo` is set, download it from that (private)
    Hugging Face repo with `token` (the cloud page: st.secrets)."""
    value = spec.get(key)
    if value is None:
        return None
    if config.resolve(value).exists() or not spec.get("repo"):
        return str(value)
    from huggingface_hub import hf_hub_download, snapshot_download

    repo, token = spec["repo"], spec.get("token")
    if folder:
        root = snapshot_download(repo, allow_patterns=[f"{str(value).strip('/')}/*"], token=token)
        return str(Path(root) / value)
    return hf_hub_download(repo, str(value), token=token)


def open_backend(spec: dict) -> Backend:
    """A backend from a profile / st.secrets dict: {"backend": "local"|"llamacpp"|"remote", ...}.

    local:    adapter (or model), quant ("auto"|"nf4"|"int8"|None), device, threads
    llamacpp: gguf, tokenizer (adapter folder), n_ctx, threads, mmap; with repo (+ token) missing files
              are fetched from that Hugging Face repo
    remote:   base_url, model, api_key, tokenizer (optional), timeout, prompt_as ("ids" | "text")
    """
    if not isinstance(spec, dict):
        raise TypeError(f"backend spec must be a dict, got {type(spec).__name__}")
    kind = KINDS.get(str(spec.get("backend", spec.get("kind", ""))).lower())
    if kind is None:
        raise ValueError(f"backend spec: 'backend' must be one of {sorted(set(KINDS.values()))}, "
                         f"got {spec.get('backend', spec.get('kind'))!r}")

    def need(*keys):
        for k in keys:
            if spec.get(k) is not None:
                return k
        raise ValueError(f"{kind} backend spec needs {' or '.join(repr(k) for k in keys)}; got keys {sorted(spec)}")

    if kind == "local":
        key = need("adapter", "model")
        return LocalBackend(_fetch(spec, key, folder=True), quant=spec.get("quant", "auto"),
                            device=spec.get("device", "auto"), threads=spec.get("threads"))
    if kind == "llamacpp":
        need("gguf")
        return LlamaCppBackend(_fetch(spec, "gguf", folder=False), _fetch(spec, "tokenizer", folder=True),
                               n_ctx=int(spec.get("n_ctx", 2048)), threads=spec.get("threads"),
                               use_mmap=bool(spec.get("mmap", False)))
    need("base_url")
    need("model")
    return RemoteBackend(spec["base_url"], spec["model"], spec.get("api_key"), tokenizer_dir=spec.get("tokenizer"),
                         timeout=float(spec.get("timeout", 120)), context_length=spec.get("context_length"),
                         prompt_as=spec.get("prompt_as", "ids"))
