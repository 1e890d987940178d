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
# # 03 · Compare base models
# Which base model should learn my voice? For each candidate: size, how well its tokenizer fits this
# chat (ㅋㅋ, emoji, casual Korean), zero-shot perplexity of my replies, training memory on an 8 GB card
# (planned; measured too on a GPU), serving size, and the validation loss of a short pilot fine-tune.
# With `sample-cpu` the candidates are the tiny stand-ins; with `rtx3060ti` polyglot-ko-1.3b and EEVE-2.8B.

# %% tags=["parameters"]
profile = "sample-cpu"
model = None          # None: profile models.candidates; a name here compares just that one
pilot_steps = None    # None: profile pilot_steps

# %%
import pandas as pd
from IPython.display import Markdown, display

from lib import compare, config, plan, plots

prof = config.load_profile(profile)
candidates = [model] if model else prof["models"]["candidates"]
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 60)
{"candidates": candidates, "dataset": str(config.dataset_dir(prof)), "pilot_steps": pilot_steps or prof["pilot_steps"]}

# %% [markdown]
# ## Memory plan before anything is loaded
# `python -m lib.train plan` predicts the peak of one training step at the profile's length and batch.

# %%
plans = pd.DataFrame([plan.plan(c, prof["sft"]["max_length"], prof["sft"]["per_device_train_batch_size"],
                                prof["lora"]["r"]) for c in candidates])
plans[["model", "max_length", "batch", "params_total", "params_lora", "peak_allocated_gb", "total_gb", "fits"]]

# %% [markdown]
# ## Pilot fine-tunes
# Each candidate gets the same short QLoRA run; the zero-shot loss is measured before the first step.

# %%
table, samples, winner = compare.run(profile, candidates=candidates, pilot_steps=pilot_steps)
table

# %% [markdown]
# ## Measured during the pilots
# Throughput of the training steps (tokens/s, seconds per step) and, on a GPU, the reserved peak against the
# plan. They go to `winner.json`; notebook 04 turns them into an ETA per epoch for the full run.

# %%
table[["model", "device", "planned_reserved_gib", "measured_train_gib", "train_tokens_per_second", "seconds_per_step",
       "eval_seconds_each", "pilot_seconds"]]

# %%
fig = compare.plot_table(table)
display(fig)
plots.save(fig, "03_compare.png")

# %% [markdown]
# ## Sample replies to validation prompts (masked text)

# %%
samples

# %% [markdown]
# ## Decision
# Rule: among candidates whose planned training memory fits the card, the lowest pilot validation loss
# per character (per-token losses are not comparable across tokenizers); within 2% of the best, the one
# that is smaller to serve. Written to `outputs/compare/winner.json`; notebook 04 trains it.

# %%
display(Markdown(f"**Winner: `{winner['model']}`** — " + "; ".join(winner["reasons"])))
