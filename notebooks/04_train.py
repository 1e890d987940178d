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
chat = None
me = None
model = None        # None: profile models.train, else outputs/compare/winner.json
run_name = None     # None: <model>-<timestamp>
resume = False      # True: continue the newest unfinished run from its last checkpoint

# %%
import json

import pandas as pd
from IPython.display import Image, display

from lib import config, train

prof = config.load_profile(profile)
model = model or train.resolve_train_model(prof)
dataset_dir = config.PROCESSED / prof["dataset"]["name"]
kwargs = train.profile_kwargs(prof)
config.FIGURES.mkdir(parents=True, exist_ok=True)
{"model": model, "dataset": str(dataset_dir), **kwargs}

# %% [markdown]
# ## Will it fit?

# %%
print(train.format_plan(train.plan(model, prof["sft"]["max_length"], prof["sft"]["per_device_train_batch_size"],
                                   prof["lora"]["r"])))

# %% [markdown]
# ## Train

# %%
run = train.train(model, dataset_dir, run_name=run_name, resume=resume, **kwargs)
meta = json.loads((run / "malbeot.json").read_text(encoding="utf-8"))
pd.Series(meta["metrics"], name=run.name).to_frame()

# %% [markdown]
# ## Loss curves (train and validation, loss on my replies only)

# %%
train.plot_loss(json.loads((run / "history.json").read_text(encoding="utf-8")), config.FIGURES / "04_train.png",
                title=f"{model}: loss on my replies")
display(Image(filename=str(config.FIGURES / "04_train.png")))

# %%
latest = train.latest_adapter()
assert latest == run.resolve(), (latest, run)
print(f"adapter: {run}\nlatest -> {latest.name}")
