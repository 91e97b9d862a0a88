"""The pair (2AFC) design's answer table and its statistics.

A pair trial plays one human and one machine excerpt, A then B, and asks which one a person
composed. One row of the pair table is one answered experimental pair. The statistic is the
proportion of pairs answered right (pc) per model, with the crossed-design variance of
``rates.group_rates`` over three kinds of cluster: participants, the person's excerpts and the
machine's, and the Wilson interval on its effective size (``rates.rate_estimate``). A held-out
chorale turns up in many pairs, each with another machine excerpt; clustering by the pair alone
took each of those pairs for an independent excerpt, and with 6 chorales and 9 machine pieces of
differing difficulty its 95% interval covered pc only 56-71% of the time; over the three kinds it
covers 95-97% (bench/error_rates.py).

- **Against chance.** pc = 0.5 is a listener who cannot tell; the score test of 50%.
- **Indistinguishable** only when a TOST shows pc inside 0.5 +- the margin fixed in the study's
  rules when it opened (``equivalence_margin_pair_points``), at the Holm-adjusted level of each
  model as in the single design.
- **2AFC d'** = sqrt(2) * z(pc) (Macmillan & Creelman, 2005, ch. 7): the same sensitivity as the
  single design's yes/no d' for unbiased listeners alike in sensitivity; pc pooled over listeners
  who differ, or who favour one position, gives a d' nearer 0 (Jensen's inequality), so a
  comparison with the single design is rough. Its interval maps the pc interval's ends through
  the same function (monotone, so the coverage is the pc interval's).
- **Position bias**: how often excerpt A was chosen, against 50%. A/B order is counterbalanced,
  so a bias towards one position costs accuracy but does not move pc's expectation.
- **By musical training and experience**: pc per group, pooled over models, as BachBot's table
  (Liang et al. 2017) gave the proportion correct per experience group.

Nothing here imports Django: the input is the pair table as a DataFrame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.equivalence import DEFAULT_ALPHA
from evaluation.multiple import holm_decisions
from evaluation.rates import CHANCE, Estimate, group_rates, rate_estimate
from evaluation.score_intervals import ScoreContrast
from evaluation.tidy import TidyTableError, as_bool, as_text

STUDY = "study"
PARTICIPANT = "participant"
PAIR = "pair"  # the two excerpts, as "human item + machine item"
HUMAN_ITEM = "human_item"
MACHINE_ITEM = "machine_item"
SOURCE = "source"  # the machine excerpt's model label
BATCH = "batch"  # the machine excerpt's generation batch, "" when none
HUMAN_FIRST = "human_first"  # excerpt A was the person's
CHOSE_A = "chose_a"
CORRECT = "correct"  # chose the person's excerpt
CONFIDENCE = "confidence"
RESPONSE_MS = "response_ms"
PLAYS = "plays"
MUSICAL_TRAINING_YEARS = "musical_training_years"
GOLD_MSI_TRAINING = "gold_msi_training"
NON_MUSICIAN = "non_musician"
EXPERIENCE = "experience"  # self-rated level, "" when not asked or not answered
ATTENTION_PASSED = "attention_passed"
HEADPHONE_PASSED = "headphone_passed"
COMPLETED = "completed"
EXCLUDED = "excluded"
EXCLUSION_REASON = "exclusion_reason"

TEXT_COLUMNS = (
    STUDY,
    PARTICIPANT,
    PAIR,
    HUMAN_ITEM,
    MACHINE_ITEM,
    SOURCE,
    BATCH,
    EXPERIENCE,
    EXCLUSION_REASON,
)
BOOL_COLUMNS = (
    HUMAN_FIRST,
    CHOSE_A,
    CORRECT,
    NON_MUSICIAN,
    ATTENTION_PASSED,
    HEADPHONE_PASSED,
    COMPLETED,
    EXCLUDED,
)
NUMBER_COLUMNS = (CONFIDENCE, RESPONSE_MS, PLAYS, MUSICAL_TRAINING_YEARS, GOLD_MSI_TRAINING)
COLUMNS = (
    STUDY,
    PARTICIPANT,
    PAIR,
    HUMAN_ITEM,
    MACHINE_ITEM,
    SOURCE,
    BATCH,
    HUMAN_FIRST,
    CHOSE_A,
    CORRECT,
    CONFIDENCE,
    RESPONSE_MS,
    PLAYS,
    MUSICAL_TRAINING_YEARS,
    GOLD_MSI_TRAINING,
    NON_MUSICIAN,
    EXPERIENCE,
    ATTENTION_PASSED,
    HEADPHONE_PASSED,
    COMPLETED,
    EXCLUDED,
    EXCLUSION_REASON,
)
# What one answer gives; the other columns are its participant's.
ANSWER_COLUMNS = COLUMNS[1:13]

ALL_MODELS = "all models"
NON_MUSICIANS = "non-musicians"
EVERYONE_ELSE = "everyone else"  # musicians, and anyone whose training is unknown
NOT_SAID = "not asked or not said"

INDISTINGUISHABLE = "indistinguishable: pc within the margin of 50%"
INDISTINGUISHABLE_BUT_ABOVE = "within the margin of 50%, though listeners tell a little"
INDISTINGUISHABLE_BUT_BELOW = (
    "within the margin of 50%, though the machine's excerpt is taken for the person's a little "
    "more often"
)
TOLD_APART = "listeners tell it apart: pc above 50%"
BELOW_CHANCE = "taken for the person's more often than not: pc below 50%"
INCONCLUSIVE = "inconclusive: neither pc above 50% nor within the margin shown"


class PairTableError(TidyTableError):
    """The pair table does not meet its contract; the message says which column and rows."""


def validate(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a pair table and return a copy with canonical dtypes and column order.

    Raises a TidyTableError naming the first broken rule: the answer table's own column checks,
    or a PairTableError for the rules only pairs have.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise PairTableError(f"missing column(s): {missing}")
    out = pd.DataFrame(index=frame.index)
    for column in TEXT_COLUMNS:
        out[column] = as_text(frame, column)
    for column in BOOL_COLUMNS:
        out[column] = as_bool(frame, column)
    for column in NUMBER_COLUMNS:
        out[column] = pd.to_numeric(frame[column], errors="raise").astype(float)
    wrong = out[CORRECT] != (out[CHOSE_A] == out[HUMAN_FIRST])
    if wrong.any():
        raise PairTableError(
            f"{CORRECT!r} disagrees with chose_a and human_first in {wrong.sum()} row(s)"
        )
    twice = out.duplicated([STUDY, PARTICIPANT, HUMAN_ITEM]) | out.duplicated(
        [STUDY, PARTICIPANT, MACHINE_ITEM]
    )
    if twice.any():
        raise PairTableError(f"a participant heard an excerpt twice in {twice.sum()} row(s)")
    if (out[EXCLUDED] & (out[EXCLUSION_REASON] == "")).any():
        raise PairTableError("excluded rows need an exclusion_reason")
    return out[list(COLUMNS)].reset_index(drop=True)


def empty() -> pd.DataFrame:
    """A valid pair table with no rows."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in TEXT_COLUMNS})
    for column in BOOL_COLUMNS:
        frame[column] = pd.Series(dtype=bool)
    for column in NUMBER_COLUMNS:
        frame[column] = pd.Series(dtype=float)
    return frame[list(COLUMNS)]


def analysed(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows the study's exclusion rules keep."""
    return frame.loc[~frame[EXCLUDED]].reset_index(drop=True)


def d_prime_2afc(pc: float | np.ndarray) -> float | np.ndarray:
    """Sensitivity from the proportion correct of an unbiased 2AFC observer: sqrt(2) z(pc)."""
    return np.sqrt(2.0) * stats.norm.ppf(pc)


def proportion_correct(
    frame: pd.DataFrame, groups: pd.Series | np.ndarray, level: float = 0.95
) -> dict[str, Estimate]:
    """pc per group with its crossed (participants x person's x machine's excerpts) interval and
    its test of 50%."""
    rates = group_rates(
        frame[CORRECT], groups, frame[PARTICIPANT], frame[HUMAN_ITEM], frame[MACHINE_ITEM]
    )
    return {label: rate_estimate(rates, label, CHANCE, level) for label in rates.labels}


def _row(estimate: Estimate, part: pd.DataFrame) -> dict:
    return {
        "pairs_answered": len(part),
        "participants": part[PARTICIPANT].nunique(),
        "pairs": part[PAIR].nunique(),
        "pc": estimate.estimate,
        "se": estimate.se,
        "n_effective": estimate.score.effective_n[0],
        "ci_low": estimate.ci_low,
        "ci_high": estimate.ci_high,
        "df": estimate.df,
        "p_vs_chance": estimate.p_value,
        "d_prime": d_prime_2afc(estimate.estimate),
        "d_prime_ci_low": d_prime_2afc(estimate.ci_low),
        "d_prime_ci_high": d_prime_2afc(estimate.ci_high),
    }


def _verdict(row: pd.Series, alpha: float) -> str:
    equivalent = np.isfinite(row["tost_p_holm"]) and row["tost_p_holm"] < alpha
    told = np.isfinite(row["p_vs_chance_holm"]) and row["p_vs_chance_holm"] < alpha
    if equivalent and told:
        return INDISTINGUISHABLE_BUT_ABOVE if row["pc"] > CHANCE else INDISTINGUISHABLE_BUT_BELOW
    if equivalent:
        return INDISTINGUISHABLE
    if told:
        return TOLD_APART if row["pc"] > CHANCE else BELOW_CHANCE
    return INCONCLUSIVE


def _score(row) -> ScoreContrast:
    """A model row's pc, rebuilt for its score tests and intervals at other levels."""
    return ScoreContrast((row.pc,), (row.n_effective,), 0.0, row.se, int(row.df))


def _decision_intervals(
    table: pd.DataFrame, prefix: str, p_column: str, sides: int, alpha: float
) -> None:
    """Holm-adjust ``p_column`` over the models and put beside it the pc interval its decision
    used (multiple.holm_decisions): the test of 50% and the TOST."""

    def interval(label, level: float) -> tuple[float, float]:
        return _score(table.loc[label]).interval(level)

    holm_decisions(table, prefix, p_column, sides, alpha, interval)


def model_table(
    frame: pd.DataFrame, margin: float, alpha: float = DEFAULT_ALPHA, level: float = 0.95
) -> pd.DataFrame:
    """Per model: pc with its ``level`` interval and test of 50% (Holm-adjusted over models),
    2AFC d' with its interval, the TOST of "indistinguishable" and a verdict in words; then a
    row for all models together (no verdict: the per-model tests decide)."""
    if not 0 < margin < 0.5:
        raise ValueError(f"the pc margin must lie between 0 and 0.5, got {margin}")
    data = analysed(frame)
    if data.empty:
        return pd.DataFrame()
    labels = data[SOURCE].astype(str)
    per_model = proportion_correct(data, labels, level)
    rows = {label: _row(est, data[labels == label]) for label, est in per_model.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    _decision_intervals(table, "chance", "p_vs_chance", 1, alpha)
    bounds = (CHANCE - margin, CHANCE + margin)
    table["tost_p"] = [_score(row).tost(*bounds, alpha).p_value for row in table.itertuples()]
    _decision_intervals(table, "tost", "tost_p", 2, alpha)
    table["verdict"] = [_verdict(row, alpha) for _, row in table.iterrows()]
    if len(table) > 1:
        pooled = proportion_correct(data, np.zeros(len(data), dtype=int), level)
        table.loc[ALL_MODELS] = pd.Series(_row(next(iter(pooled.values())), data))
        table.loc[ALL_MODELS, "verdict"] = ""
    table.index.name = "source"
    return table


def position_bias(frame: pd.DataFrame, level: float = 0.95) -> dict:
    """How often excerpt A was chosen, with its crossed interval and its test of 50%."""
    data = analysed(frame)
    if data.empty:
        return {}
    rates = group_rates(
        data[CHOSE_A],
        np.zeros(len(data), dtype=int),
        data[PARTICIPANT],
        data[HUMAN_ITEM],
        data[MACHINE_ITEM],
    )
    estimate = rate_estimate(rates, rates.labels[0], CHANCE, level)
    return {
        "chose_a": int(data[CHOSE_A].sum()),
        "chose_b": int((~data[CHOSE_A]).sum()),
        "share_a": estimate.estimate,
        "ci_low": estimate.ci_low,
        "ci_high": estimate.ci_high,
        "df": estimate.df,
        "p_vs_even": estimate.p_value,
        "pc_when_a_human": float(data.loc[data[HUMAN_FIRST], CORRECT].mean()),
        "pc_when_b_human": float(data.loc[~data[HUMAN_FIRST], CORRECT].mean()),
    }


def _group_table(data: pd.DataFrame, groups: pd.Series, order: list[str], level: float):
    estimates = proportion_correct(data, groups, level)
    rows = {
        label: _row(estimates[label], data[groups == label])
        for label in order
        if label in estimates
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "group"
    return table


def training_table(frame: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """pc, pooled over models, for non-musicians and everyone else (the questionnaire's years
    of training against the study's frozen cut)."""
    data = analysed(frame)
    if data.empty:
        return pd.DataFrame()
    groups = pd.Series(np.where(data[NON_MUSICIAN], NON_MUSICIANS, EVERYONE_ELSE))
    return _group_table(data, groups, [NON_MUSICIANS, EVERYONE_ELSE], level)


def experience_table(frame: pd.DataFrame, levels: list[str], level: float = 0.95) -> pd.DataFrame:
    """BachBot's table: pc, pooled over models, per self-rated experience level (in the order
    given), and for those who were not asked or did not say; empty when nobody was asked."""
    data = analysed(frame)
    if data.empty or (data[EXPERIENCE] == "").all():
        return pd.DataFrame()
    groups = data[EXPERIENCE].replace("", NOT_SAID).astype(str)
    return _group_table(data, groups, [*levels, NOT_SAID], level)
