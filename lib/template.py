"""What the model reads: the chat template with speaker tags, the stop strings that end a reply, and the
tags that stand for photos, emoticons and links. One definition shared by training, serving and evaluation.

A base model has no chat format, so turns are plain speaker-tagged lines:
    [### system line\\n]상대: 그녀의 말\\n나: 내 답<eos>\\n상대: ...\\n나: 내 답<eos>
The tag is followed by the content with a leading space *inside* the reply, so the prompt at inference
("...\\n나:") ends on the same token boundary as in training. Every assistant turn ends with EOS
(generation stops there); only the LAST assistant turn is inside {% generation %}, so context replies in
the history are not trained again and again.
"""
from __future__ import annotations

import json

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
