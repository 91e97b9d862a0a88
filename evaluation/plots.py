"""Figures of a report as SVG text, drawn with matplotlib's object API (no pyplot, no GUI).

Pyplot keeps global state and is not safe in a multi-threaded web server; building a Figure
directly and saving it through the SVG backend is. Text stays text in the SVG (smaller, searchable)
and the hash salt is fixed so the same report gives byte-identical figures.
"""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaluation import tidy
from evaluation.summary import Report

SVG_STYLE = {"svg.fonttype": "none", "svg.hashsalt": "turing-report", "font.size": 9}
HUMAN_COLOUR = "#4c72b0"
MACHINE_COLOUR = "#dd8452"


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_STYLE):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def rate_figure(sources: pd.DataFrame, margin: float) -> str:
    """Rate judged human per source with its interval, chance, and the human rate +- margin."""
    labels = list(sources.index)
    y = np.arange(len(labels))
    fig = Figure(figsize=(6, 0.5 * len(labels) + 1.2))
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
    ax.set_xlabel("rate judged human (95% interval)")
    ax.legend(fontsize=7, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return _svg(fig)


def d_prime_figure(participant_d_prime: pd.DataFrame) -> str:
    """Distribution of participants' d' per model: 0 means they could not tell the sources apart."""
    groups = [(name, g["d_prime"].to_numpy()) for name, g in participant_d_prime.groupby("source")]
    fig = Figure(figsize=(6, 0.5 * len(groups) + 1.2))
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
    return _svg(fig)


def musicality_figure(counts: pd.DataFrame) -> str:
    """Share of each musicality rating (1..5) per source, as stacked bars."""
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    fig = Figure(figsize=(6, 0.5 * len(shares) + 1.2))
    ax = fig.add_subplot()
    left = np.zeros(len(shares))
    palette = matplotlib.colormaps["RdYlGn"](np.linspace(0.1, 0.9, shares.shape[1]))
    for colour, column in zip(palette, shares.columns, strict=True):
        ax.barh(shares.index, shares[column], left=left, color=colour, label=column)
        left += shares[column].to_numpy()
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of ratings")
    ax.legend(
        title="musicality", ncols=5, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2)
    )
    return _svg(fig)


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
