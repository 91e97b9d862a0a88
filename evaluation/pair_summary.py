"""The whole report of a pair (2AFC) study, built in one call from the pair table and the funnel.

The page, the JSON/CSV exports and ``manage.py report`` show this one object for a pair study,
as they show summary.Report for a single-excerpt one. Inferential statistics use only the rows
the study's exclusion rules keep; the funnel and the exclusion counts say how many were dropped.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evaluation import pairs, tidy
from evaluation.equivalence import DEFAULT_ALPHA
from evaluation.simulate import PairDesign, simulate_pair_study
from evaluation.spreadsheet import safe_frame, table_csv_text
from evaluation.summary import (
    _clean,
    exclusion_counts,
    funnel_counts,
    records,
    unplanned_alpha_note,
    unplanned_margin_note,
)

DEFAULT_PAIR_MARGIN = 0.10
TABLES = ("models", "training", "experience", "funnel", "exclusions")
# A margin asked for in d' units would be ignored by this report: say so rather than accept it.
PAIR_HAS_NO_D_PRIME = (
    "a pair study has no d' margin: its verdict asks whether listeners chose the person's "
    "excerpt within the margin of 50%, so set the margin instead"
)


@dataclass
class PairReport:
    """Everything the report page, the exports and the command show about one pair study."""

    study: str
    margin: float
    alpha: float
    level: float
    totals: dict[str, int]
    funnel: pd.DataFrame
    exclusions: pd.DataFrame
    models: pd.DataFrame
    position: dict[str, Any]
    training: pd.DataFrame
    experience: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    design: str = "pair"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN becomes None) with every table as a list of records."""
        return {
            "study": self.study,
            "design": self.design,
            "settings": {"margin": self.margin, "alpha": self.alpha, "level": self.level},
            "totals": self.totals,
            "funnel": records(self.funnel),
            "exclusions": records(self.exclusions),
            "models": records(self.models),
            "position": _clean(dict(self.position)),
            "training": records(self.training),
            "experience": records(self.experience),
            "notes": list(self.notes),
        }


def build_pair_report(
    frame: pd.DataFrame,
    funnel: pd.DataFrame | None = None,
    *,
    study: str = "",
    margin: float = DEFAULT_PAIR_MARGIN,
    alpha: float = DEFAULT_ALPHA,
    level: float = 0.95,
    experience_levels: list[str] | None = None,
    preregistered_margin: float | None = None,
) -> PairReport:
    """Validate the inputs and compute every table of the pair report.

    ``preregistered_margin`` is the margin around 50% fixed when the study opened; a report
    computed with another says so, since its "indistinguishable" verdicts are then exploratory.
    """
    frame = pairs.validate(frame)
    funnel = tidy.validate_funnel(funnel) if funnel is not None else None
    data = pairs.analysed(frame)
    notes: list[str] = [note] if (note := unplanned_alpha_note(alpha)) else []
    if preregistered_margin is not None and not math.isclose(margin, preregistered_margin):
        notes.append(
            unplanned_margin_note(
                "margin",
                f"{margin * 100:g} points around 50%",
                f"{preregistered_margin * 100:g} points",
                "indistinguishable",
            )
        )
    report = PairReport(
        study=study or (str(frame[pairs.STUDY].iloc[0]) if len(frame) else ""),
        margin=margin,
        alpha=alpha,
        level=level,
        totals={
            "pairs_answered": int(len(frame)),
            "pairs_analysed": int(len(data)),
            "participants_analysed": int(data[pairs.PARTICIPANT].nunique()),
            "distinct_pairs_analysed": int(data[pairs.PAIR].nunique()),
        },
        funnel=funnel_counts(funnel, frame),
        exclusions=exclusion_counts(frame).rename(columns={"judgments": "pairs"}),
        models=pd.DataFrame(),
        position={},
        training=pd.DataFrame(),
        experience=pd.DataFrame(),
        notes=notes,
    )
    if data.empty:
        notes.append("No analysable pairs yet.")
        return report
    report.models = pairs.model_table(data, margin, alpha, level)
    report.position = pairs.position_bias(data, level)
    report.training = pairs.training_table(data, level)
    report.experience = pairs.experience_table(data, list(experience_levels or []), level)
    notes.append(
        f"pc is the proportion of pairs in which the person's excerpt was chosen, shown with "
        f"{level:.0%} intervals that allow for participants, the person's excerpts and the "
        "machine's, each heard in many pairs (three-way cluster-robust variance, never below "
        "what any one of them alone gives); 50% is chance."
    )
    notes.append(
        f"'Indistinguishable' requires an equivalence test (TOST) showing pc within "
        f"{margin * 100:g} points of 50%; 'listeners tell it apart' requires the test of 50% to "
        f"reject. Both are Holm-corrected across models at alpha {alpha}; a model for which "
        "neither is shown is inconclusive."
    )
    if not report.training.empty or not report.experience.empty:
        notes.append(
            "The rows by musical training and by experience are exploratory: their tests of 50% "
            "are not corrected for how many groups there are."
        )
    notes.append(
        "d' = sqrt(2) z(pc), the 2AFC observer's sensitivity, on the single design's d' scale "
        "for unbiased listeners alike in sensitivity (listeners who differ, or favour one "
        "position, pull it towards 0); its interval is the pc interval's ends put through the "
        "same function."
    )
    notes.append(
        "A/B order was counterbalanced: a preference for one position (the position line) "
        "lowers pc but does not favour either kind of excerpt."
    )
    return report


def table_csv(report: PairReport, name: str) -> str:
    """One table of the pair report as CSV text; ``name`` is one of TABLES."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; choose one of {', '.join(TABLES)}")
    return table_csv_text(getattr(report, name), lambda: getattr(_example_report(), name))


@functools.cache
def _example_report() -> PairReport:
    """A small simulated pair study's report: the columns every table has once answers come
    in, so that a table downloaded before then still names them."""
    design = PairDesign(participants=12)
    frame = simulate_pair_study(design, seed=0)
    return build_pair_report(frame, experience_levels=list(design.experience_levels))


def pairs_csv(frame: pd.DataFrame) -> str:
    """The pair table (validated, canonical column order) as CSV text."""
    return safe_frame(pairs.validate(frame)).to_csv(index=False)


def _fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return "n/a" if value is None or not math.isfinite(value) else pattern.format(value)


def _p(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _pc_line(label: str, row: pd.Series) -> str:
    return (
        f"  {label:<24} pc {_fmt(row['pc'])} [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"
        f"  d' {_fmt(row['d_prime'], '{:+.2f}')} [{_fmt(row['d_prime_ci_low'], '{:+.2f}')}, "
        f"{_fmt(row['d_prime_ci_high'], '{:+.2f}')}]  p(50%) {_p(row['p_vs_chance'])}"
        f"  n {int(row['pairs_answered'])} pairs, {int(row['participants'])} people"
    )


def report_text(report: PairReport) -> str:
    """The pair report as plain text: what ``manage.py report STUDY`` prints."""
    lines = [
        f"Pair (2AFC) study {report.study}: which of two excerpts was composed by a person?",
        f"{report.totals['pairs_analysed']} pairs analysed from "
        f"{report.totals['participants_analysed']} participants "
        f"({report.totals['pairs_answered']} answered).",
        "",
        "Funnel:",
        *(
            f"  {row.step:<18} {row.participants:>5}  (-{row.dropped})"
            for row in report.funnel.itertuples()
        ),
    ]
    if not report.exclusions.empty:
        lines += ["Excluded by the study's rules:"]
        lines += [
            f"  {reason}: {row.participants} participants, {row.pairs} pairs"
            for reason, row in report.exclusions.iterrows()
        ]
    if not report.models.empty:
        lines += ["", f"Proportion correct per model ({report.level:.0%} intervals):"]
        for label, row in report.models.iterrows():
            lines.append(_pc_line(str(label), row))
            if row.get("verdict"):
                lines.append(
                    f"    test of pc = 0.5: p {_p(row['p_vs_chance_holm'])} (Holm), "
                    f"{_fmt(row['chance_ci_level'], '{:.0%}')} interval "
                    f"[{_fmt(row['chance_ci_low'])}, {_fmt(row['chance_ci_high'])}]"
                )
                lines.append(
                    f"    TOST {_fmt(0.5 - report.margin, '{:.2f}')} < pc < "
                    f"{_fmt(0.5 + report.margin, '{:.2f}')}: p {_p(row['tost_p_holm'])} (Holm), "
                    f"{_fmt(row['tost_ci_level'], '{:.0%}')} interval "
                    f"[{_fmt(row['tost_ci_low'])}, {_fmt(row['tost_ci_high'])}]"
                )
                lines.append(f"    verdict: {row['verdict']}")
    if report.position:
        position = report.position
        lines += [
            "",
            f"Position: A chosen {position['chose_a']}, B chosen {position['chose_b']}; share A "
            f"{_fmt(position['share_a'])} [{_fmt(position['ci_low'])}, "
            f"{_fmt(position['ci_high'])}], p(50%) {_p(position['p_vs_even'])}; pc when the "
            f"person's was A {_fmt(position['pc_when_a_human'])}, when B "
            f"{_fmt(position['pc_when_b_human'])}",
        ]
    for title, table in (
        ("By musical training (all models)", report.training),
        ("By music experience, as BachBot's table (all models)", report.experience),
    ):
        if not table.empty:
            lines += ["", f"{title}:"]
            lines += [_pc_line(str(label), row) for label, row in table.iterrows()]
    lines += ["", "Notes:", *(f"- {note}" for note in report.notes)]
    return "\n".join(lines) + "\n"
