"""The style report (outputs/report/eval.md + eval_style.png + eval.csv + samples.jsonl): the tidy metric
table of lib.evaluate pivoted, plotted and put into plain sentences, with a verdict that says so when the
bot does not sound like me. The verdict reads the "new replies" slice: what a memorising model can't fake."""
from __future__ import annotations

import html
import json
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd

from lib import config, fileio, plots, style, timefit

SYSTEMS = ("real", "base", "tuned")
# "her" is only a reference column in the style tables: how far apart the two real speakers are.
STYLE_SYSTEMS = ("real", "base", "tuned", "her")
ALL_SYSTEMS = (*STYLE_SYSTEMS, "tuned_no_time")  # the tuned adapter prompted without the time line
COLORS = {"real": "#3a3a3a", "base": "#9aa5b1", "tuned": "#f2a900", "her": "#6fa8dc"}
SLICES = ("new", "all")
MIN_SLICE = 20   # fewer new-reply prompts than this: the verdict falls back to all prompts

LABELS = {
    "val_loss": "validation loss of my real replies", "perplexity": "perplexity of my real replies",
    "share_attributed_to_me": "share the classifier attributes to me", "heldout_accuracy": "classifier accuracy on held-out real turns",
    "distinct_1": "distinct-1 (unique words / words)", "distinct_2": "distinct-2 (unique word pairs / pairs)",
    "appropriate": "fits the time (prompts whose real reply has a time phrase)",
    "misplaced": "a time phrase that does not fit (all prompts)", "prompts": "prompts",
}


def _get(table: pd.DataFrame, group: str, metric: str, system: str, slice: str = "all") -> float:
    hit = table[(table.group == group) & (table.metric == metric) & (table.system == system)]
    if "slice" in hit:
        hit = hit[hit["slice"] == slice]
    return float(hit["value"].iloc[0]) if len(hit) else float("nan")


def pivot(table: pd.DataFrame, group: str, slice: str | None = "all") -> pd.DataFrame:
    """One group of the tidy table as metric x system (columns in the order real, base, tuned, her,
    tuned_no_time) for one slice; `slice=None`: both, as (slice, system) columns, new replies first."""
    sub = table[table.group == group]
    if "slice" not in sub:
        sub = sub.assign(slice="all")
    if slice is not None:
        sub = sub[sub["slice"] == slice]
    wide = sub.pivot_table(index="metric", columns=["slice", "system"], values="value", sort=False)
    cols = [(sl, s) for sl in SLICES for s in ALL_SYSTEMS if (sl, s) in wide.columns]
    wide = wide[cols]
    return wide.droplevel(0, axis=1) if slice is not None else wide


def verdict_slice(table: pd.DataFrame) -> str:
    """The slice the verdict reads: the new replies, unless there are too few of them."""
    return "new" if _get(table, "slice", "prompts", "real", "new") >= MIN_SLICE else "all"


def verdict(table: pd.DataFrame) -> list[str]:
    """A few plain sentences on whether the tuned bot sounds like me, read on the new replies (whose real
    reply never occurs in training: copying templates earns nothing there); says so when it does not."""
    sl = verdict_slice(table)
    n_new, n_all = _get(table, "slice", "prompts", "real", "new"), _get(table, "slice", "prompts", "real", "all")
    table = table[table["slice"] == sl] if "slice" in table else table
    lines = [f"Read on the {n_new:.0f} of {n_all:.0f} validation prompts whose real reply never occurs in training "
             "(new replies), where a model that memorised your usual lines gains nothing." if sl == "new" else
             f"Only {n_new:.0f} of {n_all:.0f} real replies are new (never in training): read on all prompts, "
             "where memorised lines count as style."]
    share = {s: _get(table, "classifier", "share_attributed_to_me", s, sl) for s in STYLE_SYSTEMS}
    acc = _get(table, "classifier", "heldout_accuracy", "real", sl)
    lines.append(
        f"A classifier that tells your turns from hers ({acc:.0%} right on held-out real turns) takes "
        f"{share['tuned']:.0%} of the tuned bot's replies for yours, against {share['base']:.0%} for the untuned "
        f"model and {share['real']:.0%} for your real replies.")
    dist = pivot(table, "style distance", sl).dropna(subset=["base", "tuned"])
    closer = int((dist["tuned"] < dist["base"]).sum()) if len(dist) else 0
    if len(dist):
        lines.append(f"On {closer} of {len(dist)} style features the tuned bot is closer to your real replies "
                     f"than the untuned model is.")
    loss_b, loss_t = _get(table, "loss", "val_loss", "base", sl), _get(table, "loss", "val_loss", "tuned", sl)
    if loss_t < loss_b:
        lines.append(f"Your real replies are less surprising to the tuned model (perplexity "
                     f"{math.exp(loss_t):.1f} vs {math.exp(loss_b):.1f}).")
    else:
        lines.append(f"Training did not lower the loss on your held-out replies ({loss_t:.2f} vs {loss_b:.2f}): "
                     "it has not learned your replies, only perhaps their look.")
    memo, fail = _get(table, "failure", "memorised", "tuned", sl), _get(table, "failure", "any_failure", "tuned", sl)
    memo_real = _get(table, "failure", "memorised", "real", sl)
    if memo > max(0.05, 2 * memo_real):
        lines.append(f"Warning: {memo:.0%} of its replies copy a training reply (near) word for word "
                     f"(your own new replies do that {memo_real:.0%} of the time) — it is parroting.")
    else:
        lines.append(f"{memo:.0%} of its replies copy a training reply (near) word for word.")
    lines.append(f"{fail:.0%} of its raw replies show a failure (echo, repetition, loop, empty, or a copied "
                 f"training reply; your real replies: {_get(table, 'failure', 'any_failure', 'real', sl):.0%}); "
                 "the app's guards regenerate all but the copies.")
    fit = {s: _get(table, "time", "appropriate", s, sl) for s in ("real", "tuned", "tuned_no_time")}
    if not math.isnan(fit["tuned"]) and not math.isnan(fit["tuned_no_time"]):
        clear = fit["tuned"] - fit["tuned_no_time"] >= 0.1
        lines.append(f"Where your real reply greets the morning, winds down at night or apologises for a silence "
                     f"({_get(table, 'time', 'prompts', 'real', sl):.0f} prompts), the bot's reply fits the time "
                     f"{fit['tuned']:.0%} of the time with the time line and {fit['tuned_no_time']:.0%} without "
                     f"(yours: {fit['real']:.0%})" + ("." if clear else ": the line makes no clear difference yet, the "
                                                      "model has not learned to use it (more steps, a larger base)."))
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


def plot(table: pd.DataFrame, samples: list[dict] | None = None, slice: str | None = None):
    """Figure: reply length real vs base vs tuned (and her), style rates, endings, classifier share, on
    one slice (default: the verdict's)."""
    import matplotlib.pyplot as plt

    samples = samples if samples is not None else table.attrs.get("samples", [])
    slice = slice or verdict_slice(table)
    samples = [x for x in samples if slice == "all" or x.get("new", True)]
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
        ax.bar(x + (j - 1.5) * 0.2, [_get(table, "style", r, s, slice) for r in rates], 0.2, color=COLORS[s], label=s)
    ax.set_xticks(x, rates, rotation=30, ha="right"), ax.set_title("share of replies showing…"), ax.legend()
    ax = axes[len(lengths) + 1]
    shares = [_get(table, "classifier", "share_attributed_to_me", s, slice) for s in STYLE_SYSTEMS]
    ax.bar(STYLE_SYSTEMS, shares, color=[COLORS[s] for s in STYLE_SYSTEMS])
    ax.set_ylim(0, 1), ax.set_title(f"classifier: share attributed to me ({slice} replies)")
    for k, name in enumerate(cats):
        ax = axes[len(lengths) + 2 + k]
        levels = style.CATEGORIES.get(name) or sorted({c for f in feats.values() for c in f[name].dropna()})
        bottom = np.zeros(len(STYLE_SYSTEMS))
        cmap = plt.get_cmap("tab10")
        for li, lev in enumerate(levels):
            vals = np.array([_get(table, "style", f"{name}={lev}", s, slice) for s in STYLE_SYSTEMS])
            vals = np.nan_to_num(vals)
            ax.bar(STYLE_SYSTEMS, vals, bottom=bottom, color=cmap(li), label=str(lev))
            bottom += vals
        ax.set_title(f"{name}"), ax.legend(fontsize=8)
    if len(axes) > panels:  # a spare panel: failure rates of the raw replies
        ax = axes[panels]
        kinds = ["echo", "self_repeat", "loop", "empty_or_broken", "memorised"]
        x = np.arange(len(kinds))
        for j, s in enumerate(SYSTEMS):
            ax.bar(x + (j - 1) * 0.27, [_get(table, "failure", k, s, slice) for k in kinds], 0.27, color=COLORS[s], label=s)
        ax.set_xticks(x, kinds, rotation=30, ha="right"), ax.set_title("failures (share of raw replies)"), ax.legend()
    for ax in axes[panels + 1:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def _md_table(df: pd.DataFrame, fmt: str = "{:.3f}") -> str:
    cols = [f"{c[1]} ({c[0]})" if isinstance(c, tuple) else str(c) for c in df.columns]  # (slice, system)
    lines = ["| metric | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        cells = ["" if pd.isna(v) else fmt.format(v) for v in row]
        lines.append(f"| {LABELS.get(idx, idx)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _bubble_md(text: str) -> str:
    return " / ".join(html.escape(b) for b in text.split("\n") if b.strip()) or "*(empty)*"


def side_by_side(samples: list[dict], n: int = 5, seed: int = 0, timed_first: bool = True) -> pd.DataFrame:
    """A few prompts: the time line, her last turn, the real, base and tuned replies and, when evaluated,
    the tuned one without the time line (masked dataset text). `timed_first`: half of them where the
    real reply has a time phrase, when there are such prompts (where the time line shows its worth)."""
    rng = random.Random(seed)
    timed = [s for s in samples if s.get("tuned_no_time") is not None and timefit.kinds(s["real"])] if timed_first else []
    pick = rng.sample(timed, min(n // 2, len(timed)))
    rest = [s for s in samples if s not in pick]
    pick += rng.sample(rest, min(n - len(pick), len(rest)))
    cols = ["time_line", "her", "real", "base", "tuned", "tuned_no_time"]
    return pd.DataFrame([{c: s.get(c) for c in cols} for s in pick]).dropna(axis=1, how="all")


def write(table: pd.DataFrame, samples: list[dict] | None = None, out_dir: str | Path | None = None) -> Path:
    """outputs/report/eval.md + eval_style.png + eval.csv + samples.jsonl; returns the .md path."""
    out_dir = Path(out_dir) if out_dir is not None else config.report()
    samples = samples if samples is not None else table.attrs.get("samples", [])
    plots.save(plot(table, samples), "eval_style.png", out_dir)
    with fileio.atomic_path(out_dir / "eval.csv") as tmp:
        table.to_csv(tmp, index=False)
    fileio.write_text(out_dir / "samples.jsonl", "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples))

    timing = table.attrs.get("timing", {})
    both = lambda group: _md_table(pivot(table, group, None)) + "\n"  # noqa: E731
    n_new = _get(table, "slice", "prompts", "real", "new")
    parts = [
        "# Does it talk like me?\n",
        f"{table.attrs.get('n_prompts', len(samples))} validation prompts; adapter `{table.attrs.get('adapter', '?')}`. "
        "`real` = my real replies, `base` = the untuned model, `tuned` = with the adapter, `tuned_no_time` = the "
        "same adapter prompted without the time line, `her` = her turns (how far apart the two real speakers "
        f"are). Every table has two slices: **new** = the {n_new:.0f} prompts whose real reply (normalised) never "
        "occurs in training, where memorised lines earn nothing, and **all** prompts.\n",
        f"## Verdict ({verdict_slice(table)} replies)\n", "\n".join(f"- {line}" for line in verdict(table)) + "\n",
        "## Loss on my real held-out replies\n", both("loss"),
        "## Speaker classifier (char n-grams, trained on the train split)\n", both("classifier"),
        "## Surface style (mean chars/bubbles per turn; otherwise share of replies)\n", both("style"),
        "## Distance to my real replies (Wasserstein for lengths, Jensen-Shannon otherwise; 0 = same)\n",
        both("style distance"),
        f"![style distributions, {verdict_slice(table)} replies](eval_style.png)\n",
        "## Failures (share of raw replies, before the app's guards; memorised = a copy of a training reply)\n",
        both("failure"),
        "## Diversity\n", both("diversity"),
    ]
    if (table.group == "time").any():
        parts += ["## Replies that fit the moment (the time line `[weekday hour · N시간 만]`)\n",
                  "A time phrase is a morning greeting (fits 5-12 h), a good night (21-4 h) or a sorry for a "
                  "silence (fits after an hour or more without a message, which the time line shows).\n",
                  both("time")]
    parts.append("## Side by side\n")
    for s in side_by_side(samples).to_dict("records"):
        parts.append(f"- {('`' + s['time_line'] + '` ') if s.get('time_line') else ''}**her:** {_bubble_md(s['her'])}  \n"
                     f"  **real:** {_bubble_md(s['real'])}  \n  **base:** {_bubble_md(s['base'])}  \n"
                     f"  **tuned:** {_bubble_md(s['tuned'])}"
                     + (f"  \n  **tuned without the time line:** {_bubble_md(s['tuned_no_time'])}"
                        if s.get("tuned_no_time") is not None else "") + "\n")
    if timing:
        parts.append("\n## Run time\n" + ", ".join(f"{k} {v:.1f}s" for k, v in timing.items()) + "\n")
    return fileio.write_text(out_dir / "eval.md", "\n".join(parts))
