"""lib.chat: guards, regeneration, trimming, bubbles and the template round-trip with training.

The Chatbot tests drive a scripted backend (the guard logic is what is under test); the prompt tests
use the tiny stand-in's real tokenizer and the project's chat template from lib.models.
"""
from __future__ import annotations

import pytest

from lib import chat, guards, models, template, tiny
from lib.chat import Chatbot, build_prompt
from lib.guards import is_echo, is_empty, is_loop, is_self_repeat, split_bubbles


@pytest.fixture(scope="module")
def tok():
    return models.load_tokenizer(tiny.ensure("tiny-neox"))


class ScriptedBackend:
    """Plays back canned model outputs (one per candidate) as `lib.backends` would produce them."""

    def __init__(self, outputs, tokenizer=None, chunk=2):
        self.outputs = list(outputs)
        self.tokenizer = tokenizer
        self.chunk = chunk
        self.prompts, self.closed, self.kwargs = [], 0, []

    def _next(self):
        if not self.outputs:
            raise AssertionError("the chatbot asked for more candidates than scripted")
        return self.outputs.pop(0)

    def generate(self, prompt, n=1, **gen):
        self.prompts.append(prompt)
        self.kwargs.append(gen)
        return [self._next() for _ in range(n)]

    def stream(self, prompt, **gen):
        self.prompts.append(prompt)
        self.kwargs.append(gen)
        text = self._next()
        try:
            for i in range(0, len(text), self.chunk):
                yield text[i:i + self.chunk]
        finally:
            self.closed += 1


HISTORY = [
    {"role": "user", "content": "오늘 회사에서 너무 힘들었어요"},
    {"role": "assistant", "content": "헐 왜ㅠㅠ\n무슨 일 있었어?"},
    {"role": "user", "content": "팀장님이 또 야근하라고 했어요 진짜"},
]


# ---------------------------------------------------------------------------------------- bubbles

def test_split_bubbles_inverts_the_dataset_join():
    turn = ["ㅋㅋㅋ", "아 진짜?", "나도 방금 봤어 😂"]
    assert split_bubbles("\n".join(turn)) == turn          # lib.dataset joins a turn's bubbles with "\n"
    assert split_bubbles("  ㅋㅋ \r\n\n\n 응 \n") == ["ㅋㅋ", "응"]
    assert guards.join_bubbles(split_bubbles("a\n\n b ")) == "a\nb"
    assert split_bubbles("") == []


# ----------------------------------------------------------------------------------------- guards

def test_echo_catches_parroting_but_lets_short_answers_through():
    her = "오늘 저녁에 뭐 먹을지 정했어요?"
    assert is_echo("오늘 저녁에 뭐 먹을지 정했어요?", her)
    assert is_echo("오늘 저녁에 뭐 먹을지 정했어요 ㅋㅋ", her)
    assert is_echo("오늘 저녁에 뭐 먹을지 정했어", her)                 # near copy
    assert is_echo("배고프다고요", "밥 먹었어요?\n배고프다고요")       # one of her bubbles
    assert not is_echo("아직 ㅋㅋ 너는 뭐 먹고 싶어?", her)
    assert not is_echo("잘자", "잘자")                                 # answered in kind, not an echo
    assert not is_echo("", her)


def test_self_repeat_against_recent_bot_turns_and_their_bubbles():
    bot = ["헐 왜ㅠㅠ\n무슨 일 있었어?", "오늘 진짜 덥다"]
    assert is_self_repeat("무슨 일 있었어?", bot)
    assert is_self_repeat("오늘 진짜 덥다!!", bot)
    assert not is_self_repeat("그래서 어떻게 됐어?", bot)
    assert not is_self_repeat("ㅋㅋ", ["ㅋㅋ"])                        # laughing twice is fine


def test_loop_detection():
    assert is_loop("ㅋ" * 60)
    assert is_loop("배고파 배고파 배고파 배고파 배고파")
    assert is_loop("나도 보고 싶어 나도 보고 싶어 나도 보고 싶어")
    assert is_loop("알겠어\n알겠어\n알겠어")
    assert not is_loop("ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ")
    assert not is_loop("ㅠㅠㅠㅠ 보고싶다")
    assert not is_loop("😂😂😂😂😂😂")
    assert not is_loop("ㅋㅋ ㅋㅋ ㅋㅋ ㅋㅋ")
    assert not is_loop("오늘 뭐 했어? 나는 집에서 쉬었어")


def test_empty_detection():
    assert is_empty("") and is_empty("   \n ") and is_empty("\u200b")
    assert is_empty("<전화번호>") and is_empty("(사진)") and is_empty(" (이모티콘) ")
    assert not is_empty("ㅋ") and not is_empty("?") and not is_empty("😂")


# ---------------------------------------------------------------------------------- regeneration

def test_reply_rejects_echo_repeat_loop_empty_and_regenerates():
    outputs = [" 팀장님이 또 야근하라고 했어요 진짜",     # echo
               " 무슨 일 있었어?",                        # repeats its own last turn
               " 힘들다 힘들다 힘들다 힘들다 힘들다",      # loop
               " \n (사진)",                             # nothing to show
               " 헐 미쳤다\n오늘 또?? ㅠㅠ\n상대: 네",      # fine; her next turn must be cut off
               " 이건 안 쓰여"]
    backend = ScriptedBackend(outputs)
    bot = Chatbot(backend, generation={"n_candidates": 2, "max_attempts": 3})
    assert bot.reply(HISTORY) == ["헐 미쳤다", "오늘 또?? ㅠㅠ"]
    assert bot.last["attempts"] == 3 and not bot.last["fallback"]
    assert [r for r, _ in bot.last["rejected"]] == ["echo", "repeat", "loop", "empty"]
    assert bot.stats == {"echo": 1, "repeat": 1, "loop": 1, "empty": 1}
    assert [len(p) for p in backend.prompts] == [3, 3, 3]     # remote-style: trimmed messages, 3 rounds


def test_all_candidates_failing_gives_a_fallback_that_does_not_repeat_itself():
    history = HISTORY[:2] + [{"role": "assistant", "content": chat.FALLBACK_REPLIES[0]},
                             {"role": "user", "content": "팀장님이 또 야근하라고 했어요 진짜"}]
    backend = ScriptedBackend([" 팀장님이 또 야근하라고 했어요 진짜"] * 4)
    bot = Chatbot(backend, generation={"n_candidates": 2, "max_attempts": 2})
    bubbles = bot.reply(history)
    assert bot.last["fallback"] and bot.stats["fallback"] == 1
    assert bubbles == split_bubbles(chat.FALLBACK_REPLIES[1])


def test_stream_yields_bubbles_one_by_one_and_regenerates_silently():
    backend = ScriptedBackend([" 팀장님이 또 야근하라고 했어요 진짜\n", " 헐 미쳤다\n오늘 또??\n오늘 또??\n아니"])
    bot = Chatbot(backend)
    it = bot.stream(HISTORY)
    assert next(it) == "헐 미쳤다"                   # the echo candidate was never shown
    assert list(it) == ["오늘 또??"]                  # a bubble repeating the previous one ends the reply
    assert bot.last["rejected"] == [("echo", "팀장님이 또 야근하라고 했어요 진짜")]
    assert bot.stats["cut:loop"] == 1
    assert backend.closed == 2                         # both generations were stopped, not run to the end


def test_a_generated_number_or_email_reaches_her_as_a_token():
    """A model can reproduce a number it memorised or make one up: she sees <전화번호>, never the digits."""
    said = "내 번호 010-2847-3391 이야\n메일은 hong.gildong@gmail.com 으로\n카뱅 3333-02-8841276"
    shown = ["내 번호 <전화번호> 이야", "메일은 <이메일> 으로", "카뱅 <계좌>"]
    assert Chatbot(ScriptedBackend([said]), generation={"n_candidates": 1}).reply(HISTORY) == shown
    assert list(Chatbot(ScriptedBackend([said], chunk=3)).stream(HISTORY)) == shown
    assert guards.mask_reply("주민번호 960312-2345678 맞아? 3시 30분에 2번 출구") == "주민번호 <주민번호> 맞아? 3시 30분에 2번 출구"


def test_stream_stops_at_the_turn_marker_and_eos(tok):
    backend = ScriptedBackend([f" 응응\n금방 갈게{tok.eos_token}\n상대: 빨리 와", " 뭐해\n상대: 아무것도"],
                              tokenizer=tok, chunk=3)
    bot = Chatbot(backend, generation={"max_new_tokens": 16})
    assert list(bot.stream(HISTORY)) == ["응응", "금방 갈게"]
    assert list(bot.stream(HISTORY)) == ["뭐해"]
    assert isinstance(backend.prompts[0], str) and backend.prompts[0].endswith("나:")
    assert backend.kwargs[0]["max_new_tokens"] == 16 and backend.kwargs[0]["temperature"] == 0.8


def test_greedy_retries_sample_instead_of_repeating_the_rejected_reply():
    backend = ScriptedBackend([" 팀장님이 또 야근하라고 했어요 진짜", " 헐 또??", " 가", " 나", " 다"])
    bot = Chatbot(backend, generation={"temperature": 0, "n_candidates": 4})
    assert bot.reply(HISTORY) == ["헐 또??"]                   # greedy asks for 1, the retry for 4
    assert backend.outputs == []
    assert [k["temperature"] for k in backend.kwargs] == [0, chat.RETRY_TEMPERATURE]


def test_generation_settings_are_validated():
    with pytest.raises(ValueError, match="unknown generation setting 'temp'"):
        Chatbot(ScriptedBackend([]), generation={"temp": 1.0})
    with pytest.raises(ValueError, match="top_p"):
        Chatbot(ScriptedBackend([]), generation={"top_p": 0})


# ----------------------------------------------------------------------------------------- prompt

def test_turn_markers_come_from_the_template(tok):
    markers = chat.turn_markers(tok)
    assert markers[0] == tok.eos_token
    assert set(template.STOP_STRINGS) <= set(markers)
    assert chat.clean_reply(" ㅋㅋ\n\n뭐해\n상대: 안녕") == "ㅋㅋ\n뭐해"


def test_build_prompt_trims_oldest_turns_to_the_budget(tok):
    history = []
    for i in range(12):
        history += [{"role": "user", "content": f"{i}번째 질문이에요 오늘 날씨 어때요"},
                    {"role": "assistant", "content": f"{i}번째 대답\n좋아 ㅋㅋ"}]
    history.append({"role": "user", "content": "마지막 메시지예요"})
    full = build_prompt(tok, history, max_prompt_tokens=100_000)
    assert full.startswith("상대: 0번째") and full.endswith("상대: 마지막 메시지예요\n나:")
    budget = 80
    short = build_prompt(tok, history, max_prompt_tokens=budget)
    assert chat.count_tokens(tok, short) <= budget and short.endswith("마지막 메시지예요\n나:")
    assert full.endswith(short)                                  # only whole old turns dropped
    # the earliest start that fits: one more turn would break the budget
    kept = next(i for i in range(len(history)) if build_prompt(tok, history[i:], max_prompt_tokens=100_000) == short)
    assert kept > 0 and chat.count_tokens(tok, build_prompt(tok, history[kept - 1:], max_prompt_tokens=100_000)) > budget
    # her last message is never cut, even when it alone is over budget
    huge = "아주 긴 메시지 " * 100
    assert build_prompt(tok, history + [{"role": "user", "content": huge}], max_prompt_tokens=10) \
        == f"상대: 마지막 메시지예요\n{huge.strip()}\n나:"       # (her two messages are one turn)
    # max_turns keeps the training context size
    assert build_prompt(tok, history, max_prompt_tokens=100_000, max_turns=3).startswith("상대: 11번째")


def test_window_keeps_the_prompt_start_for_two_rounds_so_the_prefix_cache_is_reused(tok):
    history, prompts = [], []
    for i in range(14):
        history.append({"role": "user", "content": f"{i}번째 질문이에요"})
        prompts.append(build_prompt(tok, history, max_prompt_tokens=100_000, max_turns=7))
        history.append({"role": "assistant", "content": f"{i}번째 대답 ㅋㅋ"})
    kept = [p.count("상대:") + p.count("\n나:") - 1 for p in prompts]   # turns in each prompt
    assert all(t <= 7 for t in kept) and all(t >= 4 for t in kept[3:]), kept
    assert all(p.startswith("상대:") for p in prompts)                   # always opens on her turn
    later = list(zip(prompts[4:], prompts[5:]))
    extended = sum(nxt.startswith(prev) for prev, nxt in later)       # same start = cached prefix reused
    assert extended >= len(later) // 2, kept
    assert [chat.window_start(n, 7) for n in (7, 9, 11, 13, 15)] == [0, 4, 4, 8, 8]


def test_build_prompt_rejects_bad_history(tok):
    with pytest.raises(ValueError, match="end with her message"):
        build_prompt(tok, HISTORY[:2], max_prompt_tokens=100)
    with pytest.raises(ValueError, match=r"history\[0\]"):
        build_prompt(tok, [{"role": "her", "content": "x"}], max_prompt_tokens=100)
    with pytest.raises(ValueError, match="non-empty list"):
        build_prompt(tok, [], max_prompt_tokens=100)


def test_template_round_trip_with_training(tok):
    """The prompt the app builds is exactly the training rendering up to where my reply starts."""
    system = "이도윤처럼 답해"
    target = "헐 진짜?\n그래서 갔어?"
    prompt = build_prompt(tok, HISTORY, max_prompt_tokens=4096, system=system)
    messages = [{"role": "system", "content": system}, *HISTORY, {"role": "assistant", "content": target}]
    trained = tok.apply_chat_template(messages, tokenize=False)
    assert trained == prompt + " " + target + tok.eos_token
    # and at token level the prompt is a prefix of the training ids, with the reply after it
    ids = tok.apply_chat_template(messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    assert ids["input_ids"][:len(p_ids)] == p_ids
    assert ids["assistant_masks"].index(1) == len(p_ids)          # training scores exactly what we generate
    # consecutive bubbles from her side are merged into one turn, as lib.dataset does
    split = [{"role": "user", "content": "밥 먹었어요?"}, {"role": "user", "content": "배고파요"}]
    assert build_prompt(tok, split, max_prompt_tokens=100) == "상대: 밥 먹었어요?\n배고파요\n나:"


# -------------------------------------------------------------------------------------- time line

TIMED = [  # as the page stores them: one UTC time per message
    {"role": "user", "content": "오빠 점심 뭐 먹어요?", "time": "2025-03-03T03:00:00+00:00"},   # Mon 12:00 in Seoul
    {"role": "assistant", "content": "아직 몰라", "time": "2025-03-03T03:01:00+00:00"},
    {"role": "user", "content": "오빠?", "time": "2025-03-03T08:01:00+00:00"},                # 17:01, 5 h later
    {"role": "user", "content": "바빠요?", "time": "2025-03-03T08:04:00+00:00"},              # the same turn
]


def test_the_prompt_opens_with_her_time_and_the_silence_before_her_message(tok):
    """Issue 14: the page passes her phone's zone; the time line is her local weekday and hour and the
    hours since the message before her last turn, right before the reply as the training rows have it."""
    backend = ScriptedBackend(["미안 이제 봤어", "미안 ㅠ\n회의였어"], tokenizer=tok)
    bot = Chatbot(backend, generation={"n_candidates": 1}, system="이도윤처럼 답해")
    assert bot.reply(TIMED, tz="Asia/Seoul") == ["미안 이제 봤어"]
    assert backend.prompts[-1] == (f"### 이도윤처럼 답해\n상대: 오빠 점심 뭐 먹어요?\n나: 아직 몰라{tok.eos_token}\n"
                                   "상대: 오빠?\n바빠요?\n### [월 오후 5시 · 5시간 만]\n나:")
    assert bot.last["time_line"] == "[월 오후 5시 · 5시간 만]"
    assert list(bot.stream(TIMED, tz="Asia/Seoul")) == ["미안 ㅠ", "회의였어"]
    assert backend.prompts[-1] == backend.prompts[-2]
    # her zone decides the hour; without one, the stored offset does
    assert bot.time_line(TIMED, tz="America/New_York") == "[월 새벽 3시 · 5시간 만]"
    assert bot.time_line(TIMED) == "[월 아침 8시 · 5시간 만]"
    assert bot.time_line(TIMED[:3] + [{**TIMED[3], "time": "2025-03-03T08:02:00+00:00"}], tz="Asia/Seoul") \
        == "[월 오후 5시 · 5시간 만]"


def test_without_times_old_callers_get_the_old_prompt_and_now_stands_in_for_a_missing_time(tok):
    backend = ScriptedBackend(["ㅋㅋ"] * 3, tokenizer=tok)
    bot = Chatbot(backend, generation={"n_candidates": 1})
    bot.reply(HISTORY)
    assert backend.prompts[-1].endswith("진짜\n나:") and bot.last["time_line"] is None
    bot.reply(HISTORY, now="2025-03-08T23:30:00+09:00")
    assert backend.prompts[-1].endswith("진짜\n### [토 밤 11시]\n나:")      # no earlier time: no silence shown
    off = Chatbot(ScriptedBackend(["ㅋㅋ"], tokenizer=tok), generation={"n_candidates": 1}, time_context=False)
    off.reply(TIMED, tz="Asia/Seoul")
    assert "###" not in off.backend.prompts[-1]                        # a run trained without the line
    with pytest.raises(ValueError, match=r"history\[0\]\['time'\] must be an ISO 8601 time"):
        bot.reply([{"role": "user", "content": "뭐 해요", "time": "어제 밤"}])


def test_serving_and_training_write_the_same_time_line():
    """One chat, two routes: each dataset row's time line equals what the page would show if the chat
    up to her last message were its stored history (one message per record, times as stored)."""
    from lib import config, kakao, pairs

    df = kakao.read_chat(config.SAMPLE / "pc_ko.txt").head(1500)
    msgs = pairs.structure(df, "이도윤", "최서연")
    table, _, _, window = pairs.make_pairs(pairs.turns_table(msgs, msgs["text"].to_numpy(dtype=object)),
                                           with_turns=True)
    records = [{"role": r, "content": t, "time": ts.isoformat()} for r, t, ts in zip(msgs["role"], msgs["text"], msgs["time"])]
    turn = msgs["turn"].to_numpy()
    bot = Chatbot(ScriptedBackend([]))
    rows = table.column("messages").to_pylist()
    assert len(rows) > 300
    for row, (_, mine) in zip(rows, window):
        shown = bot.time_line(records[:int((turn < mine).sum())])
        assert template.is_time_line(row[-2]) and shown == row[-2]["content"], (shown, row[-2])


def test_terminal_chat_against_a_fake_remote_server(monkeypatch, capsys):
    """`python -m lib.chat --backend remote ...`: the same guarded stream, in a terminal."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Server(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in (" 응 ", "나도\n", "배고파"):
                self.wfile.write(f"data: {json.dumps({'choices': [{'delta': {'content': piece}}]})}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    inputs = iter(["배고파요", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(inputs))
    try:
        assert chat.main(["--backend", "remote", "--base-url", f"http://127.0.0.1:{server.server_address[1]}/v1",
                          "--model", "m"]) == 0
    finally:
        server.shutdown()
        server.server_close()
    assert "봇> 응 나도\n봇> 배고파\n" in capsys.readouterr().out
