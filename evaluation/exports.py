"""The report and the tidy table as files: CSV, JSON and plain text.

CSV of the tidy answer table lets anyone redo the analysis elsewhere; JSON carries the whole report;
the text form is what ``manage.py report`` prints. All are built from the one Report object, so they
agree with the page.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd

from evaluation import tidy
from evaluation.pair_summary import PairReport
from evaluation.simulate import StudyDesign, simulate_study
from evaluation.spreadsheet import safe_frame, table_csv_text
from evaluation.summary import Report, build_report, headline

TABLES = ("sources", "batches", "detection", "training", "items", "funnel", "exclusions")


def tidy_csv(frame: pd.DataFrame) -> str:
    """The tidy answer table (validated, canonical column order) as CSV text."""
    return safe_frame(tidy.validate(frame)).to_csv(index=False)


def report_json(report: Report | PairReport) -> str:
    """The whole report, of either design, as JSON (NaN written as null)."""
    return json.dumps(report.to_dict(), indent=2, allow_nan=False)


def table_csv(report: Report, name: str) -> str:
    """One table of the report as CSV text; ``name`` is one of TABLES."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; choose one of {', '.join(TABLES)}")
    return table_csv_text(getattr(report, name), lambda: getattr(_example_report(), name))


@functools.cache
def _example_report() -> Report:
    """A small simulated study's report: the columns every table has once answers come in, so
    that a table downloaded before then still names them (an empty file broke read_csv)."""
    design = StudyDesign(participants=12, trials_per_source=4, items_per_source=8)
    return build_report(*simulate_study(design, seed=0))


def _fmt(value: float, pattern: str = "{:.3f}") -> str:
    return "n/a" if value is None or not np.isfinite(value) else pattern.format(value)


def _p(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def headline_text(report: Report) -> str:
    """The report's headline in plain words: what was shown, and nothing more."""
    top = headline(report.sources)
    if report.sources.empty or len(report.sources.index.difference([tidy.HUMAN])) == 0:
        return ""
    if not top.baseline:
        return "No human excerpts were judged, so no model can be compared with them."
    margin = f"±{report.margin * 100:g} percentage points"
    if top.passing:
        verb = "passes" if len(top.passing) == 1 else "pass"
        words = [
            f"{_names(top.passing)} {verb} for human: judged human within {margin} of the human"
            " excerpts' rate."
        ]
        if top.detectable:
            words.append(
                f"For {_names(top.detectable)} a smaller difference from that rate is detectable."
            )
    else:
        words = [f"No model was shown to pass for human (within {margin})."]
    if top.distinguishable:
        verb = "is" if len(top.distinguishable) == 1 else "are"
        words.append(f"{_names(top.distinguishable)} {verb} distinguishable from human.")
    if top.undecided:
        words.append(
            f"For {_names(top.undecided)} the study shows neither a difference nor equivalence."
        )
    return " ".join(words)


def _interval(row: pd.Series, prefix: str, pattern: str = "{:+.3f}") -> str:
    return (
        f"[{_fmt(row[f'{prefix}_ci_level'], '{:.1%}')} CI {_fmt(row[f'{prefix}_ci_low'], pattern)}"
        f", {_fmt(row[f'{prefix}_ci_high'], pattern)}]"
    )


def report_text(report: Report) -> str:
    """A plain-text summary of the report for a terminal."""
    lines = [f"Study: {report.study}", ""]
    totals = report.totals
    lines.append(
        f"Analysed {totals['judgments_analysed']} of {totals['judgments']} judgments from "
        f"{totals['participants_analysed']} participants on {totals['items_analysed']} excerpts."
    )
    if not report.funnel.empty:
        steps = ", ".join(f"{r.step} {r.participants}" for r in report.funnel.itertuples())
        lines.append(f"Funnel: {steps}.")
    for reason, row in report.exclusions.iterrows():
        lines.append(
            f"Excluded ({reason}): {row['participants']} participants, "
            f"{row['judgments']} judgments."
        )
    if headline_text(report):
        lines.extend(["", headline_text(report)])
    lines.append("")
    if not report.sources.empty:
        lines.append("Rate judged human per source (95% CI; Holm-adjusted p):")
        for label, row in report.sources.iterrows():
            line = (
                f"  {label:<24} {_fmt(row['rate_human'])} "
                f"[{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"
                f"  n={row['judgments']} participants={row['participants']} items={row['items']}"
                f"  p(vs 50%)={_p(row['p_vs_chance_holm'])}"
            )
            if label != tidy.HUMAN and np.isfinite(row["diff_vs_baseline"]):
                line += (
                    f"  diff vs human={_fmt(row['diff_vs_baseline'], '{:+.3f}')}"
                    f" {_interval(row, 'diff')} p={_p(row['p_vs_baseline_holm'])}"
                    f" TOST p={_p(row['tost_p_holm'])} {_interval(row, 'tost')}"
                )
            lines.append(line)
            if label != tidy.HUMAN:
                lines.append(f"  {'':<24} -> {row['verdict']}")
    if report.accuracy is not None:
        acc = report.accuracy
        lines.append(
            f"Overall accuracy: {_fmt(acc.estimate)} [{_fmt(acc.ci_low)}, {_fmt(acc.ci_high)}], "
            f"p(vs 50%)={_p(acc.p_value)}"
        )
    if not report.detection.empty:
        lines.append("")
        lines.append(
            "Discrimination (true d' and mean c; 95% CI for participants and excerpts; "
            f"d' margin ±{report.d_prime_margin:g}; Holm-adjusted p):"
        )
        for label, row in report.detection.iterrows():
            lines.append(
                f"  {label:<24} d'={_fmt(row['d_prime'])} [{_fmt(row['d_prime_ci_low'])}, "
                f"{_fmt(row['d_prime_ci_high'])}] (participants' mean "
                f"{_fmt(row['participants_mean_d_prime'])}) p(d'=0)="
                f"{_p(row['p_d_prime_vs_0_holm'])} TOST p={_p(row['d_prime_tost_p_holm'])} "
                f"{_interval(row, 'd_prime_tost', '{:.3f}')}  c={_fmt(row['criterion'])} "
                f"[{_fmt(row['criterion_ci_low'])}, {_fmt(row['criterion_ci_high'])}]  "
                f"participants={int(row['participants'])} excerpts={int(row['items'])}"
            )
            lines.append(f"  {'':<24} -> {row['d_prime_verdict']}")
    for unit, cmp in report.ratings.items():
        lines.append(
            f"Musicality by {unit}: Kruskal-Wallis H={_fmt(cmp.kruskal_h, '{:.2f}')} "
            f"p={_p(cmp.kruskal_p)}"
        )
    if not report.training.empty:
        lines.append("")
        lines.append("By musical training (rate judged human):")
        for row in report.training.itertuples():
            lines.append(
                f"  {row.training:<14} {row.group:<24} {_fmt(row.rate_human)} "
                f"[{_fmt(row.ci_low)}, {_fmt(row.ci_high)}] n={row.judgments}"
            )
    lines.append("")
    lines.extend(report.notes)
    return "\n".join(lines) + "\n"
