"""Figures of a report as SVG text, drawn with matplotlib's object API (no pyplot, no GUI).

Pyplot keeps global state and is not safe in a multi-threaded web server; building a Figure
directly and saving it through the SVG backend is. Text stays text in the SVG (smaller, searchable)
and the hash salt is fixed so the same report gives byte-identical figures.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import quoteattr

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from evaluation import tidy
from evaluation.summary import Report

SVG_STYLE = {"svg.fonttype": "none", "svg.hashsalt": "turing-report", "font.size": 9}
# 5 inches wide: a phone shows it at about its natural size, so 9 pt text stays readable.
WIDTH_IN = 5.0
LEGEND_PT = 8
HUMAN_COLOUR = "#4c72b0"
MACHINE_COLOUR = "#dd8452"


def _svg(fig: Figure, description: str) -> str:
    """The figure as an inline <svg> element named for screen readers (role img, a title and an
    aria-label saying what it shows in numbers), without the XML prologue a page cannot use."""
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_STYLE):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    head_end = text.index(">") + 1
    title = description.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        f'{text[: head_end - 1]} role="img" aria-label={quoteattr(description)}>'
        f"<title>{title}</title>{text[head_end:]}"
    )


def _percent(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{100 * value:.1f}%"


def rate_figure(sources: pd.DataFrame, margin: float) -> str:
    """Rate judged human per source with its interval, chance, and the human rate +- margin."""
    labels = list(sources.index)
    y = np.arange(len(labels))
    fig = Figure(figsize=(WIDTH_IN, 0.5 * len(labels) + 1.4))
    ax = fig.add_subplot()
    err = np.vstack(
        [sources["rate_human"] - sources["ci_low"], sources["ci_high"] - sources["rate_human"]]
    )
    colours = [HUMAN_COLOUR if label == tidy.HUMAN else MACHINE_COLOUR for label in labels]
    ax.errorbar(sources["rate_human"], y, xerr=np.nan_to_num(err), fmt="none", ecolor="black")
    ax.scatter(sources["rate_human"], y, c=colours, zorder=3)
    ax.axvline(0.5, color="grey", linestyle=":", label="chance (50%)")
    if tidy.HUMAN in sources.index:
        human = sources.loc[tidy.HUMAN, "rate_human"]
        ax.axvspan(
            human - margin,
            human + margin,
            color=HUMAN_COLOUR,
            alpha=0.12,
            label=f"human rate ± {margin:.0%} (equivalence margin)",
        )
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel("judged human (% of judgments, 95% interval)")
    ax.legend(fontsize=LEGEND_PT, ncols=1, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    parts = [
        f"{label} {_percent(row.rate_human)} (95% CI {_percent(row.ci_low)} to "
        f"{_percent(row.ci_high)})"
        for label, row in zip(labels, sources.itertuples(), strict=True)
    ]
    return _svg(fig, "Rate judged human per source: " + "; ".join(parts) + ".")


def d_prime_figure(participant_d_prime: pd.DataFrame) -> str:
    """Distribution of participants' d' per model: 0 means they could not tell the sources apart."""
    groups = [(name, g["d_prime"].to_numpy()) for name, g in participant_d_prime.groupby("source")]
    fig = Figure(figsize=(WIDTH_IN, 0.5 * len(groups) + 1.2))
    ax = fig.add_subplot()
    ax.boxplot(
        [values for _, values in groups],
        orientation="horizontal",
        showmeans=True,
        tick_labels=[name for name, _ in groups],
    )
    ax.axvline(0, color="grey", linestyle=":")
    ax.invert_yaxis()
    ax.set_xlabel("d' per participant (0 = cannot tell machine from human)")
    medians = "; ".join(
        f"{name} median {np.nanmedian(values):.2f}" if np.isfinite(values).any() else f"{name} none"
        for name, values in groups
    )
    return _svg(fig, f"Box plot of each participant's d' per model: {medians}.")


def musicality_figure(counts: pd.DataFrame) -> str:
    """Share of each musicality rating (1..5) per source, as stacked bars."""
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    fig = Figure(figsize=(WIDTH_IN, 0.5 * len(shares) + 1.4))
    ax = fig.add_subplot()
    left = np.zeros(len(shares))
    palette = matplotlib.colormaps["RdYlGn"](np.linspace(0.1, 0.9, shares.shape[1]))
    for colour, column in zip(palette, shares.columns, strict=True):
        ax.barh(shares.index, shares[column], left=left, color=colour, label=column)
        left += shares[column].to_numpy()
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel("share of ratings (%)")
    ax.legend(
        title="musicality: 1 = not musical, 5 = very musical",
        ncols=5,
        fontsize=LEGEND_PT,
        title_fontsize=LEGEND_PT,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.25),
    )
    top = "; ".join(
        f"{source} rated 4 or 5 in {_percent(row.iloc[-2:].sum())}"
        for source, row in shares.iterrows()
    )
    return _svg(fig, f"Share of each musicality rating (1 to 5) per source: {top}.")


def report_figures(report: Report) -> dict[str, str]:
    """Every figure the report page shows, by name; sections without data have no figure."""
    figures = {}
    if not report.sources.empty:
        figures["rates"] = rate_figure(report.sources, report.margin)
    if not report.participant_d_prime.empty:
        figures["d_prime"] = d_prime_figure(report.participant_d_prime)
    if not report.musicality_counts.empty:
        figures["musicality"] = musicality_figure(report.musicality_counts)
    return figures
