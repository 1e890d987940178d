"""Generation engines behind one interface for lib.chat: transformers+peft (`local`), llama.cpp on a GGUF
(`llamacpp`, the fast CPU path for the cloud page) and any OpenAI-compatible endpoint (`remote`).

    backend = open_backend({"backend": "llamacpp", "gguf": "outputs/export/model-Q4_K_M.gguf",
                            "tokenizer": "outputs/adapters/latest"})
    for piece in backend.stream(prompt, temperature=0.8, max_new_tokens=64, stop=["\\n상대:"]): ...

`messages` is either the prompt already rendered by lib.chat.build_prompt (a str; used as is) or a list of
{"role", "content"} dicts (rendered here with the adapter's template, or sent as chat messages to a remote
endpoint that has no local tokenizer). Generation settings, all optional: temperature (0 = greedy), top_p,
top_k, repetition_penalty, max_new_tokens, min_new_tokens, stop (list of str, cut from the text), seed.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

from lib import config

log = logging.getLogger(__name__)

GEN_KEYS = ("temperature", "top_p", "top_k", "repetition_penalty", "max_new_tokens", "min_new_tokens",
            "stop", "seed")
DEFAULTS = dict(temperature=0.8, top_p=0.9, top_k=0, repetition_penalty=1.1, max_new_tokens=64,
                min_new_tokens=0, stop=(), seed=None)


def _gen(gen: dict) -> dict:
    unknown = set(gen) - set(GEN_KEYS)
    if unknown:
        raise ValueError(f"unknown generation setting(s) {sorted(unknown)}; expected some of {list(GEN_KEYS)}")
    out = dict(DEFAULTS)
    out.update({k: v for k, v in gen.items() if v is not None})
    out["stop"] = [s for s in ([out["stop"]] if isinstance(out["stop"], str) else out["stop"]) if s]
    out["max_new_tokens"] = int(out["max_new_tokens"])
    out["min_new_tokens"] = min(int(out["min_new_tokens"]), out["max_new_tokens"])
    if out["max_new_tokens"] < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {out['max_new_tokens']}")
    return out


class StopText:
    """Cuts streamed text at the first stop string, holding back a tail that could be the start of one
    (so '\\n상' is not shown before we know whether '\\n상대:' follows)."""

    def __init__(self, stops: Sequence[str]):
        self.stops = [s for s in stops if s]
        self.buf = ""
        self.done = False

    def feed(self, piece: str) -> str:
        if self.done:
            return ""
        self.buf += piece
        hits = [i for i in (self.buf.find(s) for s in self.stops) if i >= 0]
        if hits:
            out, self.buf, self.done = self.buf[:min(hits)], "", True
            return out
        hold = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.buf)), hold, -1):
                if self.buf.endswith(s[:k]):
                    hold = k
                    break
        out, self.buf = self.buf[:len(self.buf) - hold], self.buf[len(self.buf) - hold:]
        return out

    def flush(self) -> str:
        out, self.buf = ("" if self.done else self.buf), ""
        return out


def cut(text: str, stops: Sequence[str]) -> str:
    s = StopText(stops)
    return s.feed(text) + s.flush()


class Backend:
    """Common part: prompt rendering and `generate` built on `stream`. Engines override `_stream`."""

    name = "backend"
    tokenizer = None
    context_length: int | None = None

    def __init__(self):
        self._lock = threading.RLock()   # one generation at a time: the model is shared by every session

    def render(self, messages, max_new_tokens: int = 64) -> str:
        """A rendered prompt string passes through; a message list goes through lib.chat.build_prompt."""
        if isinstance(messages, str):
            return messages
        if self.tokenizer is None:
            raise ValueError(f"{self.name} backend has no tokenizer to render messages with")
        from lib.chat import build_prompt

        budget = max(32, (self.context_length or 2048) - max_new_tokens)
        return build_prompt(self.tokenizer, messages, max_prompt_tokens=budget)

    def stream(self, messages, **gen) -> Iterator[str]:
        """Text pieces as they are generated, ending before the first stop string."""
        g = _gen(gen)
        stop = StopText(g["stop"])
        with self._lock:
            pieces = self._stream(messages, g)
            try:
                for piece in pieces:
                    out = stop.feed(piece)
                    if out:
                        yield out
                    if stop.done:
                        return
                tail = stop.flush()
                if tail:
                    yield tail
            finally:
                pieces.close()   # stops the engine early when the caller stops reading

    def generate(self, messages, n: int = 1, **gen) -> list[str]:
        """`n` complete replies (sampled independently), each cut at the first stop string."""
        seed = gen.pop("seed", None)
        return ["".join(self.stream(messages, **gen, seed=None if seed is None else int(seed) + i))
                for i in range(int(n))]

    def _stream(self, messages, g: dict) -> Iterator[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


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

        from lib import models

        if threads:
            torch.set_num_threads(int(threads))
        key = str(path)
        folder = config.resolve(key)
        if not folder.exists() and key not in models.REGISTRY and key.count("/") != 1:
            raise FileNotFoundError(f"local backend: {folder} does not exist (expected an adapter run, "
                                    f"a model folder, or one of {list(models.REGISTRY)})")
        on_gpu = device != "cpu" and torch.cuda.is_available()
        adapter = folder if (folder / "adapter_config.json").is_file() else None
        if adapter is not None:
            from lib.export import _adapter_base
            base = _adapter_base(adapter)
        else:
            base = key
        pre_quantized = folder.is_dir() and "quantization_config" in _read_json(folder / "config.json")
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
            self.model, _ = models.load(base, quant=quant, device=device if on_gpu else "cpu", dtype=dtype)
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

    def _inputs(self, messages, g):
        prompt = self.render(messages, g["max_new_tokens"])
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

    def _stream(self, messages, g):
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        inputs = self._inputs(messages, g)
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

    def generate(self, messages, n: int = 1, **gen) -> list[str]:
        """Sampled together as one batch (cheap on a GPU, no worse on CPU)."""
        import torch

        g = _gen(gen)
        with self._lock:
            inputs = self._inputs(messages, g)
            with torch.inference_mode():
                out = self.model.generate(**inputs, **self._kwargs(g, int(n)))
        new = out[:, inputs["input_ids"].shape[1]:]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        return [cut(t, g["stop"]) for t in texts]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# ------------------------------------------------------------------------------ light tokenizer
class LightTokenizer:
    """The part of a Hugging Face tokenizer that lib.chat and the llama.cpp/remote backends use, on the
    `tokenizers` library and Jinja alone: importing transformers pulls in torch (~300 MB resident),
    which a llama.cpp page on a 2.7 GB box cannot spare and does not otherwise need.

    Same tokenizer.json, same template (rendered like transformers: sandboxed Jinja, trim_blocks,
    lstrip_blocks; the training-only {% generation %} markers dropped); tests check it matches.
    """

    def __init__(self, folder):
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.name_or_path = str(folder)
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        cfg = _read_json(folder / "tokenizer_config.json")
        tok_str = lambda v: v.get("content") if isinstance(v, dict) else v  # noqa: E731
        self.eos_token, self.bos_token = tok_str(cfg.get("eos_token")), tok_str(cfg.get("bos_token"))
        self.pad_token = tok_str(cfg.get("pad_token")) or self.eos_token
        self.eos_token_id = self._tok.token_to_id(self.eos_token) if self.eos_token else None
        self.bos_token_id = self._tok.token_to_id(self.bos_token) if self.bos_token else None
        self.pad_token_id = self._tok.token_to_id(self.pad_token) if self.pad_token else None
        self.model_max_length = int(cfg.get("model_max_length") or 2048)
        template = cfg.get("chat_template")
        if not template and (folder / "chat_template.jinja").is_file():
            template = (folder / "chat_template.jinja").read_text(encoding="utf-8")
        if not template or "generation" not in template:  # as lib.models.load_tokenizer: the project template
            from lib import models

            template = models.spec(folder).chat_template
        self.chat_template = template
        self._template = None

    def __call__(self, text: str, add_special_tokens: bool = True, **_):
        return {"input_ids": self._tok.encode(text, add_special_tokens=add_special_tokens).ids}

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self(text, add_special_tokens)["input_ids"]

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def __len__(self) -> int:
        return self._tok.get_vocab_size(with_added_tokens=True)

    def apply_chat_template(self, messages, tokenize: bool = False, add_generation_prompt: bool = False, **kw):
        if self._template is None:
            import re

            import jinja2
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            def raise_exception(message):
                raise jinja2.exceptions.TemplateError(message)

            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                extensions=["jinja2.ext.loopcontrols"])
            env.globals["raise_exception"] = raise_exception
            source = re.sub(r"\{%-?\s*(end)?generation\s*-?%\}", "", self.chat_template)
            self._template = env.from_string(source)
        text = self._template.render(messages=list(messages), add_generation_prompt=add_generation_prompt,
                                     eos_token=self.eos_token, bos_token=self.bos_token,
                                     pad_token=self.pad_token, **kw)
        return self.encode(text, add_special_tokens=False) if tokenize else text


def light_tokenizer(folder):
    """LightTokenizer when the folder has a tokenizer.json, else the full Hugging Face one."""
    folder = config.resolve(folder)
    if (folder / "tokenizer.json").is_file():
        return LightTokenizer(folder)
    from lib import models

    return models.load_tokenizer(folder)


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
            raise ImportError("llamacpp backend needs llama-cpp-python (pip install llama-cpp-python; it "
                              "compiles llama.cpp, see docs/DEPLOY.md) - or use the 'local' backend with "
                              "an nf4 folder from `python -m lib.export 4bit`") from e
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

    def prompt_ids(self, messages, max_new_tokens: int = 64) -> list[int]:
        prompt = self.render(messages, max_new_tokens)
        return self.tokenizer(prompt, add_special_tokens=False)["input_ids"]

    def _stream(self, messages, g):
        import numpy as np

        ids = self.prompt_ids(messages, g["max_new_tokens"])
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
        chunks = self.llm.create_completion(
            ids, max_tokens=min(g["max_new_tokens"], room), stream=True,
            temperature=0.0 if greedy else g["temperature"], top_p=1.0 if greedy else g["top_p"],
            top_k=1 if greedy else int(g["top_k"] or 0), min_p=0.0, repeat_penalty=g["repetition_penalty"],
            seed=g["seed"], logits_processor=[hold_eos] if g["min_new_tokens"] else None)
        try:
            for chunk in chunks:
                text = chunk["choices"][0]["text"]
                if text:
                    yield text
        finally:
            chunks.close()

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
    tokenizer (the adapter folder) the prompt is rendered here and sent to /completions, so the
    server needs no chat template; without one, messages go to /chat/completions."""

    name = "remote"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *, tokenizer_dir=None,
                 timeout: float = 120, context_length: int | None = None):
        super().__init__()
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

    def _payload(self, messages, g: dict, stream: bool, n: int = 1) -> tuple[str, dict]:
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
        if isinstance(messages, str) or self.tokenizer is not None:
            body["prompt"] = self.render(messages, g["max_new_tokens"])
            return "/completions", body
        body["messages"] = [{"role": m["role"], "content": m["content"]} for m in messages]
        return "/chat/completions", body

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

    def _stream(self, messages, g):
        route, body = self._payload(messages, g, stream=True)
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

    def generate(self, messages, n: int = 1, **gen) -> list[str]:
        """One request with `n`; servers that ignore `n` (llama.cpp) are asked again for the rest."""
        g = _gen(gen)
        texts: list[str] = []
        while len(texts) < n:
            route, body = self._payload(messages, g, stream=False, n=n - len(texts))
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
    remote:   base_url, model, api_key, tokenizer (optional), timeout
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
                         timeout=float(spec.get("timeout", 120)), context_length=spec.get("context_length"))
