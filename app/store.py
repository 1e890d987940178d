"""What her browser keeps for the page: the signed login token (a cookie, so a reload is logged in before
the first line draws) and the conversation (localStorage, read back once per visit). The server keeps none.

    state = store.mount(token=..., history=..., clear=False, read=1)   # once per run, invisible
    store.history(state, read=1)   # the stored conversation once the browser answered, else None
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime

import streamlit as st

COOKIE = "malbeot_login"
HISTORY_KEY = "malbeot:history"
DEFAULT_DAYS = 30
MAX_MESSAGES = 400            # what is kept of a long conversation (the prompt uses the last few turns)
MAX_CHARS = 4000              # per message; the chat box allows 1000

# The browser side. Runs in the page itself (components v2: no iframe), so the cookie and localStorage
# belong to the app's own origin. Writes first, then (once per page load, when asked) reads back.
_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const d = data || {};
  const m = (window.__malbeot = window.__malbeot || { sent: null, tries: 0, timer: null });
  const secure = location.protocol === "https:" ? "; Secure" : "";
  const stored = () => { try { return localStorage.getItem(d.key) || "[]"; } catch (err) { return "[]"; } };
  try {
    if (d.clear) {
      document.cookie = `${d.cookie}=; Path=/; Max-Age=0; SameSite=Strict${secure}`;
      localStorage.removeItem(d.key);
    }
    if (d.token && !document.cookie.split("; ").includes(`${d.cookie}=${d.token}`)) {
      document.cookie = `${d.cookie}=${d.token}; Path=/; Max-Age=${d.max_age}; SameSite=Strict${secure}`;
    }
    if (typeof d.history === "string" && localStorage.getItem(d.key) !== d.history) {
      localStorage.setItem(d.key, d.history);
    }
  } catch (err) {}             // storage switched off: the page still works, it just forgets on reload
  // The stored conversation goes back once per login (`read`), resent until the page confirms it (`ack`):
  // a value set while a run is starting can be lost, so a timer sends it again with a new try number.
  clearTimeout(m.timer);
  if (d.read === null || d.read === undefined || d.ack === d.read) return;
  const send = () => {
    m.tries += 1;
    setStateValue("stored", JSON.stringify({ read: d.read, value: stored(), try: m.tries }));
    m.timer = setTimeout(send, Math.min(8000, 2000 * m.tries));
  };
  if (m.sent !== d.read) { m.sent = d.read; send(); } else { m.timer = setTimeout(send, 2000); }
}
"""
_component = st.components.v2.component("malbeot_store", js=_JS)


def mount(*, token: str | None = None, max_age_s: int = 0, history: list[dict] | None = None,
          clear: bool = False, read: int | None = None, ack: int | None = None):
    """Place the (invisible) store on the page. `token`: set the login cookie; `history`: save it;
    `clear`: forget both; `read`: a number, new after each login: report the stored conversation for it
    (only when she is logged in; an answer for an older number is ignored) until `ack` equals it."""
    data = {"cookie": COOKIE, "key": HISTORY_KEY, "token": token, "max_age": int(max_age_s), "clear": bool(clear),
            "read": read, "ack": ack, "history": None if history is None else dump(history)}
    return _component(key="kt_store", data=data, on_stored_change=lambda: None)


def history(state, read: int) -> list[dict] | None:
    """The conversation her browser sent back for read number `read`, validated; None until it answered."""
    raw = state.get("stored") if hasattr(state, "get") else getattr(state, "stored", None)
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(answer, dict) or answer.get("read") != read:
        return None
    return load(answer.get("value") or "[]")


# ----------------------------------------------------------------------------------- conversation

def dump(messages: list[dict]) -> str:
    return json.dumps([{"role": m["role"], "content": m["content"], "time": m["time"]}
                       for m in messages[-MAX_MESSAGES:]], ensure_ascii=False, separators=(",", ":"))


def load(raw: str) -> list[dict]:
    """Stored text -> messages. Anything malformed is dropped (it comes from a browser, not from us)."""
    try:
        items = json.loads(raw)
    except (TypeError, ValueError):
        return []
    out = []
    for m in items if isinstance(items, list) else []:
        if not (isinstance(m, dict) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str)
                and m["content"].strip() and isinstance(m.get("time"), str)):
            continue
        try:
            when = datetime.fromisoformat(m["time"])
        except ValueError:
            continue
        if when.tzinfo is None:
            continue
        out.append({"role": m["role"], "content": m["content"][:MAX_CHARS], "time": m["time"]})
    return out[-MAX_MESSAGES:]


# ------------------------------------------------------------------------------------------ login

def _key(password: str) -> bytes:
    # derived from the password: changing app_password makes every issued token invalid
    return hashlib.sha256(b"malbeot-login-v1:" + password.encode()).digest()


def make_token(password: str, days: float = DEFAULT_DAYS, now: float | None = None) -> str:
    """`<expiry>.<HMAC-SHA256(expiry)>`, URL- and cookie-safe; says nothing about the password."""
    expiry = int((time.time() if now is None else now) + days * 86400)
    sig = hmac.new(_key(password), f"v1|{expiry}".encode(), hashlib.sha256).digest()
    return f"{expiry}.{base64.urlsafe_b64encode(sig).decode().rstrip('=')}"


def check_token(token: str | None, password: str, now: float | None = None) -> bool:
    """True for a token this password signed that has not expired."""
    try:
        expiry_text, sig = str(token).split(".", 1)
        expiry = int(expiry_text)
    except (ValueError, AttributeError):
        return False
    good = make_token(password, now=expiry, days=0).split(".", 1)[1]
    return hmac.compare_digest(sig, good) and expiry > (time.time() if now is None else now)
