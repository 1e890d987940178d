"""The blind test: her messages with two replies, one really his and one the bot's; she picks the real one
and sees her score at the end. The answer key never leaves the server before that.

Questions: blind_pairs.json, uploaded by `python -m lib.export push` to the private repo's root and
downloaded like the GGUF (`repo` + `token`); else the path in the `blind_pairs` setting, else the local
outputs/report/blind_pairs.json (`python -m lib.evaluate blind`). With `blind_live = true` the bot's
side is written fresh by the served bot; with `log_blind = true` her picks (no texts) are kept for him.
"""
import hashlib
from pathlib import Path

import streamlit as st

import common
from lib import blind, config
from lib.guards import join_bubbles, split_bubbles

ss = st.session_state
NAME = common.bot_name()


def pairs_file() -> Path | None:
    """Where the questions are: the `blind_pairs` setting, the private repo, this machine's report."""
    if common.setting("blind_pairs"):
        return Path(str(common.setting("blind_pairs")))
    return common.hub_file(blind.PAIRS_FILE) or (config.report() / blind.PAIRS_FILE)


st.page_link("views/chat.py", label="대화로 돌아가기", icon=":material/arrow_back:")
st.markdown("### 진짜 답장 찾기 🕵️")
path = pairs_file()
try:
    pairs = blind.load_pairs(path)
except (FileNotFoundError, ValueError, OSError):
    st.info("아직 준비된 문제가 없어요. 조금만 기다려 주세요 🙂")
    st.stop()

display = common.name_maps()[0]          # her real name where the pairs hold the pseudonym
test = ss.setdefault("blind", {"picks": [], "live": {}, "saved": False})
picks, tz = test["picks"], common.local_zone()


def pick(choice: str) -> None:
    test["picks"].append(choice)


def restart() -> None:
    ss["blind"] = {"picks": [], "live": {}, "saved": False}


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


def bubbles(text: str) -> list[str]:
    return [display(b) for b in split_bubbles(text)]


if len(picks) < len(pairs):
    i = len(picks)
    p = options(i)
    st.progress(i / len(pairs), text=f"{i + 1} / {len(pairs)}")
    st.caption("내 메시지에 온 답장 두 개 중 하나는 진짜, 하나는 AI가 쓴 거예요. 정답은 마지막에 공개돼요.")
    for m in p["context"]:
        st.markdown(common.turn_html(m["role"], bubbles(m["content"]), None, tz, name=NAME), unsafe_allow_html=True)
    st.markdown("**어느 쪽이 진짜 답장일까요?**")
    for k in "ab":
        with st.container(border=True):
            st.markdown(common.turn_html("assistant", bubbles(p[k]), None, tz, name=k.upper()), unsafe_allow_html=True)
            st.button(f"{k.upper()}가 진짜", key=f"pick-{i}-{k}", on_click=pick, args=(k,), width="stretch")
else:
    right, total = blind.score(pairs, picks)
    if not test["saved"]:       # once per finished test; picks and score only, never a message
        test["saved"] = True
        common.log_blind({"time": common.now_iso(), "right": right, "total": total, "picks": picks,
                          "correct": [c == q["real"] for c, q in zip(picks, pairs)],
                          "pairs": hashlib.sha256(path.read_bytes()).hexdigest()[:12]})
    st.metric("맞힌 개수", f"{right} / {total}", help="찍으면 평균 절반을 맞혀요")
    st.success(blind.verdict(right, total))
    for i, (q, choice) in enumerate(zip(pairs, picks)):
        q = options(i)
        fake = "b" if q["real"] == "a" else "a"
        mark = "✅ 정답" if choice == q["real"] else "❌ 오답"
        st.markdown(f"**{i + 1}. {mark}** — 진짜는 {q['real'].upper()}  \n"
                    f"진짜: {' / '.join(bubbles(q[q['real']]))}  \nAI: {' / '.join(bubbles(q[fake]))}")
    st.button("다시 하기", on_click=restart, type="primary")
