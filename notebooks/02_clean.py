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
# Parse → mask personal data → turns and sessions → pairs → split → leak scan → write
# `data/processed/<name>/`. Everything shown here is masked: names are keyed pseudonyms, numbers and
# IDs are `<전화번호>`-style tokens, photos and emoticons are `(사진)`-style tags.

# %% tags=["parameters"]
profile = "sample-cpu"
chat = None
me = None
turn_gap_minutes = None   # None: from the profile's `dataset:` section
session_gap_hours = None
context_turns = None
val_fraction = None
split = None              # "time" | "random"

# %%
import pandas as pd
from IPython.display import Markdown, display

from lib import card as data_card
from lib import dataset, plots

overrides = dict(turn_gap_minutes=turn_gap_minutes, session_gap_hours=session_gap_hours,
                 context_turns=context_turns, val_fraction=val_fraction, split=split)
inputs = dataset.inputs(profile, chat=chat, me=me, **overrides)  # what run() builds with
out_dir = inputs["out_dir"]
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 90)
{k: v for k, v in inputs.items() if k not in ("chats", "known_names")}

# %% [markdown]
# ## Build the dataset
# Fails closed: if the final leak scan finds any personal value in the output, nothing is written.

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
# ## Masking counts per type

# %%
fig = data_card.plot_masking(card)
display(fig)
plots.save(fig, "02_masking.png")
data_card.masking_table(card)

# %% [markdown]
# ## The data card (also in `card.md` beside the dataset)

# %%
display(Markdown((out_dir / "card.md").read_text(encoding="utf-8")))
assert card["counts"]["train"] > 0, "no training pairs"
print(f"dataset written to {out_dir}: {card['counts']['train']:,} train, {card['counts']['validation']:,} validation pairs")
