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
chat = None        # not used here: the dataset of 02 already holds the chat
me = None
adapter = None     # None: outputs/adapters/latest
n_prompts = None   # None: the profile's eval.n_prompts (200)

# %%
import pandas as pd
from IPython.display import Markdown, display

from lib import config, evaluate

prof = config.load_profile(profile)
ev = prof.get("eval", {})
dataset_dir = config.PROCESSED / prof["dataset"]["name"]
config.FIGURES.mkdir(parents=True, exist_ok=True)
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 60)

# %% [markdown]
# ## Generate and score
# Batched generation with the profile's sampling settings and a fixed seed; one copy of the model
# serves both systems (the adapter is switched off for `base`).

# %%
table = evaluate.evaluate(adapter, dataset_dir, n_prompts=n_prompts or ev.get("n_prompts", 200),
                          generation=prof.get("generation"), batch_size=ev.get("batch_size", 32),
                          max_length=prof.get("sft", {}).get("max_length", 256), seed=ev.get("seed", 0),
                          device="cpu" if prof.get("device") == "cpu" else "auto")
pd.Series(table.attrs["timing"], name="seconds").round(1).to_frame()

# %% [markdown]
# ## Loss and the speaker classifier
# Loss: how surprising my real held-out replies are to each model. The classifier (char n-grams,
# trained on the train split to tell my turns from hers) says whose turn each reply looks like.

# %%
pd.concat([evaluate.pivot(table, "loss"), evaluate.pivot(table, "classifier")]).round(3)

# %% [markdown]
# ## Surface style
# Mean characters and bubbles per turn; for the rest, the share of replies that show it
# (ㅋ, ㅎ, emoji, emoticon tags, ?, fillers, 존댓말 / 반말 endings).

# %%
evaluate.pivot(table, "style").round(3)

# %% [markdown]
# Distance of each system's distribution to my real replies (Wasserstein in characters/bubbles for
# lengths, Jensen-Shannon 0..1 for the rest). `her` shows how far apart two real people are.

# %%
evaluate.pivot(table, "style distance").round(3)

# %%
fig = evaluate.plot_distributions(table)
fig.savefig(config.FIGURES / "05_style.png", dpi=110)
fig

# %% [markdown]
# ## Failures and diversity
# Raw replies before the app's guards. `memorised` = a copy (difflib ratio > 0.9) of a training reply
# of 8+ characters; the `real` column shows how often my own new replies repeat old ones anyway.

# %%
pd.concat([evaluate.pivot(table, "failure"), evaluate.pivot(table, "diversity")]).round(3)

# %% [markdown]
# ## Side by side

# %%
evaluate.side_by_side(table.attrs["samples"], n=8)

# %% [markdown]
# ## Verdict

# %%
display(Markdown("\n".join(f"- {line}" for line in evaluate.verdict(table))))

# %% [markdown]
# ## Report and blind test
# `eval.md` + figures, and the page she can take on her phone (works offline; the answers are
# revealed only after the last pick).

# %%
report = evaluate.write_report(table)
page = evaluate.blind_test(table.attrs["samples"], config.REPORT / "blind_test.html", n=ev.get("blind_pairs", 12))
print(report.relative_to(config.ROOT), page.relative_to(config.ROOT), sep="\n")
