"""Replies: the prompt (the adapter's own chat template, trimmed to a token budget) and guarded generation
bubble by bubble. Shared by the app (app/) and the evaluation; never imports Streamlit.

    from lib.backends import open_backend
    bot = Chatbot(open_backend({"backend": "local", "adapter": "outputs/adapters/latest"}))
    bot.reply([{"role": "user", "content": "뭐해?"}])          # -> ["집이지 ㅋㅋ", "너는?"]
    for bubble in bot.stream(history): ...                   # bubbles one after another

    python -m lib.chat [--backend llamacpp --gguf F --tokenizer RUN]   # chat in the terminal

Each bubble is checked by lib.guards as it completes; a candidate whose first bubble fails is thrown
away and another one sampled, a later failing bubble ends the reply there. When the history's messages
carry a `time` (ISO 8601; the page stores one per message), lib.template's time line in her time zone
(`tz=`) comes right before the reply, as in training: `bot.reply(history, tz="Asia/Seoul")`.
"""
from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from lib import models, runs
from lib.backends import open_backend
from lib.guards import is_empty, is_self_repeat, join_bubbles, mask_reply, norm, rejection_reason, split_bubbles
from lib.template import INSTRUCT_TAGS, STOP_STRINGS, her_moment, stop_strings, time_line

ROLES = ("user", "assistant")   # user = her, assistant = the bot (me), as in lib.dataset rows

DEFAULT_GENERATION = {
    **models.GENERATION,
    "n_candidates": 2,           # sampled together by .reply() (one batch: cheap on GPU / remote)
    "max_attempts": 3,           # rounds of sampling before the fallback
}
SAMPLING_KEYS = ("temperature", "top_p", "repetition_penalty", "max_new_tokens")

# Said when every candidate failed: short, in character, and never the same twice in a row.
FALLBACK_REPLIES = ("음 잠깐만 ㅋㅋ", "뭐라고 할지 모르겠다 ㅋㅋ", "ㅎㅎ")

DEFAULT_MARKERS = (*STOP_STRINGS, *stop_strings(INSTRUCT_TAGS))  # when no tokenizer tells us the template
RETRY_TEMPERATURE = 0.7         # a retry after a greedy (temperature 0) reply was rejected
MAX_BUBBLES = 8                  # a runaway reply is cut here even if every bubble passes


# ----------------------------------------------------------------------------------------- prompt

def _check_history(history: Sequence[dict]) -> list[dict]:
    """Validate and merge consecutive same-role messages (a turn's bubbles joined with "\\n")."""
    if not isinstance(history, Sequence) or isinstance(history, (str, bytes)) or not history:
        raise ValueError("history must be a non-empty list of {'role': 'user'|'assistant', "
                         f"'content': str}} dicts, got {history!r:.80}")
    merged: list[dict] = []
    for i, msg in enumerate(history):
        if not isinstance(msg, dict) or msg.get("role") not in ROLES or not isinstance(msg.get("content"), str):
            raise ValueError(f"history[{i}] must be {{'role': 'user'|'assistant', 'content': str}}, got {msg!r:.120}")
        if merged and merged[-1]["role"] == msg["role"]:
            merged[-1]["content"] = join_bubbles([merged[-1]["content"], msg["content"]])
        else:
            merged.append({"role": msg["role"], "content": msg["content"]})
    if merged[-1]["role"] != "user":
        raise ValueError("history must end with her message (role 'user'); "
                         f"the last message is role {merged[-1]['role']!r}")
    return merged


def _render(tokenizer, messages: list[dict], generation_prompt: bool) -> str:
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"{type(tokenizer).__name__} has no chat template; load the adapter's tokenizer "
                         "(lib.models.load_tokenizer) so replies use the template it was trained with")
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def count_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def window_start(n_turns: int, max_turns: int | None) -> int:
    """Index of the first turn kept when at most `max_turns` may stay.

    The start moves in steps of two exchanges (4 turns) rather than one, so the prompt's beginning stays
    the same for two rounds in a row and llama.cpp (or a remote server) reuses its cached prefix: ~0.45 s
    to the first token instead of ~2 s re-reading the whole prompt on 2 CPUs. Between max_turns - 3 and
    max_turns turns stay, within the context sizes the dataset trained on.
    """
    over = n_turns - max_turns if max_turns else 0
    if over <= 0:
        return 0
    step = 4 if max_turns > 4 else 2      # even, so the window always opens on the same speaker
    return -(-over // step) * step


def build_prompt(tokenizer, history: Sequence[dict], *, max_prompt_tokens: int, system: str | None = None,
                 max_turns: int | None = None, time_line: str | None = None) -> str:
    """The adapter's chat template over `history` with the generation prompt for the bot's turn: the
    persona line `system` first, lib.template's `time_line` right before the reply, as in training.

    Oldest turns are dropped until the prompt fits `max_prompt_tokens` (and at most `max_turns`
    turns remain, see `window_start`); her last message is never cut, even if it alone is over budget.
    """
    if max_prompt_tokens is None or int(max_prompt_tokens) <= 0:
        raise ValueError(f"max_prompt_tokens must be a positive int, got {max_prompt_tokens!r}")
    turns = _check_history(history)
    head = [{"role": "system", "content": system}] if system else []
    tail = [{"role": "system", "content": time_line}] if time_line else []

    def render(start: int) -> str:
        return _render(tokenizer, head + turns[start:] + tail, True)

    lo = window_start(len(turns), max_turns)
    hi = len(turns) - 1                        # her last message alone
    if count_tokens(tokenizer, render(lo)) <= max_prompt_tokens:
        return render(lo)
    # prompt length shrinks as the start moves forward: find the earliest start that fits
    while lo < hi:
        mid = (lo + hi) // 2
        if count_tokens(tokenizer, render(mid)) <= max_prompt_tokens:
            hi = mid
        else:
            lo = mid + 1
    return render(hi)


def trim_messages(history: Sequence[dict], *, max_chars: int, system: str | None = None,
                  max_turns: int | None = None, time_line: str | None = None) -> list[dict]:
    """For an endpoint that applies its own template (no local tokenizer): same trimming, by characters."""
    turns = _check_history(history)
    turns = turns[window_start(len(turns), max_turns):]
    while len(turns) > 1 and sum(len(t["content"]) for t in turns) > max_chars:
        turns = turns[1:]
    return ([{"role": "system", "content": system}] if system else []) + turns + \
        ([{"role": "system", "content": time_line}] if time_line else [])


def turn_markers(tokenizer) -> list[str]:
    """Text that means the bot's turn is over: the EOS token and a new line opening anyone's turn.

    Read off the template itself (rendering sentinel messages), so it holds for any template an
    adapter carries: lib.models' speaker-tagged lines ("\n상대:", "\n나:") or ChatML-style tags.
    """
    u1, a1, u2 = "\x01U\x01", "\x01A\x01", "\x01V\x01"
    markers: list[str] = []
    eos = getattr(tokenizer, "eos_token", None)
    if eos:
        markers.append(eos)
    try:
        three = _render(tokenizer, [{"role": "user", "content": u1}, {"role": "assistant", "content": a1},
                                    {"role": "user", "content": u2}], False)
        opening = _render(tokenizer, [{"role": "user", "content": u1}], True)
    except Exception:  # a template that cannot render this shape: EOS alone still stops generation
        return markers
    her_opening = three.split(a1, 1)[1].split(u2, 1)[0]      # end of my turn + her tag
    my_opening = opening.split(u1, 1)[1]                      # end of her turn + my tag
    for between in (her_opening, my_opening):
        if eos:
            between = between.replace(eos, "\n")
        lines = [ln.strip() for ln in between.strip().splitlines() if ln.strip()]
        if lines and len(lines[-1]) >= 2 and "\n" + lines[-1] not in markers:
            markers.append("\n" + lines[-1])
    return markers


def cut_at_markers(text: str, markers: Sequence[str]) -> tuple[str, bool]:
    """Text before the first marker, and whether a marker was found (the turn ended there)."""
    cut = min((i for i in (text.find(m) for m in markers if m) if i >= 0), default=-1)
    return (text, False) if cut < 0 else (text[:cut], True)


def clean_reply(text: str, markers: Sequence[str] | None = None) -> str:
    """Raw model output -> the reply as stored in history: cut at the end of the turn, bubbles
    stripped, blank lines dropped. Default markers: lib.models' speaker tags (base and instruct)."""
    if markers is None:
        markers = DEFAULT_MARKERS
    return join_bubbles(split_bubbles(cut_at_markers("\n" + str(text), markers)[0]))


# ---------------------------------------------------------------------------------------- chatbot

class Chatbot:
    """Guarded replies from any `lib.backends` backend (`.stream`, `.generate`, `.tokenizer`).

    `generation` overrides DEFAULT_GENERATION (temperature, top_p, repetition_penalty,
    max_new_tokens, n_candidates, max_attempts). `time_context=False` leaves the time line out (a run
    trained with the profile's `time_context: false`). `.stats` counts rejections per reason; `.last`
    describes the last reply (time line, attempts, rejected candidates, whether the fallback was used).
    """

    def __init__(self, backend, *, generation: dict | None = None, system: str | None = None,
                 max_prompt_tokens: int | None = None, max_turns: int | None = 7, repeat_window: int = 4,
                 fallback: Sequence[str] = FALLBACK_REPLIES, time_context: bool = True):
        self.backend = backend
        self.generation = self._merge(DEFAULT_GENERATION, generation)
        self.system = system
        self.time_context = time_context
        self.max_turns = max_turns            # lib.dataset's context_turns (6) + her last message
        self.repeat_window = repeat_window    # how many of the bot's own turns a reply may not repeat
        self.fallback = tuple(fallback) or FALLBACK_REPLIES
        self.tokenizer = getattr(backend, "tokenizer", None)
        # a chat endpoint applies its own template; lib.models' tags still mark a leaked next turn
        self.markers = turn_markers(self.tokenizer) if self.tokenizer is not None else DEFAULT_MARKERS
        self._max_prompt_tokens = max_prompt_tokens
        self.stats: Counter = Counter()
        self.last: dict = {}

    # ---- configuration
    @staticmethod
    def _merge(base: dict, override: dict | None) -> dict:
        gen = dict(base)
        for key, value in (override or {}).items():
            if key not in DEFAULT_GENERATION:
                raise ValueError(f"unknown generation setting {key!r}; expected one of {sorted(DEFAULT_GENERATION)}")
            if value is not None:
                gen[key] = value
        if not 0 <= float(gen["temperature"]) <= 5:
            raise ValueError(f"temperature must be in [0, 5], got {gen['temperature']!r}")
        if not 0 < float(gen["top_p"]) <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {gen['top_p']!r}")
        if float(gen["repetition_penalty"]) <= 0:
            raise ValueError(f"repetition_penalty must be > 0, got {gen['repetition_penalty']!r}")
        for key in ("max_new_tokens", "n_candidates", "max_attempts"):
            gen[key] = int(gen[key])
            if gen[key] < 1:
                raise ValueError(f"{key} must be >= 1, got {gen[key]!r}")
        return gen

    def max_prompt_tokens(self, max_new_tokens: int) -> int:
        """Explicit budget, else the model's context minus the reply (capped: long prompts are slow on CPU)."""
        if self._max_prompt_tokens:
            return int(self._max_prompt_tokens)
        context = getattr(self.backend, "context_length", None) or getattr(self.tokenizer, "model_max_length", None)
        if not context or context > 100_000:   # HF's "unset" sentinel is 1e30
            context = 2048
        return max(32, min(1024, int(context) - max_new_tokens))

    # ---- prompt and backend calls
    def time_line(self, history: Sequence[dict], *, tz=None, now=None) -> str | None:
        """lib.template's time line for her last turn, or None (no times, or time_context off)."""
        moment = her_moment(history, tz=tz, now=now) if self.time_context else None
        return time_line(*moment) if moment else None

    def prompt(self, history: Sequence[dict], max_new_tokens: int | None = None, *, tz=None, now=None):
        """What the backend receives: a template-rendered string, or messages for a remote chat endpoint."""
        budget = self.max_prompt_tokens(max_new_tokens or self.generation["max_new_tokens"])
        when = self.time_line(history, tz=tz, now=now)
        if self.tokenizer is None:
            return trim_messages(history, max_chars=2 * budget, system=self.system, max_turns=self.max_turns,
                                 time_line=when)
        return build_prompt(self.tokenizer, history, max_prompt_tokens=budget, system=self.system,
                            max_turns=self.max_turns, time_line=when)

    def _sampling(self, gen: dict, method, attempt: int = 0) -> dict:
        kw = {k: gen[k] for k in SAMPLING_KEYS}
        if attempt and kw["temperature"] <= 0:
            kw["temperature"] = RETRY_TEMPERATURE    # greedy would only write the rejected reply again
        try:
            params = inspect.signature(method).parameters
        except (TypeError, ValueError):
            params = {}
        if self.markers and ("stop" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())):
            kw["stop"] = list(self.markers)
        return kw

    # ---- guarded replies
    def _context(self, history: Sequence[dict]) -> tuple[str, list[str]]:
        turns = _check_history(history)
        bot_turns = [t["content"] for t in turns if t["role"] == "assistant"][-self.repeat_window:]
        return turns[-1]["content"], bot_turns

    def _vet(self, lines: Iterable[str], her: str, bot_turns: list[str], shown: list[str]) -> Iterator[str]:
        """Yield the acceptable bubbles of one candidate; raise _Rejected if its first bubble fails."""
        for line in lines:
            bubble = mask_reply(line.strip())   # a memorised or made-up phone/card/account number never shows
            if is_empty(bubble):     # a blank line or a lone (사진) tag: nothing to show, not a failure
                continue
            reason = rejection_reason(bubble, her_msg=her, bot_turns=bot_turns, earlier=shown)
            if reason is not None:
                if not shown:
                    raise _Rejected(reason, bubble)
                self.stats[f"cut:{reason}"] += 1     # keep what was fine, end the reply here
                return
            shown.append(bubble)
            yield bubble
            if len(shown) >= MAX_BUBBLES:
                return

    def _fallback(self, bot_turns: list[str]) -> list[str]:
        self.stats["fallback"] += 1
        self.last["fallback"] = True
        for text in self.fallback:
            if not is_self_repeat(text, bot_turns) and not any(norm(text) == norm(t) for t in bot_turns[-1:]):
                return split_bubbles(text)
        return split_bubbles(self.fallback[-1])

    def _reject(self, err: "_Rejected") -> None:
        self.stats[err.reason] += 1
        self.last["rejected"].append((err.reason, err.text))

    def reply(self, history: Sequence[dict], generation: dict | None = None, *, tz=None, now=None) -> list[str]:
        """Bubbles for the bot's next turn; candidates are sampled `n_candidates` at a time. `tz`: her
        time zone (a tzinfo or an IANA name); `now`: her last message's time if it carries none."""
        gen = self._merge(self.generation, generation)
        her, bot_turns = self._context(history)
        prompt = self.prompt(history, gen["max_new_tokens"], tz=tz, now=now)
        self.last = {"time_line": self.time_line(history, tz=tz, now=now), "attempts": 0, "rejected": [],
                     "fallback": False}
        for attempt in range(gen["max_attempts"]):
            self.last["attempts"] += 1
            sampling = self._sampling(gen, self.backend.generate, attempt)
            n = gen["n_candidates"] if sampling["temperature"] > 0 else 1     # greedy: n copies of one reply
            for text in self.backend.generate(prompt, n=n, **sampling):
                shown: list[str] = []
                try:
                    bubbles = list(self._vet(self._lines([text]), her, bot_turns, shown))
                except _Rejected as err:
                    self._reject(err)
                    continue
                if bubbles:
                    return bubbles
                self._reject(_Rejected("empty", text))
        return self._fallback(bot_turns)

    def stream(self, history: Sequence[dict], generation: dict | None = None, *, tz=None,
               now=None) -> Iterator[str]:
        """Bubbles one at a time as the model writes them (a KakaoTalk reply arrives bubble by bubble).

        A candidate is dropped silently while nothing of it has been shown; once a bubble is out,
        a failing later bubble just ends the reply. `tz`, `now` as in `reply`.
        """
        gen = self._merge(self.generation, generation)
        her, bot_turns = self._context(history)
        prompt = self.prompt(history, gen["max_new_tokens"], tz=tz, now=now)
        self.last = {"time_line": self.time_line(history, tz=tz, now=now), "attempts": 0, "rejected": [],
                     "fallback": False}
        shown: list[str] = []
        for attempt in range(gen["max_attempts"]):
            self.last["attempts"] += 1
            chunks = self.backend.stream(prompt, **self._sampling(gen, self.backend.stream, attempt))
            try:
                yield from self._vet(self._lines(chunks), her, bot_turns, shown)
            except _Rejected as err:
                self._reject(err)
                continue
            finally:
                close = getattr(chunks, "close", None)
                if close:
                    close()          # stops the backend's generation thread early
            if shown:
                return
            self._reject(_Rejected("empty", ""))
        yield from self._fallback(bot_turns)

    def _lines(self, chunks: Iterable[str]) -> Iterator[str]:
        """Complete lines from a stream of text pieces, ending at the first turn marker."""
        text, done = "", 0
        for chunk in chunks:
            text += chunk
            body, ended = cut_at_markers(text, self.markers)
            lines = body.split("\n")
            complete = lines if ended else lines[:-1]     # the last piece may still grow
            yield from complete[done:]
            done = len(complete)
            if ended:
                return
        yield from cut_at_markers(text, self.markers)[0].split("\n")[done:]


class _Rejected(Exception):
    def __init__(self, reason: str, text: str):
        super().__init__(reason)
        self.reason, self.text = reason, text


# -------------------------------------------------------------------------------------------- CLI
def main(argv=None) -> int:
    """Chat in the terminal with the same guards as the page (no Streamlit, nothing written to disk)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m lib.chat", description=main.__doc__)
    ap.add_argument("--backend", default="local", choices=["local", "llamacpp", "remote"])
    ap.add_argument("--adapter", help="local: adapter run (default: the newest in outputs/adapters)")
    ap.add_argument("--gguf"), ap.add_argument("--tokenizer"), ap.add_argument("--threads", type=int)
    ap.add_argument("--base-url"), ap.add_argument("--model"), ap.add_argument("--api-key")
    ap.add_argument("--temperature", type=float), ap.add_argument("--max-new-tokens", type=int)
    a = ap.parse_args(argv)
    spec = {k: v for k, v in {"backend": a.backend, "adapter": a.adapter, "gguf": a.gguf, "tokenizer": a.tokenizer,
                              "threads": a.threads, "base_url": a.base_url, "model": a.model,
                              "api_key": a.api_key}.items() if v is not None}
    if a.backend == "local" and "adapter" not in spec:
        spec["adapter"] = str(runs.latest())
    bot = Chatbot(open_backend(spec), generation={"temperature": a.temperature, "max_new_tokens": a.max_new_tokens})
    history: list[dict] = []
    print("빈 줄로 끝내요. (empty line quits)")
    while True:
        try:
            text = input("너> ").strip()
        except EOFError:
            break
        if not text:
            break
        history.append({"role": "user", "content": text, "time": datetime.now().astimezone().isoformat()})
        bubbles = []
        for bubble in bot.stream(history):
            print(f"봇> {bubble}", flush=True)
            bubbles.append(bubble)
        history.append({"role": "assistant", "content": join_bubbles(bubbles),
                        "time": datetime.now().astimezone().isoformat()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
