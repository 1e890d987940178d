"""What every page of the app shares: settings (st.secrets, then MALBEOT_* environment variables), the
password gate with her stay-signed-in cookie, the one Chatbot per server, names, pacing and the look.

    import common                      # app/ is on sys.path for the router and app/views/*
    common.require_password()          # nothing below this line runs until she is logged in
    bot, lock = common.get_chatbot()
"""
from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import os
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:       # `streamlit run app/...` puts only app/ on the path
    sys.path.insert(0, str(ROOT))

import store  # noqa: E402
from lib import chat, config, names, runs  # noqa: E402
from lib.backends import open_backend  # noqa: E402

log = logging.getLogger("malbeot.app")

# Keys passed to lib.backends.open_backend, read from secrets (flat or a [backend] table) or MALBEOT_<KEY>.
BACKEND_KEYS = ("backend", "adapter", "model", "quant", "device", "threads", "gguf", "tokenizer", "n_ctx", "mmap",
                "base_url", "api_key", "repo", "token", "timeout", "context_length", "prompt_as")
ALIASES = {"hf_repo": "repo", "hub_repo": "repo", "hf_token": "token", "hub_token": "token"}
NUMBERS = {"threads": int, "n_ctx": int, "timeout": float, "context_length": int}
FLAGS = ("mmap",)
TRUE = {"1", "true", "yes", "on"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
LOADING = "모델을 불러오는 중이에요… 처음 한 번만 걸려요 (1~2분)"
# The page's llama.cpp context (n_ctx sets it otherwise): training saw up to 1024 tokens (sft.max_length) and the
# prompt keeps the last 7 turns; 2048 only doubled the KV cache (EEVE-2.8B peaked at 2.39 GB, over its 2.2 GB).
LLAMACPP_N_CTX = 1024


# ------------------------------------------------------------------------------------------ settings

def _secrets() -> dict:
    try:
        return {k: st.secrets[k] for k in st.secrets}
    except FileNotFoundError:          # no secrets.toml anywhere: environment only
        return {}


def setting(name: str, default=None):
    """A value from st.secrets, else the environment (MALBEOT_APP_PASSWORD, ...; Hugging Face Spaces
    passes its secrets that way), else `default`."""
    value = _secrets().get(name)
    if value is None:
        value = os.environ.get(f"MALBEOT_{name.upper()}")
    return default if value is None or value == "" else value


def _truthy(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in TRUE


def flag(name: str, default: bool = False) -> bool:
    return _truthy(setting(name, default))


def backend_spec() -> dict:
    """The spec for lib.backends.open_backend: `backend = "local"|"llamacpp"|"remote"` plus its keys.
    A local backend without `adapter` serves the newest trained run (outputs/adapters/latest)."""
    table = _secrets().get("backend")
    if hasattr(table, "keys"):                 # a [backend] table in secrets.toml
        raw = {k: table[k] for k in table}
        raw.setdefault("backend", raw.pop("kind", "local"))
    else:
        raw = {k: v for k in (*BACKEND_KEYS, *ALIASES) if (v := setting(k)) is not None}
    spec = {ALIASES.get(k, k): v for k, v in raw.items()}
    for key, kind in NUMBERS.items():         # environment variables arrive as text
        if key in spec:
            spec[key] = kind(spec[key])
    for key in FLAGS:                         # "false" from the environment must not read as True
        if key in spec:
            spec[key] = _truthy(spec[key])
    if str(spec.get("quant", "")).lower() in {"none", "null", "off"}:
        spec["quant"] = None
    spec.setdefault("backend", "local")
    if str(spec["backend"]).lower() in {"llamacpp", "llama.cpp", "gguf"}:
        spec.setdefault("n_ctx", LLAMACPP_N_CTX)
    if spec["backend"] in {"local", "transformers"} and not (spec.get("adapter") or spec.get("model")):
        spec["adapter"] = str(runs.latest())
    return spec


def hub_file(path_in_repo: str) -> Path | None:
    """A file from the private Hugging Face repo in the settings (`repo`, `token`), as the GGUF is
    fetched; None without a repo or when the repo has no such file."""
    repo = setting("repo") or setting("hf_repo") or setting("hub_repo")
    if not repo:
        return None
    token = setting("token") or setting("hf_token") or setting("hub_token")
    found = _hub_download(str(repo), path_in_repo, str(token) if token else None)
    return Path(found) if found else None


@st.cache_data(ttl=600, show_spinner=False, max_entries=16)
def _hub_download(repo: str, filename: str, token: str | None) -> str | None:
    try:
        from huggingface_hub import hf_hub_download

        return hf_hub_download(repo, filename, token=token)
    except Exception as err:  # noqa: BLE001 - missing file, offline, no access: the caller falls back
        log.info("no %s from %s: %s", filename, repo, type(err).__name__)
        return None


# --------------------------------------------------------------------------------------------- gate

def is_localhost() -> bool:
    """True only for a browser on this machine: a loopback connection AND a localhost Host header.
    A tunnel (cloudflared, ngrok) connects from loopback too, but carries its public host name."""
    headers = st.context.headers
    host = headers.get("Host") if headers else None
    if not host or st.context.ip_address is not None:     # ip_address is None only for loopback
        return False
    return urlsplit(f"//{host}").hostname in LOCAL_HOSTS


def _fingerprint(password: str) -> str:
    # what the session remembers: changing the password logs everyone out
    return hashlib.sha256(b"malbeot-session:" + password.encode()).hexdigest()


def login_days() -> float:
    return float(setting("login_days", store.DEFAULT_DAYS))


def require_password() -> None:
    """Stop the page here until the visitor typed `app_password` (constant-time comparison) or her
    browser holds a login token it signed that has not expired (`login_days`, 30 by default).
    Without a password the page opens only on localhost, and says so."""
    ss = st.session_state
    password = setting("app_password")
    if not password:
        if is_localhost():
            st.caption("🔓 비밀번호가 없어서 이 컴퓨터(localhost)에서만 열려요. "
                       "공개하려면 secrets에 `app_password`를 넣어 주세요.")
            _restore()
            store.mount(history=_to_save(), clear=ss.pop("_clear_store", False), read=ss.setdefault("_read", 1),
                        ack=_ack())
            return
        st.error("🔒 비밀번호가 설정되지 않아서 열 수 없어요. 관리자는 secrets에 `app_password`를 넣어 주세요. "
                 "(비밀번호 없이는 이 컴퓨터의 localhost 주소로만 열립니다.)")
        st.stop()
    password = str(password)
    authed = hmac.compare_digest(ss.get("_auth", ""), _fingerprint(password))
    if not authed and not ss.get("_logged_out") and store.check_token(st.context.cookies.get(store.COOKIE), password):
        ss["_auth"], authed = _fingerprint(password), True        # her phone remembered her
    gate = st.empty()                  # the login form's slot: emptied the moment she is in
    if not authed:
        with gate.container():
            st.html('<div class="kt-login"><div class="kt-login-icon">💬</div><div class="kt-login-title">말버릇</div>'
                    '<div class="kt-login-sub">비밀번호를 입력해 주세요</div></div>')
            with st.form("login", border=False):
                st.text_input("비밀번호", type="password", placeholder="비밀번호", label_visibility="collapsed", key="_pw")
                st.form_submit_button("들어가기", type="primary", width="stretch", on_click=_try_password,
                                      args=(password,))
            if ss.pop("_wrong", False):
                time.sleep(1.0)   # slows guessing; per request, so a wrong try costs the guesser a second
                st.error("비밀번호가 달라요.")
    if not authed:
        store.mount(clear=ss.pop("_clear_store", False))
        st.stop()
    gate.empty()                       # before the model loads: no form left to tap twice
    _restore()
    store.mount(token=ss.get("_token"), max_age_s=int(login_days() * 86400), history=_to_save(),
                clear=ss.pop("_clear_store", False), read=ss.setdefault("_read", 1), ack=_ack())


def _try_password(password: str) -> None:
    """The login button's callback: runs before the page, so the box can be emptied after a wrong try."""
    ss = st.session_state
    typed = ss.get("_pw") or ""
    ss["_pw"] = ""                     # never left in the box, right or wrong
    if hmac.compare_digest(typed.encode(), password.encode()):
        ss["_auth"] = _fingerprint(password)
        ss["_token"] = store.make_token(password, login_days())
        ss.pop("_logged_out", None)
    else:
        ss["_wrong"] = True


def _ack() -> int | None:
    """The read number whose stored conversation this visit has (the browser stops resending it)."""
    return st.session_state.get("_read") if st.session_state.get("_restored") else None


def _to_save() -> list[dict] | None:
    """The conversation to write to her browser: only once it has been read back (a fresh visit would
    otherwise overwrite what is stored with an empty list)."""
    return st.session_state.get("messages") if st.session_state.get("_restored") else None


def _restore() -> None:
    """Once per login: what her browser stored (its answer is in the store's state before the store is
    placed again), then anything she wrote before it arrived."""
    ss = st.session_state
    if not ss.get("_restored"):
        stored = store.history(ss.get("kt_store"), ss.get("_read", 1))
        if stored is not None:
            ss["_restored"] = True
            ss["messages"] = stored + ss.get("messages", [])


def restore_history() -> list[dict]:
    """This visit's messages, her stored conversation first ({"role", "content", "time"} each)."""
    return st.session_state.setdefault("messages", [])


def new_conversation() -> None:
    st.session_state["messages"] = []
    st.session_state["filtered"] = {}


def logout() -> None:
    """Sign out on this phone: the login cookie and the stored conversation are deleted there too."""
    ss = st.session_state
    for key in ("_auth", "_token", "messages", "filtered", "_restored"):
        ss.pop(key, None)
    ss["_logged_out"] = True           # the cookie this visit arrived with no longer counts
    ss["_clear_store"] = True
    ss["_read"] = ss.get("_read", 1) + 1   # after the next login the (now empty) storage is read afresh


# ------------------------------------------------------------------------------------------ chatbot

def _run_meta(spec: dict) -> dict:
    """malbeot.json of the run the backend serves (local, or from the private hub repo), with the card's
    participants/pacing filled in when an older run lacks them and the dataset is on this machine."""
    folder = spec.get("adapter") or spec.get("tokenizer")
    if not folder:
        return {}
    run_dir = config.resolve(folder)
    meta = runs.read_meta(run_dir) if runs.is_finished(run_dir) else {}
    if not meta and spec.get("repo"):          # the run folder lives in the private hub repo
        try:
            from huggingface_hub import hf_hub_download

            meta = runs.read_meta(Path(hf_hub_download(spec["repo"], f"{str(folder).strip('/')}/{runs.META}",
                                                       token=spec.get("token"))).parent)
        except Exception:  # noqa: BLE001 - no metadata just means the default settings
            return {}
    card = config.resolve(meta["dataset"]) / "card.json" if meta.get("dataset") else None
    if card is not None and card.is_file():
        data = json.loads(card.read_text(encoding="utf-8"))
        meta.setdefault("system_prompt", (data.get("params") or {}).get("system_prompt"))
        for key in ("participants", "pacing"):
            meta.setdefault(key, data.get(key))
    return meta


@st.cache_resource(show_spinner=False, max_entries=1)
def _meta(spec_json: str) -> dict:
    return _run_meta(json.loads(spec_json))


@st.cache_resource(show_spinner=LOADING, max_entries=1)
def _load(spec_json: str):
    """Once per server (every session shares it): the backend, its Chatbot and the generation lock,
    with the run's generation defaults and system line."""
    spec = json.loads(spec_json)
    meta = _meta(spec_json)
    gen = {k: v for k, v in (meta.get("generation") or {}).items() if k in chat.DEFAULT_GENERATION}
    bot = chat.Chatbot(open_backend(spec), generation=gen, system=meta.get("system_prompt"))
    if meta.get("system_prompt") and hasattr(bot.backend, "warm"):
        bot.backend.warm(meta["system_prompt"])   # llama.cpp: the run's system line joins the cached start
    return bot, threading.Lock()


def get_chatbot():
    """(Chatbot, lock). A spinner shows while the model loads; a failure is shown, not cached."""
    spec = {}
    try:
        spec = backend_spec()
        return _load(json.dumps(spec, sort_keys=True, default=str))
    except Exception as err:  # shown to the (logged-in) owner so a wrong setting is easy to fix
        shown = {k: v for k, v in spec.items() if k not in ("api_key", "token")}
        st.error(f"모델을 불러오지 못했어요. {type(err).__name__}: {err}\n\n설정: `{shown}`")
        st.stop()


def next_prompt_start(bot, history: list[dict], generation: dict | None = None) -> str | None:
    """The next prompt up to where her next message goes, with the window it will use: what llama.cpp can
    read while she is still typing. None when the backend renders no prompt here (a chat endpoint)."""
    if bot.tokenizer is None:
        return None
    mark = "\x01"
    probe = [{"role": m["role"], "content": m["content"]} for m in history] + [{"role": "user", "content": mark}]
    prompt = bot.prompt(probe, (generation or {}).get("max_new_tokens"))
    return prompt.split(mark, 1)[0] if isinstance(prompt, str) and mark in prompt else None


def prime_next_turn(bot, lock, history: list[dict], generation: dict | None = None):
    """In the background, read the next prompt's start into llama.cpp's cache (his last reply, her turn's
    opening, a moved window): her next message then costs only its own tokens. Holds the generation lock,
    so a message sent meanwhile waits for it and finds it cached. Returns the thread, or None."""
    warm = getattr(bot.backend, "warm", None)
    text = next_prompt_start(bot, history, generation) if warm and history else None
    if not text:
        return None

    def run():
        try:
            with lock:
                warm(text=text)
        except Exception as err:  # noqa: BLE001 - only a speed-up: her next reply just reads it all
            log.warning("priming the next prompt failed: %s", type(err).__name__)

    thread = threading.Thread(target=run, name="malbeot-prime", daemon=True)
    thread.start()
    return thread


def run_meta() -> dict:
    """The served run's malbeot.json (generation, system line, participants, pacing); {} if unknown."""
    try:
        return _meta(json.dumps(backend_spec(), sort_keys=True, default=str))
    except Exception:  # noqa: BLE001 - no run yet: no names to swap, no pacing
        return {}


def name_maps() -> tuple[names.NameMap, names.NameMap]:
    """(display, to_model): the pseudonyms the model knows <-> the real names in the settings."""
    return names.for_page(run_meta().get("participants"), her_name=setting("her_name"), my_name=setting("my_name"),
                          her_nickname=setting("her_nickname"), my_nickname=setting("my_nickname"))


def bot_name() -> str:
    return str(setting("bot_name") or setting("my_name") or "말버릇")


# --------------------------------------------------------------------------------------------- logs

_log_lock = threading.Lock()


def _log_path(prefix: str = "") -> Path:
    return Path(setting("log_dir", str(config.outputs() / "chats"))) / f"{prefix}{datetime.now(timezone.utc):%Y-%m-%d}.jsonl"


def _append(path: Path, record: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _log_lock, open(path, "a", encoding="utf-8") as f:   # one short O_APPEND write per record
        f.write(line)
    return path


def log_turn(messages: list[dict]) -> Path | None:
    """Append the last exchange to outputs/chats/<date>.jsonl, only when the owner set log_chats = true."""
    if not flag("log_chats"):
        return None
    return _append(_log_path(), {"messages": messages[-2:]})


def log_blind(record: dict) -> Path | None:
    """Her blind-test picks and score (no texts) to outputs/chats/blind-<date>.jsonl, only with log_blind = true."""
    if not flag("log_blind"):
        return None
    return _append(_log_path("blind-"), record)


# -------------------------------------------------------------------------------------------- look
# KakaoTalk on a phone: blue-grey room, her yellow bubbles on the right, his white ones on the left
# under a name and a rounded-square avatar, small grey times beside the last bubble of a turn.

CSS = """
.stApp { background: #BACEE0; }
.block-container { max-width: 560px; padding: 1rem .7rem 5.5rem; }
/* nothing floats over the chat on a phone: no header bar (menu, running man), no sidebar toggle */
header[data-testid="stHeader"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebar"] { display: none; }
.st-key-kt_store, [data-testid="InputInstructions"] { display: none; }   /* no "Press Enter to submit form" */
.stApp, .kt, .kt-login { font-family: -apple-system, "Apple SD Gothic Neo", "Noto Sans KR", "Malgun Gothic",
                         "NanumBarunGothic", "NanumGothic", "Source Sans Pro", sans-serif; }
.kt-top { display: flex; align-items: center; gap: .55rem; font-weight: 700; font-size: 1.08rem; color: #191919; }
.kt-top small { display: block; font-weight: 400; font-size: .72rem; color: #556677; }
.kt-top .kt-avatar { width: 34px; height: 34px; }
.kt-date { text-align: center; margin: .4rem 0 .9rem; }
.kt-date span { background: rgba(0,0,0,.13); color: #fff; font-size: .72rem; padding: .2rem .8rem; border-radius: 999px; }
.kt-row { display: flex; align-items: flex-start; gap: .45rem; margin: .35rem 0; }
.kt-row.me { justify-content: flex-end; }
.kt-col { display: flex; flex-direction: column; gap: .22rem; max-width: 78%; }
.kt-row.me .kt-col { align-items: flex-end; }
.kt-name { font-size: .78rem; color: #333; margin: .05rem 0 .05rem .1rem; }
.kt-line { display: flex; align-items: flex-end; gap: .3rem; }
.kt-row.me .kt-line { flex-direction: row-reverse; }
.kt-bubble { position: relative; padding: .42rem .68rem; border-radius: 14px; font-size: .95rem; line-height: 1.38;
             color: #191919; background: #fff; word-break: break-word; white-space: pre-wrap;
             box-shadow: 0 1px .5px rgba(0,0,0,.05); }
.kt-row.me .kt-bubble { background: #FEE500; }
.kt-row.bot .kt-bubble.first { border-top-left-radius: 4px; }
.kt-row.me .kt-bubble.first { border-top-right-radius: 4px; }
.kt-time { font-size: .66rem; color: #556677; white-space: nowrap; margin-bottom: .1rem; }
.kt-avatar { flex: 0 0 auto; width: 40px; height: 40px; border-radius: 15px; overflow: hidden; background: #A9BED3;
             display: flex; align-items: center; justify-content: center; font-size: 1.35rem; }
.kt-avatar img, .kt-avatar svg { width: 100%; height: 100%; object-fit: cover; }
/* shown only after a moment: on a reload her stored conversation usually arrives first */
.kt-empty { text-align: center; color: #556677; font-size: .85rem; margin: 2.5rem 0 1rem;
            animation: kt-fade .3s .7s both; }
@keyframes kt-fade { from { opacity: 0; } to { opacity: 1; } }
.kt-empty .kt-avatar { width: 72px; height: 72px; border-radius: 27px; margin: 0 auto .6rem; }
.kt-typing span { display: inline-block; width: 6px; height: 6px; margin: 0 1.5px; border-radius: 50%;
                  background: #9aa5b1; animation: kt-blink 1.2s infinite both; }
.kt-typing span:nth-child(2) { animation-delay: .2s; } .kt-typing span:nth-child(3) { animation-delay: .4s; }
@keyframes kt-blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
.kt-login { text-align: center; margin: 3.5rem 0 1.2rem; }
.kt-login-icon { font-size: 3rem; } .kt-login-title { font-size: 1.5rem; font-weight: 800; color: #191919; }
.kt-login-sub { font-size: .85rem; color: #556677; }
[data-testid="stBaseButton-primaryFormSubmit"], [data-testid="stBaseButton-primary"] {
    background: #FEE500; color: #191919; border: none; font-weight: 700; }
[data-testid="stBaseButton-primaryFormSubmit"]:hover, [data-testid="stBaseButton-primary"]:hover {
    background: #F5DC00; color: #191919; }
[data-testid="stBottom"] > div, [data-testid="stBottomBlockContainer"] { background: #fff; }
[data-testid="stExpander"] details { background: rgba(255,255,255,.45); border: none; }
[data-testid="stExpander"] summary { padding: .35rem .8rem; font-size: .85rem; }
.st-key-kt_top { border-bottom: 1px solid rgba(0,0,0,.07); padding-bottom: .6rem; }
"""

_SILHOUETTE = ('<svg viewBox="0 0 40 40" xmlns="http://www.w3.org/2000/svg"><rect width="40" height="40" fill="#A9BED3"/>'
               '<circle cx="20" cy="15.5" r="7" fill="#fff"/><path d="M6 40c1-9 7-13.5 14-13.5S33 31 34 40z" fill="#fff"/></svg>')
WEEKDAYS = "월화수목금토일"


def inject_css() -> None:
    st.html(f"<style>{CSS}</style>")


def avatar_html(avatar: str | None) -> str:
    """An image URL, an emoji, or the default grey silhouette KakaoTalk gives a profile without a photo."""
    if not avatar:
        return f'<div class="kt-avatar">{_SILHOUETTE}</div>'
    if str(avatar).startswith(("http://", "https://", "data:image/")):
        return f'<div class="kt-avatar"><img src="{html.escape(str(avatar), quote=True)}" alt=""></div>'
    return f'<div class="kt-avatar">{html.escape(str(avatar))}</div>'


def local_zone():
    """Her phone's time zone (the cloud server runs on UTC); Seoul if the browser did not say."""
    try:
        return ZoneInfo(st.context.timezone or "Asia/Seoul")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Seoul")


def clock(iso: str, tz) -> str:
    t = datetime.fromisoformat(iso).astimezone(tz)
    return f"{'오전' if t.hour < 12 else '오후'} {t.hour % 12 or 12}:{t.minute:02d}"


def date_divider(iso: str, tz) -> str:
    t = datetime.fromisoformat(iso).astimezone(tz)
    return f'<div class="kt kt-date"><span>{t.year}년 {t.month}월 {t.day}일 {WEEKDAYS[t.weekday()]}요일</span></div>'


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def turn_html(role: str, bubbles: list[str], when: str | None, tz, *, name: str = "", avatar: str = "",
              typing: bool = False) -> str:
    """One turn as KakaoTalk draws it; one line of HTML (Markdown would read indentation as code)."""
    lines = []
    for i, text in enumerate(bubbles):
        first = " first" if i == 0 else ""
        time_tag = f'<span class="kt-time">{clock(when, tz)}</span>' if when and i == len(bubbles) - 1 else ""
        body = html.escape(text).replace("\n", "<br>")
        lines.append(f'<div class="kt-line"><div class="kt-bubble{first}">{body}</div>{time_tag}</div>')
    if typing:
        first = "" if bubbles else " first"
        lines.append(f'<div class="kt-line"><div class="kt-bubble{first} kt-typing"><span></span><span></span>'
                     '<span></span></div></div>')
    if role == "user":
        return f'<div class="kt kt-row me"><div class="kt-col">{"".join(lines)}</div></div>'
    head = f'<div class="kt-name">{html.escape(name)}</div>'
    return f'<div class="kt kt-row bot">{avatar}<div class="kt-col">{head}{"".join(lines)}</div></div>'
