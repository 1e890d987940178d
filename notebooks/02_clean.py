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
# # 02 · Clean: her message → my reply
# Parse → mask personal data → turns and sessions → pairs → leak scan → split → write
# `data/processed/<name>/`. Everything shown here is masked (names are keyed pseudonyms, numbers and
# IDs are `<전화번호>`-style tokens, photos and emoticons are `(사진)`-style tags). The name table shows
# only each name's first letter unless you set `show_names = True` (the full table is always in
# `outputs/privacy/names.csv`).

# %% tags=["parameters"]
profile = "sample-cpu"
chat = None
me = None
turn_gap_minutes = None   # None: from the profile's `dataset:` section
session_gap_hours = None
context_turns = None
val_fraction = None
split = None              # "time" | "random"
show_names = False        # True: the name table lists the real names (this notebook's outputs then hold them)

# %%
import pandas as pd
from IPython.display import Markdown, display

from lib import card as data_card
from lib import dataset, explore, plots, privacy

overrides = dict(turn_gap_minutes=turn_gap_minutes, session_gap_hours=session_gap_hours,
                 context_turns=context_turns, val_fraction=val_fraction, split=split)
inputs = dataset.inputs(profile, chat=chat, me=me, **overrides)  # what run() builds with
out_dir = inputs["out_dir"]
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 90)
{k: v for k, v in inputs.items() if k not in ("chats", "known_names")}

# %% [markdown]
# ## Names: what will be masked, and why
# Look at this table once before training: you know your friends' names better than any detector. Every
# speaker and every name found in the text is replaced by its pseudonym; `reason` says why (speaker, chat
# title, known, detected). A friend the detector missed goes into the profile's `known_names`; a word it
# took for a name (or a speaker that is a bot or a word, see `hint`) into `keep_words`. Examples are
# already masked. Also written to `outputs/privacy/names.csv`.

# %%
names = privacy.name_review(dataset.read_chats(inputs["chats"]), inputs["me"], known_names=inputs["known_names"],
                            keep_words=inputs["keep_words"])
print("full table:", privacy.write_review(names))
(names if show_names else privacy.veil_names(names)).head(30)

# %% [markdown]
# ## Build the dataset
# The final leak scan (lib.leakscan, which does not trust the masker) reads every message again: what it
# still finds is re-masked, a pair it cannot clean is dropped, and a card that would hold a personal value
# fails the build with nothing written.

# %%
card = dataset.run(profile, chat=chat, me=me, **overrides)
pd.Series(card["counts"], name="count").to_frame()

# %% [markdown]
# ## Before → after
# *before*: the export's records in one pair's window (masked); *after*: the pair as stored — bubbles of
# one turn joined, placeholders as tags, her turns as `user`, mine as `assistant`, my reply last.

# %%
dataset.preview(**inputs, n=3)

# %% [markdown]
# ## Filter funnel: what each step removed

# %%
fig = data_card.plot_funnel(card)
display(fig)
plots.save(fig, "02_funnel.png")
pd.DataFrame(card["funnel"])

# %% [markdown]
# ## Lengths: reply, context and context messages per pair

# %%
lengths = data_card.length_table(dataset.load(out_dir))
fig = data_card.plot_lengths(lengths)
display(fig)
plots.save(fig, "02_lengths.png")
lengths.groupby("split").describe(percentiles=[0.5, 0.95]).T.round(1)

# %% [markdown]
# ## Time of day and silences
# What the time line right before each reply (`[화 밤 11시 · 5시간 만]`) tells the model: the hour a turn
# starts and the silence before it, per speaker (turns of the export). Hers are what the pairs carry
# (`her_time`, `gap_hours`); the table counts pairs by that silence. `time_context: false` in the profile
# leaves the line out.

# %%
fig = explore.plot_time_fields(explore.time_fields(dataset.read_chats(inputs["chats"]), inputs["me"]))
display(fig)
plots.save(fig, "02_time.png")
pd.Series(card["time"]["pairs_by_gap"], name="pairs").to_frame().T

# %% [markdown]
# ## Masking counts per type

# %%
fig = data_card.plot_masking(card)
display(fig)
plots.save(fig, "02_masking.png")
data_card.masking_table(card)

# %% [markdown]
# What the final leak scan still found after the masker (per type, in distinct messages), re-masked or dropped.

# %%
scan = card["leak_scan"]
pd.Series({**scan["flagged"], "messages re-masked": scan["messages_re_masked"], "pairs dropped": scan["pairs_dropped"]},
          name="count", dtype="int64").to_frame()

# %% [markdown]
# ## The data card (also in `card.md` beside the dataset)

# %%
display(Markdown((out_dir / "card.md").read_text(encoding="utf-8")))
assert card["counts"]["train"] > 0, "no training pairs"
print(f"dataset written to {out_dir}: {card['counts']['train']:,} train, {card['counts']['validation']:,} validation pairs")
