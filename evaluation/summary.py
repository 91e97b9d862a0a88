"""The whole report of a study, built in one call from the tidy answer table and the funnel.

The page, the JSON/CSV exports and ``manage.py report`` all show this one object, so they can never
disagree. Inferential statistics use only the rows the study's exclusion rules keep; the funnel and
the exclusion counts say how many were dropped and why.

Families of tests are Holm-corrected: the tests against chance (all sources), the differences from
the human excerpts (all models) and the equivalence tests (all models). A model is said to *pass*
only when its Holm-adjusted equivalence test succeeds; a non-significant difference is reported as
inconclusive, never as a pass.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluation import tidy
from evaluation.detection import ALL_MACHINES, participant_sdt, sdt_table
from evaluation.equivalence import DEFAULT_ALPHA, DEFAULT_MARGIN, tost
from evaluation.multiple import holm
from evaluation.rates import Estimate, overall_accuracy, rate_table, wilson
from evaluation.ratings import RatingComparison, compare_ratings

NON_MUSICIANS = "non-musicians"
EVERYONE_ELSE = "everyone else"  # musicians, and anyone whose training is unknown

PASSES = "passes: equivalent to human within the margin"
PASSES_WITH_DIFFERENCE = "within the margin of human, though a small difference is detectable"
DIFFERENT = "distinguishable from human"
INCONCLUSIVE = "inconclusive: neither a difference nor equivalence shown"
NO_BASELINE = "no human excerpts to compare with"
BASELINE = "baseline"


@dataclass
class Report:
    """Everything the report page, the exports and the command show about one study."""

    study: str
    margin: float
    alpha: float
    level: float
    totals: dict[str, int]
    funnel: pd.DataFrame
    exclusions: pd.DataFrame
    sources: pd.DataFrame
    batches: pd.DataFrame
    accuracy: Estimate | None
    detection: pd.DataFrame
    participant_d_prime: pd.DataFrame
    ratings: dict[str, RatingComparison]
    musicality_counts: pd.DataFrame  # sources x ratings 1..5
    training: pd.DataFrame
    items: pd.DataFrame
    metrics: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN becomes None) with every table as a list of records."""
        return {
            "study": self.study,
            "settings": {"margin": self.margin, "alpha": self.alpha, "level": self.level},
            "totals": self.totals,
            "funnel": records(self.funnel),
            "exclusions": records(self.exclusions),
            "sources": records(self.sources),
            "batches": records(self.batches),
            "accuracy": _clean(asdict(self.accuracy)) if self.accuracy else None,
            "detection": records(self.detection),
            "ratings": {
                unit: {
                    "unit": cmp.unit,
                    "column": cmp.column,
                    "kruskal_h": _clean(cmp.kruskal_h),
                    "kruskal_p": _clean(cmp.kruskal_p),
                    "descriptives": records(cmp.descriptives),
                    "pairwise": records(cmp.pairwise),
                }
                for unit, cmp in self.ratings.items()
            },
            "musicality_counts": records(self.musicality_counts),
            "training": records(self.training),
            "items": records(self.items),
            "metrics": {name: records(table) for name, table in self.metrics.items()},
            "notes": list(self.notes),
        }


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table (index included when it is named) as JSON-safe dicts."""
    if any(name is not None for name in table.index.names):
        table = table.reset_index()
    return [_clean(row) for row in table.to_dict(orient="records")]


def funnel_counts(funnel: pd.DataFrame | None, frame: pd.DataFrame) -> pd.DataFrame:
    """Participants still in at each step (each step requires the earlier ones), then analysed."""
    rows = []
    if funnel is not None:
        still_in = np.ones(len(funnel), dtype=bool)
        for step in tidy.FUNNEL_STEPS:
            still_in &= funnel[step].to_numpy()
            rows.append({"step": step, "participants": int(still_in.sum())})
    analysed = frame.loc[~frame[tidy.EXCLUDED], tidy.PARTICIPANT].nunique()
    rows.append({"step": "analysed", "participants": int(analysed)})
    table = pd.DataFrame(rows, columns=["step", "participants"])
    table["dropped"] = (
        (table["participants"].shift(1) - table["participants"]).fillna(0).astype(int)
    )
    return table


def exclusion_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Participants and judgments removed by each pre-registered exclusion rule."""
    excluded = frame.loc[frame[tidy.EXCLUDED]]
    table = excluded.groupby(tidy.EXCLUSION_REASON, observed=True).agg(
        participants=(tidy.PARTICIPANT, "nunique"), judgments=(tidy.PARTICIPANT, "size")
    )
    table.index.name = "reason"
    return table.sort_values("participants", ascending=False)


def _verdict(row: pd.Series, alpha: float) -> str:
    if not np.isfinite(row["diff_vs_baseline"]):
        return NO_BASELINE
    equivalent = np.isfinite(row["tost_p_holm"]) and row["tost_p_holm"] < alpha
    different = np.isfinite(row["p_vs_baseline_holm"]) and row["p_vs_baseline_holm"] < alpha
    if equivalent:
        return PASSES_WITH_DIFFERENCE if different else PASSES
    return DIFFERENT if different else INCONCLUSIVE


def source_table(
    frame: pd.DataFrame,
    by: pd.Series | str,
    margin: float,
    alpha: float,
    level: float,
) -> pd.DataFrame:
    """Rates per group with Holm-corrected tests, TOST against the humans, and a verdict."""
    table = rate_table(frame, by=by, baseline=tidy.HUMAN, level=level)
    models = table.index != tidy.HUMAN
    table["p_vs_chance_holm"] = holm(table["p_vs_chance"].to_numpy())
    table["p_vs_baseline_holm"] = holm(table["p_vs_baseline"].to_numpy())
    tests = [
        tost(row.diff_vs_baseline, row.diff_se, row.diff_df, margin, alpha)
        if models[i] and np.isfinite(row.diff_vs_baseline)
        else None
        for i, row in enumerate(table.itertuples())
    ]
    table["tost_p"] = [t.p_value if t else np.nan for t in tests]
    table["tost_ci_low"] = [t.ci_low if t else np.nan for t in tests]
    table["tost_ci_high"] = [t.ci_high if t else np.nan for t in tests]
    table["tost_p_holm"] = holm(table["tost_p"].to_numpy())
    table["equivalent"] = np.isfinite(table["tost_p_holm"]) & (table["tost_p_holm"] < alpha)
    table["verdict"] = [
        _verdict(row, alpha) if models[i] else BASELINE
        for i, (_, row) in enumerate(table.iterrows())
    ]
    if tidy.HUMAN not in table.index:
        table["verdict"] = NO_BASELINE
    return table


def batch_labels(frame: pd.DataFrame) -> pd.Series:
    """'human' for human excerpts, 'model / batch' for generated ones (the model when no batch)."""
    source = frame[tidy.SOURCE].astype(str)
    batch = frame[tidy.BATCH].astype(str)
    with_batch = (frame[tidy.SOURCE_KIND] == tidy.MACHINE).to_numpy() & (batch != "").to_numpy()
    return source.where(~with_batch, source + " / " + batch)


def training_table(frame: pd.DataFrame, margin: float, alpha: float, level: float) -> pd.DataFrame:
    """Rates per source and mean d' separately for non-musicians and everyone else."""
    parts = []
    for name, mask in (
        (NON_MUSICIANS, frame[tidy.NON_MUSICIAN]),
        (EVERYONE_ELSE, ~frame[tidy.NON_MUSICIAN]),
    ):
        subset = frame.loc[mask]
        if subset.empty:
            continue
        table = source_table(subset, tidy.SOURCE, margin, alpha, level)
        sdt = sdt_table(subset, level)
        table["d_prime"] = sdt["d_prime"].reindex(table.index)
        table.loc[table.index == tidy.HUMAN, "d_prime"] = np.nan
        table.insert(0, "training", name)
        parts.append(table.reset_index())
    if not parts:
        return pd.DataFrame(columns=["training", "group"])
    return pd.concat(parts, ignore_index=True)


def item_table(frame: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per excerpt: how often it was judged human (Wilson interval), ratings; most human first.

    Each excerpt is heard at most once per participant, so its judgments come from different people
    and a binomial (Wilson) interval per excerpt is reasonable.
    """
    table = frame.groupby(tidy.ITEM, observed=True).agg(
        source=(tidy.SOURCE, "first"),
        batch=(tidy.BATCH, "first"),
        judgments=(tidy.JUDGED_HUMAN, "size"),
        judged_human=(tidy.JUDGED_HUMAN, "sum"),
        musicality=(tidy.MUSICALITY, "mean"),
        confidence=(tidy.CONFIDENCE, "mean"),
    )
    table["rate_human"] = table["judged_human"] / table["judgments"]
    bounds = [
        wilson(k, n, level) for k, n in zip(table["judged_human"], table["judgments"], strict=True)
    ]
    table["ci_low"] = [b[0] for b in bounds]
    table["ci_high"] = [b[1] for b in bounds]
    return table.sort_values(["rate_human", "judgments"], ascending=[False, False])


def build_report(
    frame: pd.DataFrame,
    funnel: pd.DataFrame | None = None,
    *,
    study: str = "",
    margin: float = DEFAULT_MARGIN,
    alpha: float = DEFAULT_ALPHA,
    level: float = 0.95,
    metrics: dict[str, pd.DataFrame] | None = None,
    preregistered_margin: float | None = None,
) -> Report:
    """Validate the inputs and compute every table of the report.

    ``metrics`` (optional) maps a model label to music_metrics.compare_sets output; it is passed
    through so the report shows objective metrics next to the listening results.
    ``preregistered_margin`` is the margin fixed when the study opened; a report computed with
    another one says so, since its verdicts are then exploratory.
    """
    frame = tidy.validate(frame)
    funnel = tidy.validate_funnel(funnel) if funnel is not None else None
    data = tidy.analysed(frame)
    notes: list[str] = []
    if preregistered_margin is not None and not math.isclose(margin, preregistered_margin):
        notes.append(
            f"The equivalence margin here ({margin * 100:g} points) is not the "
            f"{preregistered_margin * 100:g} points fixed when the study opened: treat these "
            "'passes' verdicts as exploratory."
        )
    totals = {
        "judgments": int(len(frame)),
        "judgments_analysed": int(len(data)),
        "participants_analysed": int(data[tidy.PARTICIPANT].nunique()),
        "items_analysed": int(data[tidy.ITEM].nunique()),
    }
    report = Report(
        study=study or (str(frame[tidy.STUDY].iloc[0]) if len(frame) else ""),
        margin=margin,
        alpha=alpha,
        level=level,
        totals=totals,
        funnel=funnel_counts(funnel, frame),
        exclusions=exclusion_counts(frame),
        sources=pd.DataFrame(),
        batches=pd.DataFrame(),
        accuracy=None,
        detection=pd.DataFrame(),
        participant_d_prime=pd.DataFrame(columns=["source", "d_prime"]),
        ratings={},
        musicality_counts=pd.DataFrame(),
        training=pd.DataFrame(),
        items=pd.DataFrame(),
        metrics=dict(metrics or {}),
        notes=notes,
    )
    if data.empty:
        notes.append("No analysable judgments yet.")
        return report
    if not (data[tidy.SOURCE_KIND] == tidy.HUMAN).any():
        notes.append("No human excerpts were judged: no baseline, no equivalence test, no d'.")

    report.sources = source_table(data, tidy.SOURCE, margin, alpha, level)
    report.batches = source_table(data, batch_labels(data), margin, alpha, level)
    report.accuracy = overall_accuracy(data, level)
    report.detection = sdt_table(data, level)
    report.participant_d_prime = _participant_d_primes(data)
    report.ratings = {
        unit: compare_ratings(data, tidy.MUSICALITY, unit) for unit in ("judgment", "item")
    }
    report.musicality_counts = musicality_counts(data)
    report.training = training_table(data, margin, alpha, level)
    report.items = item_table(data, level)
    notes.append(
        f"Intervals are {level:.0%}, with two-way (participant x item) cluster-robust standard "
        f"errors; 'passes' requires a Holm-corrected TOST within {margin * 100:g} percentage "
        f"points of the human rate at alpha {alpha}."
    )
    notes.append(
        "d' and c intervals allow for the excerpts as well as the participants (two-way "
        "cluster-robust variance of the mean, by the delta method): they hold for other excerpts "
        "from the same models, not only these. Too few participants or excerpts (fewer than two "
        "of either kind) leave them blank."
    )
    notes.append(
        "Musicality tests by judgment treat each rating as independent (comparable with Magenta's "
        "studies); the by-excerpt tests do not, and are the safer reading."
    )
    return report


def musicality_counts(data: pd.DataFrame) -> pd.DataFrame:
    """How many times each source got each musicality rating (columns 1..5)."""
    counts = pd.crosstab(data[tidy.SOURCE].astype(str), data[tidy.MUSICALITY])
    counts = counts.reindex(columns=range(tidy.SCALE[0], tidy.SCALE[1] + 1), fill_value=0)
    counts.columns = [str(c) for c in counts.columns]
    counts.index.name = "source"
    return counts


def _participant_d_primes(data: pd.DataFrame) -> pd.DataFrame:
    sources = sorted(data.loc[data[tidy.SOURCE_KIND] == tidy.MACHINE, tidy.SOURCE].unique())
    parts = []
    for source in (None, *sources):
        per = participant_sdt(data, source)
        parts.append(
            pd.DataFrame({"source": source or ALL_MACHINES, "d_prime": per["d_prime"].to_numpy()})
        )
    return pd.concat(parts, ignore_index=True)
