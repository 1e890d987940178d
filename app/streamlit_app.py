"""The page she opens on her phone: a KakaoTalk-style chat with the bot, behind a password.

    make app            # = streamlit run app/streamlit_app.py, with outputs/adapters/latest
Settings and deployment: .streamlit/secrets.toml.example and docs/DEPLOY.md.
"""
from html import escape

import streamlit as st

import common
from lib.guards import join_bubbles, split_bubbles

st.set_page_config(page_title="말버릇", page_icon="💬", layout="centered")
common.inject_css()
common.require_password()                       # nothing below runs until she is logged in

NAME = str(common.setting("bot_name", "말버릇"))
AVATAR = common.avatar_html(common.setting("bot_avatar"))
bot, lock = common.get_chatbot()                # loads once per server, spinner meanwhile
messages = st.session_state.setdefault("messages", [])   # {"role", "content", "time"}; memory only
tz = common.local_zone()


def new_conversation():
    st.session_state["messages"] = []


with st.container(horizontal=True, vertical_alignment="center", horizontal_alignment="distribute", key="kt_top"):
    st.markdown(f'<div class="kt kt-top">{AVATAR}<div>{escape(NAME)}<small>보통 바로 답장해요</small></div></div>',
                unsafe_allow_html=True)
    st.button("새 대화", icon=":material/refresh:", type="tertiary", on_click=new_conversation)

with st.expander("설정", icon=":material/tune:"):
    g = bot.generation
    settings = {
        "temperature": st.slider("창의성 (temperature)", 0.1, 1.5, float(g["temperature"]), 0.05,
                                 help="높을수록 다양하게, 낮을수록 무난하게 답해요"),
        "top_p": st.slider("top_p", 0.5, 1.0, float(g["top_p"]), 0.01),
        "repetition_penalty": st.slider("반복 억제 (repetition penalty)", 1.0, 1.5,
                                        float(g["repetition_penalty"]), 0.01),
        "max_new_tokens": st.slider("최대 길이 (토큰)", 8, 256, int(g["max_new_tokens"]), 8),
        "max_attempts": st.slider("다시 쓰기 횟수", 1, 6, int(g["max_attempts"]),
                                  help="따라 하기·반복·빈 답을 버리고 다시 쓰는 최대 횟수"),
    }
    if bot.stats:
        st.caption("거른 답: " + ", ".join(f"{k} {v}" for k, v in sorted(bot.stats.items())))
    st.caption(f"모델: `{common.backend_spec()['backend']}` · 대화는 "
               + ("기록돼요 (log_chats = true)" if common.flag("log_chats") else "저장되지 않아요"))
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

if text := st.chat_input("메시지 입력", max_chars=1000, submit_mode="disable"):
    text = text.strip()
    if text:
        messages.append({"role": "user", "content": text, "time": common.now_iso()})
        with chat:
            if len(messages) == 1:
                st.markdown(common.date_divider(messages[0]["time"], tz), unsafe_allow_html=True)
            st.markdown(common.turn_html("user", [text], messages[-1]["time"], tz), unsafe_allow_html=True)
            slot = st.empty()
            slot.markdown(common.turn_html("assistant", [], None, tz, name=NAME, avatar=AVATAR, typing=True),
                          unsafe_allow_html=True)
            history = [{"role": m["role"], "content": m["content"]} for m in messages]
            bubbles = []
            try:
                with lock:                      # one generation at a time on this server
                    for bubble in bot.stream(history, generation=settings):
                        bubbles.append(bubble)  # each bubble pops in, the dots stay until the turn ends
                        slot.markdown(common.turn_html("assistant", bubbles, None, tz, name=NAME, avatar=AVATAR,
                                                       typing=True), unsafe_allow_html=True)
            except Exception as err:            # e.g. the remote server or tunnel is down: say so, keep her text
                slot.empty()
                st.error(f"답장을 받지 못했어요 ({type(err).__name__}). 잠시 후 다시 보내 주세요.")
                st.stop()
        messages.append({"role": "assistant", "content": join_bubbles(bubbles), "time": common.now_iso()})
        common.log_turn(messages)
        st.rerun()                              # redraw from history: times, and the settings' stats
