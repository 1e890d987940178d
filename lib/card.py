"""The data card of a built dataset: card.md from card.json, and the tables and figures notebook 02 shows
(filter funnel, lengths, masking). Counts only: no chat text ever appears here."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from lib import plots
from lib.pairs import flat_messages


def markdown(card: dict) -> str:
    """card.md: counts, the filter funnel, cuts, masking per type, length percentiles, parameters."""
    c = card["counts"]
    lines = [f"# Dataset card: {card['name']}", "",
             f"Her-message -> my-reply pairs from {card['source']['files']} KakaoTalk export(s)"
             f" ({', '.join(card['source']['formats'])}), {card['date_range']['first']} to"
             f" {card['date_range']['last']}. Personal values are masked; the final leak scan passed.", "",
             "| | count |", "|---|---:|"]
    for k, v in c.items():
        lines.append(f"| {k.replace('_', ' ')} | {v:,} |")
    lines += ["", "## Filters", "", "| filter | unit | removed | left |", "|---|---|---:|---:|"]
    lines += [f"| {f['filter']} | {f['unit']} | {f['removed']:,} | {f['left']:,} |" for f in card["funnel"]]
    lines += ["", f"Cut to the length budget: {card['cut']['replies']:,} replies"
              f" (> {card['params']['max_target_chars']} chars, whole bubbles kept from the start),"
              f" {card['cut']['context_messages']:,} context messages (end kept).", "",
              "## Masking", "", "| type | replaced |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in card["masking"].items()] or ["| (none) | 0 |"]
    lines += ["", "## Lengths", "", "| measure | p5 | p25 | p50 | p75 | p95 | p99 | max |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for k, p in card["lengths"].items():
        if p:
            cells = " | ".join(str(p[q]) for q in ("p5", "p25", "p50", "p75", "p95", "p99", "max"))
            lines.append(f"| {k.replace('_', ' ')} | {cells} |")
    lines += ["", "## Parameters", "", "```json", json.dumps(card["params"], ensure_ascii=False, indent=2), "```", ""]
    return "\n".join(lines)


def plot_funnel(card: dict):
    """Horizontal bars: rows each filter removed, and what was left after it."""
    steps = card["funnel"]
    fig, ax = plots.subplots(figsize=(9, 0.5 * len(steps) + 1.2))
    labels = [f"{s['filter']}\n[{s['unit']}]" for s in steps][::-1]
    removed = [s["removed"] for s in steps][::-1]
    ax.barh(labels, removed, color="#d9534f")
    for y, s in enumerate(steps[::-1]):
        ax.text(max(removed + [1]) * 0.01 + s["removed"], y, f"-{s['removed']:,} (left {s['left']:,})",
                va="center", fontsize=8)
    ax.set_xlabel("removed")
    ax.set_xlim(0, max(removed + [1]) * 1.45)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(f"filter funnel: {card['counts']['pairs']:,} pairs"
                 f" ({card['counts']['train']:,} train / {card['counts']['validation']:,} validation)")
    fig.tight_layout()
    return fig


def length_table(ds) -> pd.DataFrame:
    """Per pair: split, reply chars, context chars, context messages (from the written DatasetDict)."""
    frames = []
    for split in ds:
        table = ds[split].data.table
        if table.num_rows == 0:
            continue
        parent, role, content, is_target = flat_messages(table)
        size = pc.utf8_length(content).to_numpy()
        in_ctx = ~is_target & (role.to_numpy(zero_copy_only=False) != "system")
        frames.append(pd.DataFrame({
            "split": split, "reply_chars": size[is_target],
            "context_chars": np.bincount(parent[in_ctx], weights=size[in_ctx], minlength=table.num_rows).astype(int),
            "context_messages": np.bincount(parent[in_ctx], minlength=table.num_rows)}))
    return pd.concat(frames, ignore_index=True)


def plot_lengths(lengths_df: pd.DataFrame):
    """Histograms of reply length, context length and context messages, train vs validation."""
    cols = ["reply_chars", "context_chars", "context_messages"]
    fig, axes = plots.subplots(1, 3, figsize=(12, 3.2))
    for ax, col in zip(axes, cols):
        hi = max(1, int(lengths_df[col].quantile(0.995)))
        bins = np.arange(0, hi + 2) - 0.5 if col == "context_messages" else np.linspace(0, hi, 40)
        for split, part in lengths_df.groupby("split", sort=False):
            ax.hist(part[col].clip(upper=hi), bins=bins, alpha=0.6, density=True, label=split)
        ax.set_title(col.replace("_", " "))
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def masking_table(card: dict) -> pd.DataFrame:
    return (pd.Series(card["masking"], name="replaced", dtype=int).rename_axis("type")
            .sort_values(ascending=False).reset_index())


def plot_masking(card: dict):
    t = masking_table(card)
    fig, ax = plots.subplots(figsize=(7, 0.35 * max(len(t), 1) + 1.2))
    ax.barh(t["type"][::-1], t["replaced"][::-1], color="#5b7db1")
    for y, v in enumerate(t["replaced"][::-1]):
        ax.text(v, y, f" {v:,}", va="center", fontsize=8)
    ax.set_xlabel("values replaced (records x occurrences)")
    ax.set_title("masking per type")
    fig.tight_layout()
    return fig
