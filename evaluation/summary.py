"""The whole report of a study, built in one call from the tidy answer table and the funnel.

The page, the JSON/CSV exports and ``manage.py report`` all show this one object, so they can never
disagree. Inferential statistics use only the rows the study's exclusion rules keep; the funnel and
the exclusion counts say how many were dropped and why.

Families of tests are Holm-corrected: the tests against chance (all sources), the differences from
the human excerpts (all models), the equivalence tests (all models), and d''s tests of 0 and of
equivalence (all models). Words follow tests, at their stated error rate:

- a model *passes for human* only when its Holm-adjusted equivalence test (TOST) of the rate
  judged human succeeds;
- it is *distinguishable from human* only when its Holm-adjusted difference test rejects;
- otherwise it is *inconclusive*, never a pass; a headline with no pass says "No model was shown
  to pass", not that models failed;
- the same three words for d': "listeners cannot tell", "listeners can tell", inconclusive.

Every interval shown beside one of these verdicts is the one its decision used: (1 - a) for a
two-sided test, (1 - 2a) for a TOST, a being the Holm level of that model's test
(multiple.holm_levels). Its level is in the ``*_ci_level`` column beside it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluation import tidy
from evaluation.detection import ALL_MACHINES, participant_sdt, sdt_table
from evaluation.equivalence import DEFAULT_ALPHA, DEFAULT_D_PRIME_MARGIN, DEFAULT_MARGIN
from evaluation.multiple import holm, holm_decisions
from evaluation.rates import Estimate, overall_accuracy, rate_table, table_difference, wilson
from evaluation.ratings import UNITS, RatingComparison, compare_ratings

NON_MUSICIANS = "non-musicians"
EVERYONE_ELSE = "everyone else"  # musicians, and anyone whose training is unknown

PASSES = "passes: equivalent to human within the margin"
PASSES_WITH_DIFFERENCE = "within the margin of human, though a small difference is detectable"
DIFFERENT = "distinguishable from human"
INCONCLUSIVE = "inconclusive: neither a difference nor equivalence shown"
NO_BASELINE = "no human excerpts to compare with"
BASELINE = "baseline"

CANNOT_TELL = "listeners cannot tell it from human: d' within the margin"
CANNOT_TELL_WITH_DIFFERENCE = "d' within the margin, though listeners tell it apart slightly"
CAN_TELL = "listeners can tell it from human"
TAKEN_FOR_HUMAN = "taken for human more often than the human excerpts (d' below 0)"
D_INCONCLUSIVE = "inconclusive: neither a d' above 0 nor one within the margin shown"


@dataclass
class Report:
    """Everything the report page, the exports and the command show about one study."""

    study: str
    margin: float
    alpha: float
    level: float
    d_prime_margin: float
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
            "settings": {
                "margin": self.margin,
                "d_prime_margin": self.d_prime_margin,
                "alpha": self.alpha,
                "level": self.level,
            },
            "headline": asdict(headline(self.sources)),
            "totals": self.totals,
            "funnel": records(self.funnel),
            "exclusions": records(self.exclusions),
            "sources": records(self.sources),
            "batches": records(self.batches),
            "accuracy": _estimate_record(self.accuracy) if self.accuracy else None,
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


def _estimate_record(estimate: Estimate) -> dict[str, Any]:
    """An estimate's figures; what its interval was built from stays behind."""
    return _clean({k: v for k, v in asdict(estimate).items() if k != "score"})


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


def decision_intervals(
    table: pd.DataFrame, prefix: str, p_column: str, sides: int, alpha: float
) -> None:
    """Holm-adjust ``p_column`` and put beside it the difference-from-human interval its
    decision used (multiple.holm_decisions)."""

    def interval(label, level: float) -> tuple[float, float]:
        return table_difference(table, label, tidy.HUMAN).interval(level)

    holm_decisions(table, prefix, p_column, sides, alpha, interval)


def source_table(
    frame: pd.DataFrame,
    by: pd.Series | str,
    margin: float,
    alpha: float,
    level: float,
) -> pd.DataFrame:
    """Rates per group with Holm-corrected tests, TOST against the humans, and a verdict.

    ``ci_low``/``ci_high`` are the rate's ``level`` interval; the difference and equivalence
    intervals are those of their Holm-adjusted decisions (levels in ``diff_ci_level`` and
    ``tost_ci_level``).
    """
    table = rate_table(frame, by=by, baseline=tidy.HUMAN, level=level)
    models = table.index != tidy.HUMAN
    table["p_vs_chance_holm"] = holm(table["p_vs_chance"].to_numpy())
    table["tost_p"] = [
        table_difference(table, label, tidy.HUMAN).tost(-margin, margin, alpha).p_value
        if models[i] and np.isfinite(table.loc[label, "diff_vs_baseline"])
        else np.nan
        for i, label in enumerate(table.index)
    ]
    decision_intervals(table, "diff", "p_vs_baseline", 1, alpha)
    decision_intervals(table, "tost", "tost_p", 2, alpha)
    table["equivalent"] = np.isfinite(table["tost_p_holm"]) & (table["tost_p_holm"] < alpha)
    table["verdict"] = [
        _verdict(row, alpha) if models[i] else BASELINE
        for i, (_, row) in enumerate(table.iterrows())
    ]
    if tidy.HUMAN not in table.index:
        table["verdict"] = NO_BASELINE
    return table


def _d_prime_verdict(row: pd.Series) -> str:
    if not row["participants"]:
        return NO_BASELINE
    if row["d_prime_equivalent"]:
        return CANNOT_TELL_WITH_DIFFERENCE if row["d_prime_different"] else CANNOT_TELL
    if row["d_prime_different"]:
        return CAN_TELL if row["d_prime"] > 0 else TAKEN_FOR_HUMAN
    return D_INCONCLUSIVE


def detection_table(
    frame: pd.DataFrame, d_prime_margin: float, alpha: float, level: float
) -> pd.DataFrame:
    """d' and c per model and for all machines (detection.sdt_table), with a verdict in words."""
    table = sdt_table(frame, level, d_prime_margin, alpha)
    table["d_prime_verdict"] = [_d_prime_verdict(row) for _, row in table.iterrows()]
    return table


@dataclass(frozen=True)
class Headline:
    """The top of the report: which models were shown to pass, and which to differ."""

    baseline: bool  # were human excerpts judged?
    passing: list[str]
    distinguishable: list[str]
    undecided: list[str]
    # Passing models whose small difference from the human rate is detectable all the same: the
    # headline must not say they were judged human as often as the human excerpts.
    detectable: list[str]


def headline(sources: pd.DataFrame) -> Headline:
    """Sort the models by what their Holm-adjusted tests showed (see the module docstring)."""
    if sources.empty:
        return Headline(False, [], [], [], [])
    verdicts = sources["verdict"].drop(index=tidy.HUMAN, errors="ignore")
    names = {
        kind: [str(label) for label, verdict in verdicts.items() if verdict in words]
        for kind, words in (
            ("passing", (PASSES, PASSES_WITH_DIFFERENCE)),
            ("distinguishable", (DIFFERENT,)),
            ("undecided", (INCONCLUSIVE,)),
            ("detectable", (PASSES_WITH_DIFFERENCE,)),
        )
    }
    return Headline(tidy.HUMAN in sources.index, **names)


def batch_labels(frame: pd.DataFrame) -> pd.Series:
    """'human' for human excerpts, 'model / batch' for generated ones (the model when no batch)."""
    source = frame[tidy.SOURCE].astype(str)
    batch = frame[tidy.BATCH].astype(str)
    with_batch = (frame[tidy.SOURCE_KIND] == tidy.MACHINE).to_numpy() & (batch != "").to_numpy()
    return source.where(~with_batch, source + " / " + batch)


def training_table(
    frame: pd.DataFrame, margin: float, d_prime_margin: float, alpha: float, level: float
) -> pd.DataFrame:
    """Rates per source and d' separately for non-musicians and everyone else."""
    parts = []
    for name, mask in (
        (NON_MUSICIANS, frame[tidy.NON_MUSICIAN]),
        (EVERYONE_ELSE, ~frame[tidy.NON_MUSICIAN]),
    ):
        subset = frame.loc[mask]
        if subset.empty:
            continue
        table = source_table(subset, tidy.SOURCE, margin, alpha, level)
        sdt = detection_table(subset, d_prime_margin, alpha, level)
        table["d_prime"] = sdt["d_prime"].reindex(table.index)
        table["d_prime_verdict"] = sdt["d_prime_verdict"].reindex(table.index)
        table.loc[table.index == tidy.HUMAN, ["d_prime", "d_prime_verdict"]] = np.nan
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


def unplanned_margin_note(name: str, here: str, planned: str, verdicts: str) -> str:
    """The note a report carries when a margin differs from the one fixed when the study opened:
    the verdicts that margin decides were not planned, so they only suggest."""
    return (
        f"The {name} here ({here}) is not the {planned} fixed when the study opened: treat "
        f"these '{verdicts}' verdicts as exploratory."
    )


def unplanned_alpha_note(alpha: float) -> str | None:
    """The note a report carries when computed at another alpha than every study is planned at:
    a level chosen after seeing the answers can turn any verdict, so they only suggest."""
    if math.isclose(alpha, DEFAULT_ALPHA):
        return None
    return (
        f"Alpha here is {alpha:g}, not the {DEFAULT_ALPHA:g} the study was planned at: treat "
        "every verdict as exploratory."
    )


def build_report(
    frame: pd.DataFrame,
    funnel: pd.DataFrame | None = None,
    *,
    study: str = "",
    margin: float = DEFAULT_MARGIN,
    d_prime_margin: float = DEFAULT_D_PRIME_MARGIN,
    alpha: float = DEFAULT_ALPHA,
    level: float = 0.95,
    metrics: dict[str, pd.DataFrame] | None = None,
    preregistered_margin: float | None = None,
    preregistered_d_prime_margin: float | None = None,
) -> Report:
    """Validate the inputs and compute every table of the report.

    ``metrics`` (optional) maps a model label to music_metrics.compare_sets output; it is passed
    through so the report shows objective metrics next to the listening results.
    ``preregistered_margin`` and ``preregistered_d_prime_margin`` are the margins fixed when the
    study opened; a report computed with others says so, since its verdicts are then exploratory.
    """
    frame = tidy.validate(frame)
    funnel = tidy.validate_funnel(funnel) if funnel is not None else None
    data = tidy.analysed(frame)
    notes: list[str] = [note] if (note := unplanned_alpha_note(alpha)) else []
    if preregistered_margin is not None and not math.isclose(margin, preregistered_margin):
        notes.append(
            unplanned_margin_note(
                "equivalence margin",
                f"{margin * 100:g} points",
                f"{preregistered_margin * 100:g} points",
                "passes",
            )
        )
    if preregistered_d_prime_margin is not None and not math.isclose(
        d_prime_margin, preregistered_d_prime_margin
    ):
        notes.append(
            unplanned_margin_note(
                "d' equivalence margin",
                f"{d_prime_margin:g}",
                f"{preregistered_d_prime_margin:g}",
                "listeners cannot tell",
            )
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
        d_prime_margin=d_prime_margin,
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
    report.detection = detection_table(data, d_prime_margin, alpha, level)
    report.participant_d_prime = _participant_d_primes(data)
    report.ratings = {unit: compare_ratings(data, tidy.MUSICALITY, unit) for unit in UNITS}
    report.musicality_counts = musicality_counts(data)
    report.training = training_table(data, margin, d_prime_margin, alpha, level)
    report.items = item_table(data, level)
    if not report.training.empty or len(report.batches) > len(report.sources):
        notes.append(
            "Only the verdicts per model keep the stated error rate. Those per batch and per "
            "musical-training group are each Holm-corrected within their own table, not with "
            "the models' and each other's: read them as exploratory."
        )
    notes.append(
        f"Rates and d' are shown with {level:.0%} intervals that allow for participants and "
        "excerpts both (crossed-design cluster-robust variances, never below what either alone "
        "gives). A rate's interval is Wilson's score interval on its effective sample size, "
        "and a difference's is built from two of them, so near 0% or 100% they reach further "
        "towards the middle than towards the edge. "
        "Each verdict is shown with the interval its own test used, labelled with its "
        f"level: tests are Holm-corrected across models at alpha {alpha}, so with several "
        "models those intervals are wider than the usual 95% (a difference) or 90% (an "
        "equivalence test)."
    )
    notes.append(
        f"'Passes for human' requires an equivalence test (TOST) showing the rate judged human "
        f"within {margin * 100:g} percentage points of the human excerpts' rate; "
        "'distinguishable from human' requires the difference test to reject. A model for which "
        "neither is shown is inconclusive: not a pass, and not a failure."
    )
    notes.append(
        f"'Listeners cannot tell' requires an equivalence test showing d' within "
        f"±{d_prime_margin:g}; 'listeners can tell' requires the test of d' = 0 to reject. Each "
        "participant's rates get the log-linear correction, which pulls d' towards 0; d', its "
        "intervals and both tests are read on the scale of the true d', undoing that pull. "
        "How far it pulls depends on how much listeners differ in their own d', so both verdicts "
        "must hold for any spread of it up to 0.5 (SD); where listeners differ more, 'cannot "
        "tell' is said of models listeners can tell too often, and the rate verdicts above are "
        "the ones to rely on."
    )
    notes.append(
        "d' and c intervals allow for the excerpts as well as the participants (two-way "
        "cluster-robust variance of the mean, by the delta method): they hold for other excerpts "
        "from the same models, not only these. Too few participants or excerpts (fewer than two "
        "of either kind) leave them blank."
    )
    notes.append(
        "Musicality tests by judgment treat each rating as independent (comparable with Magenta's "
        "studies): where excerpts differ their p-values are too small (15-21% of simulated "
        "studies rejected at 5% a model rated like the human excerpts). The by-excerpt tests do "
        "not, and are the reading to rely on."
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
