"""The blind test: her messages with two replies, one really mine and one the bot's; she picks the real one.
Owns the pairs file (blind_pairs.json, answer key included, for the app page) and the self-contained page.

The offline page is lib/blind_test.html with the questions, an obfuscated key and its salt filled in.
"""
from __future__ import annotations

import base64
import json
import random
from pathlib import Path

from lib import config, fileio

PAGE = Path(__file__).with_name("blind_test.html")
PAIRS_FILE = "blind_pairs.json"


def _norm(text: str) -> str:
    return " ".join(text.split())


def make_pairs(samples: list[dict], n: int = 12, seed: int = 0, system: str = "tuned",
                context_turns: int = 3) -> list[dict]:
    """n prompts with the real and the generated reply as `a`/`b` in seeded random order.

    `real` ("a" or "b") is the answer key: the Streamlit page keeps it on the server, the HTML page
    carries it only obfuscated (see `blind_test`). Pairs where the bot said nothing or repeated the
    real reply are skipped, they would not be a fair question.
    """
    ok = [s for s in samples if s[system].strip() and s["real"].strip() and _norm(s[system]) != _norm(s["real"])]
    if not ok:
        raise ValueError(f"no usable pairs: every {system!r} reply is empty or equal to the real one")
    rng = random.Random(seed)
    pick = sorted(rng.sample(range(len(ok)), min(n, len(ok))))
    pairs = []
    for i in pick:
        s = ok[i]
        ctx = [m for m in s["history"] if m["role"] in ("user", "assistant")][-context_turns:]
        real_first = rng.random() < 0.5
        a, b = (s["real"], s[system]) if real_first else (s[system], s["real"])
        pairs.append({"context": ctx, "a": a, "b": b, "real": "a" if real_first else "b"})
    return pairs


def score(pairs: list[dict], picks: list[str]) -> tuple[int, int]:
    """(right, total) for her picks ("a"/"b" per pair, in order)."""
    if len(picks) != len(pairs):
        raise ValueError(f"expected {len(pairs)} picks, got {len(picks)}")
    return sum(p == q["real"] for p, q in zip(picks, pairs)), len(pairs)


def _fnv1a(text: str) -> int:
    h = 0x811C9DC5
    for ch in text.encode("ascii"):
        h = ((h ^ ch) * 0x01000193) & 0xFFFFFFFF
    return h or 1


def _keystream(salt: str, n: int) -> list[int]:
    """xorshift32 seeded by FNV-1a(salt); the page's JS runs the same generator to decode."""
    x, out = _fnv1a(salt), []
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append(x & 0xFF)
    return out


def encode_key(answers: list[str], salt: str, seed: int = 0) -> str:
    """Answer key as base64 bytes: a random byte whose low bit says "b is real", XORed with the keystream."""
    rng = random.Random(f"{salt}:{seed}")
    raw = [(rng.randrange(256) & 0xFE) | (a == "b") for a in answers]
    return base64.b64encode(bytes(r ^ k for r, k in zip(raw, _keystream(salt, len(raw))))).decode()


def decode_key(key: str, salt: str) -> list[str]:
    data = base64.b64decode(key)
    return ["b" if (d ^ k) & 1 else "a" for d, k in zip(data, _keystream(salt, len(data)))]


def write_page(samples: list[dict], out: str | Path | None = None, *, n: int = 12,
               seed: int = 0, system: str = "tuned") -> Path:
    """Write the self-contained blind-test page (Korean UI, inline CSS/JS, works offline on a phone).

    The answer key is not in the page as readable text: the question data holds no hint of which reply
    is real, and the key is an XOR-obfuscated byte string decoded only after the last pick. That keeps
    the answers out of view-source, text search and a glance at the DOM; it is not encryption — anyone
    who reads the script can decode it (nothing that works offline in one file could stop that). The
    Streamlit page keeps the key on the server instead. Also writes blind_pairs.json (with the key)
    beside it, for that page.
    """
    out = Path(out) if out is not None else config.report() / "blind_test.html"
    pairs = make_pairs(samples, n=n, seed=seed, system=system)
    salt = random.Random(f"salt:{seed}:{len(pairs)}").getrandbits(64).to_bytes(8, "big").hex()
    public = [{"context": p["context"], "a": p["a"], "b": p["b"]} for p in pairs]
    page = (PAGE.read_text(encoding="utf-8")
            .replace("__DATA__", json.dumps(public, ensure_ascii=False).replace("</", "<\\/"))
            .replace("__KEY__", encode_key([p["real"] for p in pairs], salt, seed))
            .replace("__SALT__", salt))
    fileio.write_json(out.with_name(PAIRS_FILE), {"pairs": pairs, "system": system, "seed": seed})
    return fileio.write_text(out, page)


def load_pairs(path: str | Path | None = None) -> list[dict]:
    path = Path(path) if path is not None else config.report() / PAIRS_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    pairs = data.get("pairs") if isinstance(data, dict) else None
    if not pairs or not all({"context", "a", "b", "real"} <= set(p) for p in pairs):
        raise ValueError(f"{path}: expected {{'pairs': [{{context, a, b, real}}, ...]}} as written by `python -m lib.evaluate blind`")
    return pairs


VERDICTS = [  # (minimum share right, message) — 50% is what guessing gets
    (0.9, "역시! 진짜 말투를 정확히 알아보네요 🎉"),
    (0.7, "대부분 알아봤어요. 그래도 AI가 몇 번은 속였네요 😏"),
    (0.5, "반반이에요 — 찍은 것과 비슷해요. AI가 꽤 그럴듯했나 봐요 🤖"),
    (0.0, "AI 쪽을 더 진짜 같다고 골랐어요! 말투 흉내가 제법인가 봐요 😳"),
]


def verdict(right: int, total: int) -> str:
    share = right / total if total else 0.0
    return next(msg for lo, msg in VERDICTS if share >= lo)
