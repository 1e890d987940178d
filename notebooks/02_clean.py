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

from lib import config, dataset, explore, kakao

prof = config.load_profile(profile)
paths = [config.resolve(p) for p in (chat or prof["chat"])]
me = me or prof.get("me")
known_names = prof.get("known_names") or []
overrides = {"turn_gap_minutes": turn_gap_minutes, "session_gap_hours": session_gap_hours,
             "context_turns": context_turns, "val_fraction": val_fraction, "split": split}
params = {k: v for k, v in prof["dataset"].items() if k != "name"} | {k: v for k, v in overrides.items() if v is not None}
out_dir = config.PROCESSED / prof["dataset"]["name"]
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 90)
params

# %%
df = kakao.read_chat(paths if len(paths) > 1 else paths[0])
df.attrs["files"] = len(paths)
len(df)

# %% [markdown]
# ## Build the dataset
# Fails closed: if the final leak scan finds any personal value in the output, nothing is written.

# %%
card = dataset.build(df, me, out_dir, known_names=known_names, **params)
pd.Series(card["counts"], name="count").to_frame()

# %% [markdown]
# ## Before → after
# *before*: the export's records in one pair's window (masked); *after*: the pair as stored — bubbles of
# one turn joined, placeholders as tags, her turns as `user`, mine as `assistant`, my reply last.

# %%
examples = dataset.preview(df, me, n=3, known_names=known_names, **params)
examples

# %% [markdown]
# ## Filter funnel: what each step removed

# %%
fig = dataset.plot_funnel(card)
display(fig)
explore.save_figure(fig, "02_funnel.png", config.FIGURES)
pd.DataFrame(card["funnel"])

# %% [markdown]
# ## Lengths: reply, context and context messages per pair

# %%
lengths = dataset.length_table(out_dir)
fig = dataset.plot_lengths(lengths)
display(fig)
explore.save_figure(fig, "02_lengths.png", config.FIGURES)
lengths.groupby("split").describe(percentiles=[0.5, 0.95]).T.round(1)

# %% [markdown]
# ## Masking counts per type

# %%
fig = dataset.plot_masking(card)
display(fig)
explore.save_figure(fig, "02_masking.png", config.FIGURES)
dataset.masking_table(card)

# %% [markdown]
# ## The data card (also in `card.md` beside the dataset)

# %%
display(Markdown((out_dir / "card.md").read_text(encoding="utf-8")))
assert card["counts"]["train"] > 0, "no training pairs"
print(f"dataset written to {out_dir.relative_to(config.ROOT)}: {card['counts']['train']:,} train,"
      f" {card['counts']['validation']:,} validation pairs")
