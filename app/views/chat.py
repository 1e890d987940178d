"""The chat: KakaoTalk-style bubbles, the conversation her browser keeps, his replies bubble by bubble with
the pauses he really leaves, and her real name wherever the model writes the pseudonym it learned."""
import random
import time
from html import escape

import streamlit as st

import common
from lib import pacing
from lib.guards import join_bubbles, split_bubbles

# why a written reply was thrown away (lib.guards reasons), as she would say it
REASONS = {"empty": "빈 답", "echo": "따라 하기", "repeat": "했던 말 반복", "loop": "같은 말 되풀이",
           "fallback": "대신 보낸 짧은 답"}

ss = st.session_state
NAME = common.bot_name()
AVATAR = common.avatar_html(common.setting("bot_avatar"))
bot, lock = common.get_chatbot()                # loads once per server, spinner meanwhile
display, to_model = common.name_maps()          # pseudonyms the model knows <-> the real names
messages = common.restore_history()             # {"role", "content", "time"}: her browser keeps them
filtered = ss.setdefault("filtered", {})        # this conversation's thrown-away replies, by reason
tz = common.local_zone()

if text := st.chat_input("메시지 입력", max_chars=1000, submit_mode="disable"):
    if text.strip():
        messages.append({"role": "user", "content": text.strip(), "time": common.now_iso()})
        ss.pop("_failed", None)
        st.rerun()          # her message reaches her browser's storage (next run, top) before he answers

with st.container(horizontal=True, vertical_alignment="center", horizontal_alignment="distribute", key="kt_top"):
    st.markdown(f'<div class="kt kt-top">{AVATAR}<div>{escape(NAME)}<small>보통 바로 답장해요</small></div></div>',
                unsafe_allow_html=True)
    st.button("새 대화", icon=":material/refresh:", type="tertiary", on_click=common.new_conversation)

with st.expander("설정", icon=":material/tune:"):
    g = bot.generation
    settings = {
        "temperature": st.slider("창의성", 0.1, 1.5, float(g["temperature"]), 0.05,
                                 help="높을수록 다양하게, 낮을수록 무난하게 답해요"),
        "top_p": st.slider("단어 고르는 폭", 0.5, 1.0, float(g["top_p"]), 0.01,
                           help="낮을수록 흔한 말만 골라요"),
        "repetition_penalty": st.slider("반복 억제", 1.0, 1.5, float(g["repetition_penalty"]), 0.01,
                                        help="높을수록 같은 말을 덜 해요"),
        "max_new_tokens": st.slider("최대 길이 (토큰)", 8, 256, int(g["max_new_tokens"]), 8),
        "max_attempts": st.slider("다시 쓰기 횟수", 1, 6, int(g["max_attempts"]),
                                  help="따라 하기·반복·빈 답을 버리고 다시 쓰는 최대 횟수"),
    }
    cap = float(common.setting("pace_cap_s", pacing.DEFAULT_CAP_S))
    paced = st.toggle("그 사람처럼 쉬었다가 보내기", value=common.flag("pacing", True),
                      help=f"말풍선 사이에 실제 대화에서 쉬던 만큼 (최대 {cap:g}초) 기다렸다가 보내요")
    if filtered:
        st.caption("이 대화에서 거른 답: " + ", ".join(f"{REASONS.get(k, k)} {v}번" for k, v in sorted(filtered.items())))
    else:
        st.caption("이 대화에서 거른 답: 없음")
    st.caption("대화는 이 휴대폰의 브라우저에만 저장돼요. 로그아웃하면 지워져요."
               + (" (관리자가 대화 기록을 켜 두었어요.)" if common.flag("log_chats") else ""))
    st.page_link("views/blind.py", label="진짜 답장 찾기 (블라인드 테스트)", icon="🕵️")
    if common.setting("app_password"):
        st.button("로그아웃", on_click=common.logout)

chat = st.container()
with chat:
    if not messages:
        st.markdown(f'<div class="kt kt-empty">{AVATAR}<b>{escape(NAME)}</b>에게 메시지를 보내 보세요</div>',
                    unsafe_allow_html=True)
    day = None
    for m in messages:
        if common.date_divider(m["time"], tz) != day:
            day = common.date_divider(m["time"], tz)
            st.markdown(day, unsafe_allow_html=True)
        bubbles = [m["content"]] if m["role"] == "user" else split_bubbles(m["content"])
        st.markdown(common.turn_html(m["role"], bubbles, m["time"], tz, name=NAME, avatar=AVATAR),
                    unsafe_allow_html=True)

# His reply is the last word (just written, or her stored chat came back): while she types, llama.cpp reads
# the next prompt's start, so her next message costs only its own tokens.
if messages and messages[-1]["role"] == "assistant" and ss.get("_primed") != len(messages):
    ss["_primed"] = len(messages)
    common.prime_next_turn(bot, lock, [{"role": m["role"], "content": to_model(m["content"])} for m in messages],
                           settings)

# Her last message has no answer yet (just sent, or she reloaded while he was writing): answer it.
if messages and messages[-1]["role"] == "user" and ss.get("_failed") != len(messages):
    with chat:
        slot = st.empty()
        slot.markdown(common.turn_html("assistant", [], None, tz, name=NAME, avatar=AVATAR, typing=True),
                      unsafe_allow_html=True)
    history = [{"role": m["role"], "content": to_model(m["content"]), "time": m["time"]} for m in messages]
    kw = {"generation": settings, "tz": tz}   # the time line reads her clock
    shown, waiting, rng = [], [], random.Random()
    next_at = 0.0

    def show(bubble: str) -> None:
        shown.append(display(bubble))           # her real name where the model wrote the pseudonym
        slot.markdown(common.turn_html("assistant", shown, None, tz, name=NAME, avatar=AVATAR, typing=True),
                      unsafe_allow_html=True)   # the dots stay until the turn ends

    def show_due(wait: bool) -> None:
        """Show waiting bubbles whose pause is over; with `wait`, sleep through the pauses."""
        global next_at
        while waiting and (wait or time.monotonic() >= next_at):
            time.sleep(max(0.0, next_at - time.monotonic()))
            show(waiting.pop(0))
            next_at = time.monotonic() + (pacing.draw(common.run_meta().get("pacing"), rng.random(), cap)
                                          if paced else 0.0)

    try:
        with lock:                              # one generation at a time on this server; no sleeping inside
            for bubble in bot.stream(history, **kw):
                waiting.append(bubble)
                show_due(wait=False)
            last = dict(bot.last)
        show_due(wait=True)
    except Exception as err:                    # e.g. the remote server or tunnel is down: say so, keep her text
        slot.empty()
        ss["_failed"] = len(messages)
        with chat:
            st.error(f"답장을 받지 못했어요 ({type(err).__name__}). 잠시 후 다시 보내 주세요.")
        st.stop()
    for reason, _ in last.get("rejected", []):
        filtered[reason] = filtered.get(reason, 0) + 1
    if last.get("fallback"):
        filtered["fallback"] = filtered.get("fallback", 0) + 1
    messages.append({"role": "assistant", "content": join_bubbles(shown), "time": common.now_iso()})
    common.log_turn(messages)
    st.rerun()                                  # redraw from history: times, the settings' counts, storage
