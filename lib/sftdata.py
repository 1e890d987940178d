"""The training examples: the `messages` DatasetDict written by lib.dataset, the oldest context dropped to
fit max_length, and what the examples ask of a run (tokens and steps per epoch, for lib.plan).
"""
from __future__ import annotations

import logging
from pathlib import Path

from lib import config, models, plan

log = logging.getLogger(__name__)


def load_messages(dataset_dir: str | Path):
    """The DatasetDict (train/validation) with only the `messages` column; accepts the lib.dataset output
    folder (with dataset/ inside) or a saved DatasetDict folder."""
    import datasets

    path = config.resolve(dataset_dir)
    for cand in (path / "dataset", path):
        if (cand / "dataset_dict.json").is_file():
            dd = datasets.load_from_disk(str(cand))
            break
    else:
        raise FileNotFoundError(f"no dataset at {path}: expected the folder written by lib.dataset.build "
                                "(with dataset/dataset_dict.json); run notebook 02 or `python -m lib.dataset build`")
    missing = {"train", "validation"} - set(dd)
    if missing or "messages" not in dd["train"].column_names:
        raise ValueError(f"{path}: expected splits train+validation with a `messages` column, "
                         f"got {dict((k, v.column_names) for k, v in dd.items())}")
    return dd.select_columns(["messages"])


def fit_messages(messages: list[dict], tokenizer, max_length: int) -> list[dict] | None:
    """Drop the oldest context turns (keeping a system line) until the rendered example fits max_length;
    None when even the final reply alone does not fit. TRL would otherwise cut the reply off the end."""
    system = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(system):]
    while rest:
        ids = tokenizer.apply_chat_template(system + rest, tokenize=True, return_dict=True)["input_ids"]
        if len(ids) <= max_length:
            return system + rest
        if len(rest) == 1:
            return None
        rest = rest[1:]
        while len(rest) > 1 and rest[0]["role"] == "assistant":  # start on her turn
            rest = rest[1:]
    return None


def prepare_dataset(dd, tokenizer, max_length: int):
    def fit(batch):
        out = [fit_messages(m, tokenizer, max_length) for m in batch["messages"]]
        return {"messages": [m for m in out if m is not None]}

    fitted = dd.map(fit, batched=True, desc="fitting context to max_length")
    for split in dd:
        dropped = len(dd[split]) - len(fitted[split])
        if dropped:
            log.warning("%s: %d examples whose reply alone exceeds max_length=%d were dropped", split, dropped,
                        max_length)
    return fitted


def subsample(ds, n: int | None):
    """`n` examples spread evenly over a (time-ordered) split, so a capped evaluation still spans it."""
    if not n or len(ds) <= n:
        return ds
    step = len(ds) / n
    return ds.select(sorted({int(i * step) for i in range(n)}))


def workload(dataset_dir: str | Path, model: str, sft: dict, sample: int = 2000) -> dict:
    """lib.plan.workload of this dataset under this model's tokenizer: the fitted token lengths of up to
    `sample` training examples spread over the split, scaled to all of it; epochs and steps as `sft` says."""
    from trl import SFTConfig

    tok = models.load_tokenizer(model)
    examples = load_messages(dataset_dir)["train"]
    picked = subsample(examples, sample)["messages"]
    fitted = [m for m in (fit_messages(msgs, tok, sft["max_length"]) for msgs in picked) if m]
    lengths = [len(tok.apply_chat_template(m, tokenize=True, return_dict=True)["input_ids"]) for m in fitted]
    kept = round(len(examples) * len(fitted) / max(1, len(picked)))  # replies too long alone are dropped
    epochs = sft.get("num_train_epochs", SFTConfig.__dataclass_fields__["num_train_epochs"].default)
    return plan.workload(lengths, kept, batch=sft["per_device_train_batch_size"],
                         accumulation=sft["gradient_accumulation_steps"], epochs=epochs, max_steps=sft.get("max_steps"))
