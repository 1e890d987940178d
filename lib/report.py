"""The style report (outputs/report/eval.md + eval_style.png + eval.csv + samples.jsonl): the tidy metric
table of lib.evaluate pivoted, plotted and put into plain sentences, with a verdict that says so when the
bot does not sound like me."""
from __future__ import annotations

import html
import json
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd

from lib import config, fileio, plots, style

SYSTEMS = ("real", "base", "tuned")
# "her" is only a reference column in the style tables: how far apart the two real speakers are.
STYLE_SYSTEMS = ("real", "base", "tuned", "her")
COLORS = {"real": "#3a3a3a", "base": "#9aa5b1", "tuned": "#f2a900", "her": "#6fa8dc"}

LABELS = {
    "val_loss": "validation loss of my real replies", "perplexity": "perplexity of my real replies",
    "share_attributed_to_me": "share the classifier attributes to me", "heldout_accuracy": "classifier accuracy on held-out real turns",
    "distinct_1": "distinct-1 (unique words / words)", "distinct_2": "distinct-2 (unique word pairs / pairs)",
}


def _get(table: pd.DataFrame, group: str, metric: str, system: str) -> float:
    hit = table[(table.group == group) & (table.metric == metric) & (table.system == system)]["value"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def pivot(table: pd.DataFrame, group: str) -> pd.DataFrame:
    """One group of the tidy table as metric x system (columns in the order real, base, tuned, her)."""
    sub = table[table.group == group].pivot_table(index="metric", columns="system", values="value", sort=False)
    return sub[[s for s in STYLE_SYSTEMS if s in sub.columns]]


def verdict(table: pd.DataFrame) -> list[str]:
    """A few plain sentences on whether the tuned bot sounds like me; says so when it does not."""
    lines = []
    share = {s: _get(table, "classifier", "share_attributed_to_me", s) for s in STYLE_SYSTEMS}
    acc = _get(table, "classifier", "heldout_accuracy", "real")
    lines.append(
        f"A classifier that tells your turns from hers ({acc:.0%} right on held-out real turns) takes "
        f"{share['tuned']:.0%} of the tuned bot's replies for yours, against {share['base']:.0%} for the untuned "
        f"model and {share['real']:.0%} for your real replies.")
    dist = pivot(table, "style distance").dropna(subset=["base", "tuned"])
    closer = int((dist["tuned"] < dist["base"]).sum()) if len(dist) else 0
    if len(dist):
        lines.append(f"On {closer} of {len(dist)} style features the tuned bot is closer to your real replies "
                     f"than the untuned model is.")
    loss_b, loss_t = _get(table, "loss", "val_loss", "base"), _get(table, "loss", "val_loss", "tuned")
    if loss_t < loss_b:
        lines.append(f"Your real replies are less surprising to the tuned model (perplexity "
                     f"{math.exp(loss_t):.1f} vs {math.exp(loss_b):.1f}).")
    else:
        lines.append(f"Training did not lower the loss on your held-out replies ({loss_t:.2f} vs {loss_b:.2f}): "
                     "it has not learned your replies, only perhaps their look.")
    memo, fail = _get(table, "failure", "memorised", "tuned"), _get(table, "failure", "any_failure", "tuned")
    memo_real = _get(table, "failure", "memorised", "real")
    if memo > max(0.05, 2 * memo_real):
        lines.append(f"Warning: {memo:.0%} of its replies copy a training reply (near) word for word "
                     f"(your own new replies do that {memo_real:.0%} of the time) — it is parroting.")
    lines.append(f"{fail:.0%} of its raw replies show a failure (echo, repetition, loop, empty, or a copied "
                 f"training reply; your real replies: {_get(table, 'failure', 'any_failure', 'real'):.0%}); "
                 "the app's guards regenerate all but the copies.")
    moved = share["tuned"] - share["base"]
    close = share["tuned"] >= 0.85 * share["real"] and closer >= len(dist) / 2
    if close:
        lines.append("Verdict: on these surface measures the bot is close to your style. The blind test says "
                     "whether it fools the person who knows you best.")
        if share["base"] >= 0.85 * share["real"]:
            lines.append(f"Note that the untuned model already gets {share['base']:.0%}: much of the likeness comes "
                         f"from the conversation it is shown (it continues the pattern); tuning added "
                         f"{moved * 100:+.0f} points.")
    elif moved >= 0.1:
        lines.append(f"Verdict: it moved clearly toward your style ({moved * 100:+.0f} points) but is not close yet "
                     f"({(share['real'] - share['tuned']) * 100:.0f} points short of your real replies on the classifier). "
                     "More data or epochs, or a larger base model, should help.")
    else:
        lines.append("Verdict: the bot does not sound like you yet, and tuning barely moved it. Check the training "
                     "loss curve, the dataset card (is `me` the right person?) and the chat template.")
    return lines


def plot(table: pd.DataFrame, samples: list[dict] | None = None):
    """Figure: reply length real vs base vs tuned (and her), style rates, endings, classifier share."""
    import matplotlib.pyplot as plt

    samples = samples if samples is not None else table.attrs.get("samples", [])
    texts = {s: [x[s] for x in samples] for s in SYSTEMS}
    texts["her"] = [x["her"] for x in samples]
    feats = {s: style.features(t) for s, t in texts.items()}
    lengths = [k for k, v in style.FEATURE_KINDS.items() if v == "length"]
    rates = [k for k, v in style.FEATURE_KINDS.items() if v == "rate"]
    cats = [k for k, v in style.FEATURE_KINDS.items() if v == "category"]
    panels = len(lengths) + 2 + len(cats)
    cols = 3
    fig, axes = plots.subplots(math.ceil(panels / cols), cols, figsize=(5 * cols, 3.6 * math.ceil(panels / cols)))
    axes = list(np.ravel(axes))
    for ax, name in zip(axes, lengths):
        if name == "bubbles":  # few discrete values: share of turns with 1, 2, 3, 4+ bubbles
            levels = np.arange(1, 5)
            for j, s in enumerate(STYLE_SYSTEMS):
                counts = feats[s][name].clip(upper=4).value_counts(normalize=True)
                ax.bar(levels + (j - 1.5) * 0.2, [counts.get(k, 0.0) for k in levels], 0.2, color=COLORS[s], label=s)
            ax.set_xticks(levels, ["1", "2", "3", "4+"])
        else:
            hi = max(float(f[name].quantile(0.98)) for f in feats.values() if len(f))
            bins = np.linspace(0, max(hi, 1), 25)
            for s in STYLE_SYSTEMS:
                ax.hist(feats[s][name].clip(upper=bins[-1]), bins=bins, histtype="step", lw=2, density=True,
                        color=COLORS[s], label=s)
        ax.set_title(f"{name} per turn"), ax.legend()
    ax = axes[len(lengths)]
    x = np.arange(len(rates))
    for j, s in enumerate(STYLE_SYSTEMS):
        ax.bar(x + (j - 1.5) * 0.2, [_get(table, "style", r, s) for r in rates], 0.2, color=COLORS[s], label=s)
    ax.set_xticks(x, rates, rotation=30, ha="right"), ax.set_title("share of replies showing…"), ax.legend()
    ax = axes[len(lengths) + 1]
    shares = [_get(table, "classifier", "share_attributed_to_me", s) for s in STYLE_SYSTEMS]
    ax.bar(STYLE_SYSTEMS, shares, color=[COLORS[s] for s in STYLE_SYSTEMS])
    ax.set_ylim(0, 1), ax.set_title("classifier: share attributed to me")
    for k, name in enumerate(cats):
        ax = axes[len(lengths) + 2 + k]
        levels = style.CATEGORIES.get(name) or sorted({c for f in feats.values() for c in f[name].dropna()})
        bottom = np.zeros(len(STYLE_SYSTEMS))
        cmap = plt.get_cmap("tab10")
        for li, lev in enumerate(levels):
            vals = np.array([_get(table, "style", f"{name}={lev}", s) for s in STYLE_SYSTEMS])
            vals = np.nan_to_num(vals)
            ax.bar(STYLE_SYSTEMS, vals, bottom=bottom, color=cmap(li), label=str(lev))
            bottom += vals
        ax.set_title(f"{name}"), ax.legend(fontsize=8)
    if len(axes) > panels:  # a spare panel: failure rates of the raw replies
        ax = axes[panels]
        kinds = ["echo", "self_repeat", "loop", "empty_or_broken", "memorised"]
        x = np.arange(len(kinds))
        for j, s in enumerate(SYSTEMS):
            ax.bar(x + (j - 1) * 0.27, [_get(table, "failure", k, s) for k in kinds], 0.27, color=COLORS[s], label=s)
        ax.set_xticks(x, kinds, rotation=30, ha="right"), ax.set_title("failures (share of raw replies)"), ax.legend()
    for ax in axes[panels + 1:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def _md_table(df: pd.DataFrame, fmt: str = "{:.3f}") -> str:
    cols = list(df.columns)
    lines = ["| metric | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        cells = ["" if pd.isna(v) else fmt.format(v) for v in row]
        lines.append(f"| {LABELS.get(idx, idx)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _bubble_md(text: str) -> str:
    return " / ".join(html.escape(b) for b in text.split("\n") if b.strip()) or "*(empty)*"


def side_by_side(samples: list[dict], n: int = 5, seed: int = 0) -> pd.DataFrame:
    """A few prompts with her last turn and the real, base and tuned replies (masked dataset text)."""
    pick = random.Random(seed).sample(samples, min(n, len(samples)))
    return pd.DataFrame([{"her": s["her"], "real": s["real"], "base": s["base"], "tuned": s["tuned"]} for s in pick])


def write(table: pd.DataFrame, samples: list[dict] | None = None, out_dir: str | Path | None = None) -> Path:
    """outputs/report/eval.md + eval_style.png + eval.csv + samples.jsonl; returns the .md path."""
    out_dir = Path(out_dir) if out_dir is not None else config.report()
    samples = samples if samples is not None else table.attrs.get("samples", [])
    plots.save(plot(table, samples), "eval_style.png", out_dir)
    with fileio.atomic_path(out_dir / "eval.csv") as tmp:
        table.to_csv(tmp, index=False)
    fileio.write_text(out_dir / "samples.jsonl", "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples))

    timing = table.attrs.get("timing", {})
    parts = [
        "# Does it talk like me?\n",
        f"{table.attrs.get('n_prompts', len(samples))} validation prompts; adapter `{table.attrs.get('adapter', '?')}`. "
        "`real` = my real replies, `base` = the untuned model, `tuned` = with the adapter, `her` = her turns "
        "(how far apart the two real speakers are).\n",
        "## Verdict\n", "\n".join(f"- {line}" for line in verdict(table)) + "\n",
        "## Loss on my real held-out replies\n", _md_table(pivot(table, "loss")) + "\n",
        "## Speaker classifier (char n-grams, trained on the train split)\n", _md_table(pivot(table, "classifier")) + "\n",
        "## Surface style (mean chars/bubbles per turn; otherwise share of replies)\n",
        _md_table(pivot(table, "style")) + "\n",
        "## Distance to my real replies (Wasserstein for lengths, Jensen-Shannon otherwise; 0 = same)\n",
        _md_table(pivot(table, "style distance")) + "\n",
        "![style distributions](eval_style.png)\n",
        "## Failures (share of raw replies, before the app's guards)\n", _md_table(pivot(table, "failure")) + "\n",
        "## Diversity\n", _md_table(pivot(table, "diversity")) + "\n",
        "## Side by side\n",
    ]
    for s in side_by_side(samples).to_dict("records"):
        parts.append(f"- **her:** {_bubble_md(s['her'])}  \n  **real:** {_bubble_md(s['real'])}  \n"
                     f"  **base:** {_bubble_md(s['base'])}  \n  **tuned:** {_bubble_md(s['tuned'])}\n")
    if timing:
        parts.append("\n## Time\n" + ", ".join(f"{k} {v:.1f}s" for k, v in timing.items()) + "\n")
    return fileio.write_text(out_dir / "eval.md", "\n".join(parts))
