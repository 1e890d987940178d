# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: malbeot (.venv)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Explore the chat
# Who writes when, how much, how fast and how. Only counts, rates and common words are shown —
# never raw message text (parse warnings lose their quoted lines, top words are masked first).

# %% tags=["parameters"]
profile = "sample-cpu"
chat = None
me = None

# %%
import pandas as pd
from IPython.display import display

from lib import config, explore, kakao, plots

prof = config.load_profile(profile)
paths = [config.resolve(p) for p in (chat or prof["chat"])]
me = me or prof.get("me")
known_names = prof.get("known_names") or []
pd.set_option("display.width", 140)
[p.name for p in paths], me

# %% [markdown]
# ## Format, date range and parse warnings

# %%
df = kakao.read_chat(paths if len(paths) > 1 else paths[0])
assert len(df), f"{paths}: the export has no messages"
assert me in set(df["speaker"].dropna()), f"me={me!r} is not a speaker here: {list(kakao.speakers(df).index)[:10]}"
explore.summary(df)

# %%
explore.warning_summary(df)

# %% [markdown]
# ## Records per speaker and kind

# %%
kinds = explore.records_by_kind(df, me)
plots.save(explore.plot_kinds(kinds), "01_kinds.png")
kinds

# %% [markdown]
# ## Messages per day

# %%
daily = explore.per_day(df, me)
plots.save(explore.plot_per_day(daily), "01_per_day.png")
daily.describe().round(1)

# %% [markdown]
# ## When: hour × weekday per speaker

# %%
grid = explore.hour_weekday(df, me)
fig = explore.plot_hour_weekday(grid)
display(fig)
plots.save(fig, "01_hour_weekday.png")

# %% [markdown]
# ## How long: characters per message, bubbles per turn

# %%
fig = explore.plot_lengths(df, me)
display(fig)
plots.save(fig, "01_lengths.png")
explore.length_stats(df, me)

# %% [markdown]
# ## How fast: reply latency (answers within 6 h; later is a new conversation)

# %%
fig = explore.plot_latency(explore.reply_latency(df), me)
display(fig)
plots.save(fig, "01_latency.png")
explore.latency_stats(df, me)

# %% [markdown]
# ## How: ㅋㅋ / ㅎㅎ / emoji / ~요 rates per speaker (definitions in `lib/style.py`)

# %%
rates = explore.style_by_speaker(df, me)
fig = explore.plot_style(rates)
display(fig)
plots.save(fig, "01_style.png")
rates

# %% [markdown]
# ## Top words per speaker (common nouns, verbs, adjectives; names and numbers excluded)

# %%
words = explore.top_words(df, n=20, me=me, known_names=known_names)
fig = explore.plot_top_words(words)
display(fig)
plots.save(fig, "01_top_words.png")
words.pivot(index="rank", columns="speaker", values="word")[explore.order(df, me)]
