"""Which base model should learn my voice (notebook 03): each candidate's tokenizer fit, zero-shot
perplexity, planned training memory, serving size and a short pilot fine-tune, then the winner.

    python -m lib.compare --profile sample-cpu     # writes outputs/compare/winner.json
"""
from __future__ import annotations

import argparse
import gc
import math
import shutil
import sys
from pathlib import Path

from lib import config, evaluate, fileio, models, plan, plots, runs, sftdata, tiny, train


def compare(candidates: list[str], dataset_dir: str | Path, *, pilot_steps: int = 30, bnb="nf4",
            lora: dict, sft: dict, generation: dict | None = None,
            device: str = "auto", n_samples: int = 4, out_dir: str | Path | None = None, limit_gb: float = plan.GPU_LIMIT_GB):
    """Per candidate: params, tokens/char on this chat, zero-shot perplexity of my validation replies,
    planned (and on GPU measured) training memory, serving sizes, a short pilot fine-tune's validation
    loss (also per character, comparable across tokenizers), its measured throughput (tokens/s of training
    steps, seconds per evaluation and checkpoint, for 04's ETA) and sample replies. Returns (table, samples)."""
    import pandas as pd
    import torch
    from peft import PeftModel

    out_dir = Path(out_dir or config.compare_dir())
    dd = sftdata.load_messages(dataset_dir)
    val = dd["validation"]
    replies = [m["messages"][-1]["content"] for m in val]
    chat_texts = [m["content"] for row in dd["train"].select(range(min(500, len(dd["train"])))) for m in row["messages"]]
    histories = [val[i]["messages"][:-1] for i in range(0, len(val), max(1, len(val) // n_samples))][:n_samples]
    rows, samples = [], {"her": [next(m["content"] for m in reversed(h) if m["role"] == "user") for h in histories],
                         "me (real)": [val[i]["messages"][-1]["content"]
                                       for i in range(0, len(val), max(1, len(val) // n_samples))][:n_samples]}
    for name in candidates:
        tok = models.load_tokenizer(name)
        tpc_chat = models.tokens_per_char(tok, chat_texts)
        tpc_reply = models.tokens_per_char(tok, [" " + r for r in replies]) if replies else float("nan")
        p = plan.plan(name, sft["max_length"], sft["per_device_train_batch_size"], lora["r"], limit_gb=limit_gb,
                      gradient_checkpointing=sft.get("gradient_checkpointing", True))
        size = models.serving_size(name)
        shutil.rmtree(out_dir / "pilots" / f"pilot-{Path(name).name}", ignore_errors=True)  # a fresh pilot
        pilot = train.train(name, dataset_dir, run_name=f"pilot-{Path(name).name}", out_root=out_dir / "pilots",
                            bnb=bnb, lora=lora, sft={**sft, "max_steps": pilot_steps,
                                                     "eval_steps": max(1, pilot_steps // 2)},
                            generation=generation, device=device, point=False, early_stopping_patience=0)
        m = runs.read_meta(pilot)["metrics"]
        base, _ = models.load(name, bnb=bnb, device=device)
        prompts = [{"history": h} for h in histories]
        samples[f"{name} (base)"] = evaluate.generate(base, tok, prompts, generation=generation, progress=False)
        tuned = PeftModel.from_pretrained(base, pilot)
        samples[f"{name} (pilot)"] = evaluate.generate(tuned, tok, prompts, generation=generation, progress=False)
        del base, tuned
        gc.collect()  # the next pilot measures its own peak, not this model's leftovers
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        rows.append({
            "model": name, "params_m": round(size["params"] / 1e6, 1), "tokens_per_char": round(tpc_chat, 3),
            "zero_shot_ppl": round(math.exp(m["eval_loss_start"]), 2) if m["eval_loss_start"] is not None else None,
            "pilot_val_loss": round(m["eval_loss"], 4) if m["eval_loss"] is not None else None,
            "pilot_val_nats_per_char": round(m["eval_loss"] * tpc_reply, 4) if m["eval_loss"] is not None else None,
            "planned_train_gib": p["total_gb"], "fits_limit": p["fits"],
            "measured_train_gib": m.get("peak_reserved_gib"), "planned_reserved_gib": m.get("planned_reserved_gib"),
            "train_tokens_per_second": m.get("tokens_per_second"), "seconds_per_step": m.get("seconds_per_step"),
            "eval_seconds_each": m.get("eval_seconds_each"), "save_seconds_each": m.get("save_seconds_each"),
            "device": m.get("device"),
            "serve_4bit_gb": size["4bit_gb"], "serve_8bit_gb": size["8bit_gb"], "pilot_seconds": m["seconds"],
        })
    return pd.DataFrame(rows), pd.DataFrame(samples)


def pick_winner(table, out: str | Path | None = None, tolerance: float = 0.02) -> dict:
    """Decision rule: among candidates whose planned training memory fits the card, the lowest pilot
    validation loss per character (comparable across tokenizers); within `tolerance` of the best, the
    smaller model to serve. Writes outputs/compare/winner.json {model, reasons, table}."""
    rows = table.to_dict("records")
    fit = [r for r in rows if r["fits_limit"]] or rows
    best = min(r["pilot_val_nats_per_char"] for r in fit)
    close = [r for r in fit if r["pilot_val_nats_per_char"] <= best * (1 + tolerance)]
    win = min(close, key=lambda r: r["serve_4bit_gb"])
    reasons = [f"fits the {plan.GPU_LIMIT_GB:g} GiB card for training (planned {win['planned_train_gib']} GiB)"
               if win["fits_limit"] else "no candidate fits the card; picked the best anyway",
               f"pilot validation loss {win['pilot_val_nats_per_char']} nats/char "
               f"(best {best}; within {tolerance:.0%} counts as a tie)",
               f"serves in {win['serve_4bit_gb']} GB at 4-bit"]
    if win.get("measured_train_gib") is not None:
        reasons.append(f"pilot measured {win['measured_train_gib']} GiB reserved on the GPU "
                       f"(planned {win.get('planned_reserved_gib')} GiB without the CUDA context)")
    if win.get("train_tokens_per_second"):
        reasons.append(f"trains at {win['train_tokens_per_second']:,.0f} tokens/s on {win.get('device')}")
    dropped = [r["model"] for r in rows if not r["fits_limit"]]
    if dropped:
        reasons.append(f"excluded for memory: {', '.join(dropped)}")
    result = {"model": win["model"], "reasons": reasons, "table": rows}
    fileio.write_json(Path(out or config.compare_dir() / "winner.json"), result)
    return result


def run(profile: str | dict, *, candidates: list[str] | None = None, pilot_steps: int | None = None,
        dataset_dir: str | Path | None = None):
    """Compare the profile's candidates on its dataset and pick the winner; (table, samples, winner)."""
    prof = config.profile(profile)
    candidates = candidates or prof["models"]["candidates"]
    tiny.ensure_for(candidates)
    s = train.settings(prof)
    s.pop("max_hours", None)  # a pilot is capped by pilot_steps
    table, samples = compare(candidates, dataset_dir or config.dataset_dir(prof),
                             pilot_steps=pilot_steps or prof["pilot_steps"], **s)
    return table, samples, pick_winner(table)


def plot_table(table):
    """Three bars per candidate: tokenizer fit, pilot loss per character, planned training memory."""
    fig, axes = plots.subplots(1, 3, figsize=(12, 3.4))
    for ax, col, label in zip(axes, ["tokens_per_char", "pilot_val_nats_per_char", "planned_train_gib"],
                              ["tokens per character (lower fits better)", "pilot val loss, nats/char",
                               "planned training memory, GiB"]):
        ax.bar(table["model"], table[col], color=["#4C72B0", "#DD8452", "#55A868"][: len(table)])
        ax.set_title(label, fontsize=10)
    axes[2].axhline(plan.GPU_LIMIT_GB, color="red", ls="--", lw=1)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.compare", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="sample-cpu")
    ap.add_argument("--model", action="append", help="compare only these (repeatable; default: the profile's)")
    ap.add_argument("--pilot-steps", type=int)
    args = ap.parse_args(argv)
    table, _, winner = run(args.profile, candidates=args.model, pilot_steps=args.pilot_steps)
    print(table.to_string(index=False))
    print(f"\nwinner: {winner['model']} - " + "; ".join(winner["reasons"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
