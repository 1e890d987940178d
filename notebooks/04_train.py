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
# # 04 · Train
# QLoRA on the winner of 03 (or the model named below): 4-bit nf4 base, LoRA adapters, loss on my
# final reply only, evaluation on the validation split, early stopping on validation loss. The run is
# saved to `outputs/adapters/<run>/` and `outputs/adapters/latest` points at it.

# %% tags=["parameters"]
profile = "sample-cpu"
model = None        # None: profile models.train, else outputs/compare/winner.json
run_name = None     # None: <model>-<timestamp>
resume = False      # True: continue the newest unfinished run from its last checkpoint

# %%
import json

import pandas as pd
from IPython.display import Image, display

from lib import config, plan, runs, train

prof = config.load_profile(profile)
model = model or train.resolve_train_model(prof)
{"model": model, "dataset": str(config.dataset_dir(prof)), **train.settings(prof)}

# %% [markdown]
# ## Will it fit?

# %%
print(plan.format_plan(plan.plan(model, prof["sft"]["max_length"], prof["sft"]["per_device_train_batch_size"],
                                 prof["lora"]["r"])))

# %% [markdown]
# ## How long will it take?
# Tokens and steps per epoch from this dataset and tokenizer; the time from the throughput 03's pilot
# measured for this model (the progress bar keeps the ETA current while it trains; `max_hours` caps it).

# %%
print(train.estimate(profile, model=model)["text"])

# %% [markdown]
# ## Train

# %%
run = train.run(profile, model=model, run_name=run_name, resume=resume)
pd.Series(runs.read_meta(run)["metrics"], name=run.name).to_frame()

# %% [markdown]
# ## Loss curves (train and validation, loss on my replies only)

# %%
curve = train.plot_loss(json.loads((run / "history.json").read_text(encoding="utf-8")),
                        config.figures() / "04_train.png", title=f"{model}: loss on my replies")
display(Image(filename=str(curve)))

# %%
latest = runs.latest()
assert latest == run.resolve(), (latest, run)
print(f"adapter: {run}\nlatest -> {latest.name}")
