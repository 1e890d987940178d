"""The page she opens on her phone: the password gate, then the chat (views/chat.py) or the blind test
(views/blind.py). Navigation stays out of sight: no sidebar, the pages link to each other.

    make app            # = streamlit run app/streamlit_app.py, with outputs/adapters/latest
Settings and deployment: .streamlit/secrets.toml.example and docs/DEPLOY.md.
"""
import streamlit as st

import common

st.set_page_config(page_title="말버릇", page_icon="💬", layout="centered", initial_sidebar_state="collapsed")
common.inject_css()
common.require_password()                       # nothing below runs until she is logged in

PAGES = [st.Page("views/chat.py", title="대화", icon="💬", default=True),
         st.Page("views/blind.py", title="진짜 답장 찾기", icon="🕵️", url_path="blind")]
st.navigation(PAGES, position="hidden").run()
