"""What the model reads: the chat template with speaker tags, the time line, the stop strings that end a
reply, and the tags that stand for photos, emoticons and links. One definition for training, serving, eval.

A base model has no chat format, so turns are plain speaker-tagged lines:
    [### system line\\n]상대: 그녀의 말\\n나: 내 답<eos>\\n상대: ...\\n나: 내 답<eos>
The tag is followed by the content with a leading space *inside* the reply, so the prompt at inference
("...\\n나:") ends on the same token boundary as in training. Every assistant turn ends with EOS
(generation stops there); only the LAST assistant turn is inside {% generation %}, so context replies in
the history are not trained again and again.

The time line ([화 밤 11시 · 5시간 만]: weekday and hour of her last turn, hours of silence before it) is a
system line right before my reply, so the reply can fit the moment:
    상대: 오빠?\n### [화 오후 5시 · 5시간 만]\n나: 미안 이제 봤어<eos>
At the end, not the top: it is the time of her last message, a small model attends to what is near, and
the prompt's start stays the same from turn to turn (llama.cpp reuses its cached prefix). lib.pairs fills
it from the chat, lib.chat from the page's message times (`her_moment`), lib.evaluate from the rows.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

ROLE_TAGS = {"system": "### ", "user": "상대:", "assistant": "나:"}
INSTRUCT_TAGS = {"system": "", "user": "Human:", "assistant": "Assistant:"}  # EEVE-Instruct's own format
EEVE_SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
               "The assistant gives helpful, detailed, and polite answers to the user's questions.")

# Non-text records become these tags in the dataset; a reply made only of them is not a target, and the
# app never shows one (she cannot see a photo the model "sent").
TAGS = {
    "photo": "(사진)", "video": "(동영상)", "emoticon": "(이모티콘)", "file": "(파일)",
    "audio": "(음성메시지)", "call": "(통화)", "deleted": "(삭제된 메시지)", "other": "(공유)",
}
SHARE_TAGS = {"송금": "(송금)", "지도": "(지도)"}  # KakaoTalk shares that keep their kind, not their details
URL_TAG = "<URL>"  # the anonymizer's token: one tag whichever pass caught the link


def stop_strings(tags: dict = ROLE_TAGS) -> list[str]:
    """Strings that end a reply besides EOS: the start of the next speaker-tagged line."""
    return ["\n" + tags["user"], "\n" + tags["assistant"]]


STOP_STRINGS = stop_strings(ROLE_TAGS)


# ------------------------------------------------------------------ the time line

TURN_GAP_MINUTES = 5      # same speaker within this gap = one turn of several bubbles (lib.pairs re-exports it)
WEEKDAYS = "월화수목금토일"
MIN_GAP_HOURS = 1         # a shorter silence is the conversation going on: the line shows no gap
# the part of the day as Korean says the time ("밤 11시", "아침 8시"): a word a small model keys on at once
PARTS = ((5, "새벽"), (10, "아침"), (12, "오전"), (13, "낮"), (18, "오후"), (21, "저녁"), (24, "밤"))
TIME_LINE_RE = re.compile(r"\[[월화수목금토일] (?:새벽|아침|오전|낮|오후|저녁|밤) \d{1,2}시(?: · \d+(?:시간|일) 만)?\]")


def time_line(when: datetime, gap_hours: float | None = None) -> str:
    """`[화 밤 11시 · 5시간 만]`: weekday, part of the day and hour of her last turn (local time, 12-hour
    clock), and the silence before it when an hour or more (whole hours; days from 48 h)."""
    part = next(name for end, name in PARTS if when.hour < end)
    line = f"[{WEEKDAYS[when.weekday()]} {part} {when.hour % 12 or 12}시"
    if gap_hours is not None and not (isinstance(gap_hours, float) and math.isnan(gap_hours)) \
            and gap_hours >= MIN_GAP_HOURS:
        line += f" · {int(gap_hours)}시간 만" if gap_hours < 48 else f" · {int(gap_hours // 24)}일 만"
    return line + "]"


def is_time_line(message: dict) -> bool:
    """Is this message the time line (a system message written by `time_line`)?"""
    return message.get("role") == "system" and bool(TIME_LINE_RE.fullmatch(message.get("content") or ""))


def _moment(value, tz: tzinfo | None, what: str) -> datetime | None:
    """An ISO 8601 string or a datetime -> datetime in `tz` (a naive one is taken as her local time)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{what} must be an ISO 8601 time like 2025-03-04T23:05:00+09:00, got {value!r:.60}") from None
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be an ISO 8601 string or a datetime, got {type(value).__name__}")
    if tz is not None:
        value = value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
    return value


def her_moment(history: Sequence[dict], *, tz: tzinfo | str | None = None,
               now: datetime | str | None = None) -> tuple[datetime, float | None] | None:
    """(local time of her last turn, hours of silence before it) from the messages' `time` keys, as
    lib.pairs measures them in a chat: her last turn = her trailing messages less than TURN_GAP_MINUTES
    apart; the silence = from the message before that turn. `now` stands in for her last message's time
    when it has none; None when neither is known (no time line then)."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    times = [_moment(m.get("time") if isinstance(m, dict) else None, tz, f"history[{i}]['time']")
             for i, m in enumerate(history)]
    if not times or not isinstance(history[-1], dict) or history[-1].get("role") != "user":
        return None
    if times[-1] is None:
        times[-1] = _moment(now, tz, "now")
        if times[-1] is None:
            return None
    j = len(times) - 1
    while (j > 0 and history[j - 1].get("role") == "user" and times[j - 1] is not None
           and timedelta(0) <= times[j] - times[j - 1] <= timedelta(minutes=TURN_GAP_MINUTES)):
        j -= 1
    gap = None
    if j > 0 and times[j - 1] is not None and (times[j].tzinfo is None) == (times[j - 1].tzinfo is None):
        gap = (times[j] - times[j - 1]).total_seconds() / 3600
    return times[j], gap


# ------------------------------------------------------------------ the chat template

def make_chat_template(tags: dict = ROLE_TAGS, default_system: str | None = None) -> str:
    """A Jinja chat template with speaker tags; see the module docstring for the format."""
    j = lambda s: json.dumps(s, ensure_ascii=False)  # noqa: E731 - a Jinja string literal
    system_default = (
        f"{{%- if messages[0]['role'] != 'system' -%}}{{{{ {j(tags['system'] + default_system + chr(10))} }}}}"
        "{%- endif -%}" if default_system else ""
    )
    return (
        "{%- set ns = namespace(last=-1) -%}"
        "{%- for m in messages -%}{%- if m['role'] == 'assistant' -%}{%- set ns.last = loop.index0 -%}"
        "{%- endif -%}{%- endfor -%}"
        + system_default +
        "{%- for m in messages -%}"
        "{%- if m['role'] == 'system' -%}"
        f"{{{{ {j(tags['system'])} + m['content'] + '\\n' }}}}"
        "{%- elif m['role'] == 'user' -%}"
        f"{{{{ {j(tags['user'])} + ' ' + m['content'] + '\\n' }}}}"
        "{%- elif m['role'] == 'assistant' -%}"
        f"{{{{ {j(tags['assistant'])} }}}}"
        "{%- if loop.index0 == ns.last -%}"
        "{% generation %}{{ ' ' + m['content'] + eos_token }}{% endgeneration %}"
        "{%- else -%}{{ ' ' + m['content'] + eos_token }}{%- endif -%}"
        "{%- if not loop.last -%}{{ '\\n' }}{%- endif -%}"
        "{%- else -%}{{ raise_exception('unknown role ' + m['role'] + ': expected system, user or assistant') }}"
        "{%- endif -%}"
        "{%- endfor -%}"
        f"{{%- if add_generation_prompt -%}}{{{{ {j(tags['assistant'])} }}}}{{%- endif -%}}"
    )


CHAT_TEMPLATE = make_chat_template(ROLE_TAGS)
