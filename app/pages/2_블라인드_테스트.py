"""Second page: the blind test. Her messages with two replies, one really his and one the bot's; she
picks the real one and sees her score at the end. The answer key never leaves the server before that.

Questions come from `python -m lib.evaluate blind` (outputs/report/blind_pairs.json, or the path in
the `blind_pairs` secret). With `blind_live = true` the bot's side is written fresh by the served bot.
"""
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # app/ (for `common`) when run directly
import common  # noqa: E402

from lib import blind, config  # noqa: E402
from lib.guards import join_bubbles, split_bubbles  # noqa: E402

st.set_page_config(page_title="진짜 답장 찾기", page_icon="🕵️", layout="centered", initial_sidebar_state="collapsed")
common.inject_css()
common.require_password()

path = Path(str(common.setting("blind_pairs", config.report() / blind.PAIRS_FILE)))
try:
    pairs = blind.load_pairs(path)
except FileNotFoundError:
    st.info("아직 블라인드 테스트가 없어요. 만든 사람이 `python -m lib.evaluate blind`를 실행하면 생겨요.")
    st.stop()

test = st.session_state.setdefault("blind", {"picks": [], "live": {}})
picks, tz = test["picks"], common.local_zone()


def pick(choice: str) -> None:
    test["picks"].append(choice)


def restart() -> None:
    st.session_state["blind"] = {"picks": [], "live": {}}


def options(i: int) -> dict:
    """The two replies shown for question i; with blind_live the bot's side comes from the served bot."""
    p = pairs[i]
    if not common.flag("blind_live"):
        return p
    fake = "b" if p["real"] == "a" else "a"
    if i not in test["live"]:
        bot, lock = common.get_chatbot()
        with lock, st.spinner("답장을 쓰는 중…"):
            test["live"][i] = join_bubbles(bot.reply(p["context"]))
    return {**p, fake: test["live"][i]}


st.markdown("### 진짜 답장 찾기 🕵️")
if len(picks) < len(pairs):
    i = len(picks)
    p = options(i)
    st.progress(i / len(pairs), text=f"{i + 1} / {len(pairs)}")
    st.caption("내 메시지에 온 답장 두 개 중 하나는 진짜, 하나는 AI가 쓴 거예요. 정답은 마지막에 공개돼요.")
    for m in p["context"]:
        st.markdown(common.turn_html(m["role"], split_bubbles(m["content"]), None, tz, name="그"),
                    unsafe_allow_html=True)
    st.markdown("**어느 쪽이 진짜 답장일까요?**")
    for k in "ab":
        with st.container(border=True):
            st.markdown(common.turn_html("assistant", split_bubbles(p[k]), None, tz, name=k.upper()),
                        unsafe_allow_html=True)
            st.button(f"{k.upper()}가 진짜", key=f"pick-{i}-{k}", on_click=pick, args=(k,), width="stretch")
else:
    right, total = blind.score(pairs, picks)
    st.metric("맞힌 개수", f"{right} / {total}", help="찍으면 평균 절반을 맞혀요")
    st.success(blind.verdict(right, total))
    for i, (q, choice) in enumerate(zip(pairs, picks)):
        q = options(i)
        fake = "b" if q["real"] == "a" else "a"
        mark = "✅ 정답" if choice == q["real"] else "❌ 오답"
        st.markdown(f"**{i + 1}. {mark}** — 진짜는 {q['real'].upper()}  \n"
                    f"진짜: {' / '.join(split_bubbles(q[q['real']]))}  \nAI: {' / '.join(split_bubbles(q[fake]))}")
    st.button("다시 하기", on_click=restart, type="primary")
