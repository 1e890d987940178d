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
# serves both systems (the adapter is switched off for `base`). Writes `outputs/report/eval.md` and the
# blind-test page she can take on her phone (works offline; the answers are revealed after the last pick).

# %%
table = evaluate.run(profile, adapter=adapter, n_prompts=n_prompts)
pd.Series(table.attrs["timing"], name="seconds").round(1).to_frame()

# %% [markdown]
# ## Loss and the speaker classifier
# Loss: how surprising my real held-out replies are to each model. The classifier (char n-grams,
# trained on the train split to tell my turns from hers) says whose turn each reply looks like.

# %%
pd.concat([report.pivot(table, "loss"), report.pivot(table, "classifier")]).round(3)

# %% [markdown]
# ## Surface style
# Mean characters and bubbles per turn; for the rest, the share of replies that show it
# (ㅋ, ㅎ, emoji, emoticon tags, ?, fillers, 존댓말 / 반말 endings).

# %%
report.pivot(table, "style").round(3)

# %% [markdown]
# Distance of each system's distribution to my real replies (Wasserstein in characters/bubbles for
# lengths, Jensen-Shannon 0..1 for the rest). `her` shows how far apart two real people are.

# %%
report.pivot(table, "style distance").round(3)

# %%
fig = report.plot(table)
display(fig)
plots.save(fig, "05_style.png")

# %% [markdown]
# ## Failures and diversity
# Raw replies before the app's guards. `memorised` = a copy (difflib ratio > 0.9) of a training reply
# of 8+ characters; the `real` column shows how often my own new replies repeat old ones anyway.

# %%
pd.concat([report.pivot(table, "failure"), report.pivot(table, "diversity")]).round(3)

# %% [markdown]
# ## Side by side

# %%
report.side_by_side(table.attrs["samples"], n=8)

# %% [markdown]
# ## Verdict

# %%
display(Markdown("\n".join(f"- {line}" for line in report.verdict(table))))
print(config.report() / "eval.md", config.report() / "blind_test.html", sep="\n")
