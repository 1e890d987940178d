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
# # 05 · Eval: does it talk like me?
# The untuned model (`base`) and the trained adapter (`tuned`) answer the same validation prompts
# (her turns with their context, never seen in training); both are compared with my real replies
# (`real`) and, for reference, with her own turns (`her`). Everything shown is masked dataset text.
#
# Every table has two slices: **new** = the prompts whose real reply (normalised) never occurs among the
# training replies, and **all**. The sample persona repeats some lines, as people do; a model that copies
# them looks good on `all` and gains nothing on `new`, which is what a real chat is mostly made of. The
# verdict reads `new`.

# %% tags=["parameters"]
profile = "sample-cpu"
adapter = None     # None: outputs/adapters/latest
n_prompts = None   # None: the profile's eval.n_prompts (200)

# %%
import pandas as pd
from IPython.display import Markdown, display

from lib import config, evaluate, plots, report

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 60)

# %% [markdown]
# ## Generate and score
# Batched generation with the profile's sampling settings and a fixed seed; one copy of the model
# serves both systems (the adapter is switched off for `base`), and the adapter answers once more
# without the time line (`tuned_no_time`). Writes `outputs/report/eval.md` and the
# blind-test page she can take on her phone (works offline; the answers are revealed after the last pick).

# %%
table = evaluate.run(profile, adapter=adapter, n_prompts=n_prompts)
pd.Series(table.attrs["timing"], name="seconds").round(1).to_frame()

# %% [markdown]
# ## Loss and the speaker classifier
# Loss: how surprising my real held-out replies are to each model. The classifier (char n-grams,
# trained on the train split to tell my turns from hers) says whose turn each reply looks like.

# %%
pd.concat([report.pivot(table, "slice", None), report.pivot(table, "loss", None),
           report.pivot(table, "classifier", None)]).round(3)

# %% [markdown]
# ## Surface style
# Mean characters and bubbles per turn; for the rest, the share of replies that show it
# (ㅋ, ㅎ, emoji, emoticon tags, ?, fillers, 존댓말 / 반말 endings).

# %%
report.pivot(table, "style", None).round(3)

# %% [markdown]
# Distance of each system's distribution to my real replies (Wasserstein in characters/bubbles for
# lengths, Jensen-Shannon 0..1 for the rest). `her` shows how far apart two real people are.

# %%
report.pivot(table, "style distance", None).round(3)

# %%
fig = report.plot(table)
display(fig)
plots.save(fig, "05_style.png")

# %% [markdown]
# ## Failures and diversity
# Raw replies before the app's guards. `memorised` = a copy (difflib ratio > 0.9) of a training reply
# of 8+ characters: the memorisation rate; the `real` column shows how often my own replies repeat old ones.

# %%
pd.concat([report.pivot(table, "failure", None), report.pivot(table, "diversity", None)]).round(3)

# %% [markdown]
# ## Replies that fit the moment
# Each prompt opens with the time line `[화 23시 · 5시간 만]` (her weekday and hour, the silence before her
# message). On the prompts whose real reply greets the morning, winds down at night or apologises for a
# silence: the share of replies whose time phrases fit the time (`appropriate`); on all prompts, the
# share with a phrase that does not fit (`misplaced`). `tuned_no_time` = the same adapter without the line.

# %%
report.pivot(table, "time", None).round(3)

# %% [markdown]
# ## Side by side
# Half of them where my real reply has a time phrase, with the time line the model saw.

# %%
report.side_by_side(table.attrs["samples"], n=8)

# %% [markdown]
# ## Verdict

# %%
display(Markdown("\n".join(f"- {line}" for line in report.verdict(table))))
print(config.report() / "eval.md", config.report() / "blind_test.html", sep="\n")
