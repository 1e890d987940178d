"""The interface every generation backend implements (lib.backends has the three of them): `stream` and
`generate` continue a prompt that lib.chat rendered, with validated settings and stop strings cut out.

Generation settings, all optional: temperature (0 = greedy), top_p, top_k, repetition_penalty,
max_new_tokens, min_new_tokens, stop (list of str, cut from the text, never shown), seed.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from lib import models

GEN_KEYS = ("temperature", "top_p", "top_k", "repetition_penalty", "max_new_tokens", "min_new_tokens",
            "stop", "seed")
DEFAULTS = {**models.GENERATION, "top_k": 0, "min_new_tokens": 0, "stop": (), "seed": None}


def settings(gen: dict) -> dict:
    """Validated generation settings with the defaults filled in; an unknown key is refused (a typo would
    otherwise silently do nothing)."""
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


def decode_stream(tokenizer, tokens: Iterator[int], eos_id: int | None, max_tokens: int) -> Iterator[str]:
    """Text pieces of generated token ids, decoded by `tokenizer` as a whole so far (a Hangul syllable
    split over two byte-level tokens comes out once complete). Stops at EOS or after `max_tokens`."""
    out, shown = [], ""
    for token in tokens:
        if token == eos_id:
            break
        out.append(token)
        text = tokenizer.decode(out, skip_special_tokens=True)
        if not text.endswith("\ufffd") and len(text) > len(shown):
            yield text[len(shown):]
            shown = text
        if len(out) >= max_tokens:
            break
    text = tokenizer.decode(out, skip_special_tokens=True).rstrip("\ufffd")
    if len(text) > len(shown):
        yield text[len(shown):]


class Backend:
    """Common part: `generate` built on `stream`, the stop strings, one generation at a time.
    Engines override `_stream(prompt, settings)`."""

    name = "backend"
    tokenizer = None
    context_length: int | None = None

    def __init__(self):
        self._lock = threading.RLock()   # one generation at a time: the model is shared by every session

    def stream(self, prompt, **gen) -> Iterator[str]:
        """Text pieces as they are generated, ending before the first stop string."""
        g = settings(gen)
        stop = StopText(g["stop"])
        with self._lock:
            pieces = self._stream(self._check(prompt), g)
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

    def generate(self, prompt, n: int = 1, **gen) -> list[str]:
        """`n` complete replies (sampled independently), each cut at the first stop string."""
        seed = gen.pop("seed", None)
        return ["".join(self.stream(prompt, **gen, seed=None if seed is None else int(seed) + i))
                for i in range(int(n))]

    def _check(self, prompt):
        """A backend continues a prompt lib.chat rendered (a str); only a remote chat endpoint without a
        local tokenizer takes the message list itself."""
        if not isinstance(prompt, str):
            raise TypeError(f"{self.name} backend: expected the prompt as rendered by lib.chat.build_prompt (a str), "
                            f"got {type(prompt).__name__}")
        return prompt

    def _stream(self, prompt, g: dict) -> Iterator[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
