"""Rate judged human per source, with intervals that respect crossed clustering.

Every participant answers many trials and every excerpt is heard by many participants, so the
judgments are not independent: a pooled binomial interval would be far too narrow. The rate of a
group is the mean of its 0/1 judgments (a regression of the judgment on group indicators), and its
variance is the two-way cluster-robust ("multiway") sandwich of Cameron, Gelbach and Miller (2011):

    V = V_participant + V_item - V_participant*item

each term a one-way cluster sandwich with the small-sample factor C/(C-1) * (N-1)/(N-K), exactly as
statsmodels computes ``cov_type="cluster"`` with two group columns. Because participants are crossed
with sources, the covariance between sources is estimated too, so a model's difference from the
human baseline gets an honest standard error. Intervals and tests use a t distribution with
min(participants, items) - 1 degrees of freedom, the usual few-clusters guard.

Nothing here imports Django: the input is the tidy table's columns as arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evaluation import tidy

CHANCE = 0.5


@dataclass(frozen=True)
class GroupRates:
    """Per-group means of a 0/1 outcome with their two-way cluster-robust covariance."""

    labels: tuple[str, ...]
    estimate: np.ndarray
    cov: np.ndarray
    n_judgments: np.ndarray
    n_participants: np.ndarray
    n_items: np.ndarray
    group_codes: np.ndarray
    participant_codes: np.ndarray
    item_codes: np.ndarray

    def index(self, label: str) -> int:
        return self.labels.index(label)

    def df_for(self, *labels: str) -> int:
        """Degrees of freedom for a statement about these groups: fewest clusters, minus one."""
        rows = np.isin(self.group_codes, [self.index(label) for label in labels])
        participants = _count_distinct(self.participant_codes[rows])
        items = _count_distinct(self.item_codes[rows])
        return int(min(participants, items) - 1)


def _count_distinct(codes: np.ndarray) -> int:
    """Number of distinct non-negative integer codes, in linear time."""
    return int(np.count_nonzero(np.bincount(codes))) if codes.size else 0


def _distinct_per_group(group_codes: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """For each group, how many distinct codes (participants, items) occur in it."""
    n_codes = int(codes.max()) + 1
    present = np.zeros(n_groups * n_codes, dtype=bool)
    present[group_codes * n_codes + codes] = True
    return present.reshape(n_groups, n_codes).sum(axis=1)


def _cluster_meat(codes: np.ndarray, groups: np.ndarray, n_groups: int, resid: np.ndarray):
    """Sum of outer products of per-cluster score sums, and the number of clusters.

    ``codes`` must be dense: 0..C-1, every value used.
    """
    n_clusters = int(codes.max()) + 1
    sums = np.bincount(codes * n_groups + groups, weights=resid, minlength=n_clusters * n_groups)
    sums = sums.reshape(n_clusters, n_groups)
    return sums.T @ sums, n_clusters


def _psd(matrix: np.ndarray) -> np.ndarray:
    """Clip negative eigenvalues, the CGM remedy when the subtracted term wins in small samples."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    if values.min() >= 0:
        return matrix
    return (vectors * np.clip(values, 0, None)) @ vectors.T


def group_rates(
    outcome: np.ndarray,
    group: np.ndarray | pd.Series,
    participant: np.ndarray | pd.Series,
    item: np.ndarray | pd.Series,
) -> GroupRates:
    """Mean of ``outcome`` per group with the two-way (participant x item) cluster covariance."""
    y = np.asarray(outcome, dtype=float)
    if y.size == 0:
        raise ValueError("no judgments to analyse")
    group_codes, labels = pd.factorize(pd.Series(group), sort=True)
    participant_codes = pd.factorize(pd.Series(participant))[0]
    item_codes = pd.factorize(pd.Series(item))[0]
    n_groups = len(labels)
    n = np.bincount(group_codes, minlength=n_groups).astype(float)
    mean = np.bincount(group_codes, weights=y, minlength=n_groups) / n
    resid = y - mean[group_codes]
    cells = participant_codes.astype(np.int64) * (int(item_codes.max()) + 1) + item_codes
    cell_codes = pd.factorize(cells)[0]

    n_obs, n_params = y.size, n_groups
    meat = np.zeros((n_groups, n_groups))
    for codes, sign in ((participant_codes, 1.0), (item_codes, 1.0), (cell_codes, -1.0)):
        part, n_clusters = _cluster_meat(codes, group_codes, n_groups, resid)
        if n_clusters > 1 and n_obs > n_params:
            factor = n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - n_params)
        else:
            factor = np.nan
        meat += sign * factor * part
    bread = 1.0 / n
    cov = _psd(bread[:, None] * meat * bread[None, :]) if np.isfinite(meat).all() else meat

    return GroupRates(
        labels=tuple(str(label) for label in labels),
        estimate=mean,
        cov=cov,
        n_judgments=n.astype(int),
        n_participants=_distinct_per_group(group_codes, participant_codes, n_groups),
        n_items=_distinct_per_group(group_codes, item_codes, n_groups),
        group_codes=group_codes,
        participant_codes=participant_codes,
        item_codes=item_codes,
    )


@dataclass(frozen=True)
class Estimate:
    """A proportion or a difference with its standard error, interval and test."""

    estimate: float
    se: float
    df: int
    ci_low: float
    ci_high: float
    null: float
    p_value: float


def wilson(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval: used only where a sandwich variance is zero (all answers alike)."""
    if n <= 0:
        return (np.nan, np.nan)
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # The interval always contains p; min/max only undo rounding at p = 0 or 1 (1 - 1e-16).
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def t_estimate(
    estimate: float,
    se: float,
    df: int,
    null: float,
    level: float = 0.95,
    bounds: tuple[float, float] = (-1.0, 1.0),
) -> Estimate:
    """Wald-t interval and two-sided test; NaN where the data cannot support one (df < 1)."""
    if df < 1 or not np.isfinite(se):
        return Estimate(estimate, np.nan, df, np.nan, np.nan, null, np.nan)
    q = stats.t.ppf(0.5 + level / 2, df)
    low, high = np.clip([estimate - q * se, estimate + q * se], *bounds)
    p = float(2 * stats.t.sf(abs(estimate - null) / se, df)) if se > 0 else np.nan
    return Estimate(float(estimate), float(se), df, float(low), float(high), null, p)


def rate_estimate(
    rates: GroupRates, label: str, null: float = CHANCE, level: float = 0.95
) -> Estimate:
    """One group's rate with its interval and its test against ``null`` (default: chance)."""
    i = rates.index(label)
    se = float(np.sqrt(rates.cov[i, i]))
    result = t_estimate(rates.estimate[i], se, rates.df_for(label), null, level, bounds=(0.0, 1.0))
    if result.se == 0:
        # Every answer in the group was the same: the sandwich says zero, which overstates what a
        # handful of participants can show; a Wilson interval on the smaller cluster count does not.
        units = min(rates.n_participants[i], rates.n_items[i])
        low, high = wilson(rates.estimate[i] * units, units, level)
        result = Estimate(result.estimate, 0.0, result.df, low, high, null, np.nan)
    return result


def difference(rates: GroupRates, label: str, baseline: str, level: float = 0.95) -> Estimate:
    """Rate of ``label`` minus rate of ``baseline``; covariance from shared participants counts."""
    i, j = rates.index(label), rates.index(baseline)
    var = rates.cov[i, i] + rates.cov[j, j] - 2 * rates.cov[i, j]
    se = float(np.sqrt(max(var, 0.0)))
    diff = rates.estimate[i] - rates.estimate[j]
    return t_estimate(diff, se, rates.df_for(label, baseline), 0.0, level)


def rate_table(
    frame: pd.DataFrame,
    by: pd.Series | str = tidy.SOURCE,
    baseline: str = tidy.HUMAN,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per-group judgments, participants, items, rate judged human and tests vs 50% and baseline.

    ``by`` names a tidy column or gives one label per row (e.g. "seq2seq / batch 3"). The table is
    indexed by group label; the baseline row has NaN in the difference columns.
    """
    groups = frame[by] if isinstance(by, str) else pd.Series(by, index=frame.index)
    rates = group_rates(frame[tidy.JUDGED_HUMAN], groups, frame[tidy.PARTICIPANT], frame[tidy.ITEM])
    rows = []
    for i, label in enumerate(rates.labels):
        rate = rate_estimate(rates, label, level=level)
        row = {
            "group": label,
            "judgments": int(rates.n_judgments[i]),
            "participants": int(rates.n_participants[i]),
            "items": int(rates.n_items[i]),
            "rate_human": rate.estimate,
            "se": rate.se,
            "ci_low": rate.ci_low,
            "ci_high": rate.ci_high,
            "df": rate.df,
            "p_vs_chance": rate.p_value,
            "diff_vs_baseline": np.nan,
            "diff_se": np.nan,
            "diff_ci_low": np.nan,
            "diff_ci_high": np.nan,
            "diff_df": np.nan,
            "p_vs_baseline": np.nan,
        }
        if baseline in rates.labels and label != baseline:
            diff = difference(rates, label, baseline, level)
            row.update(
                diff_vs_baseline=diff.estimate,
                diff_se=diff.se,
                diff_ci_low=diff.ci_low,
                diff_ci_high=diff.ci_high,
                diff_df=diff.df,
                p_vs_baseline=diff.p_value,
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("group")


def overall_accuracy(frame: pd.DataFrame, level: float = 0.95) -> Estimate:
    """Share of correct answers over all analysed judgments, tested against chance."""
    rates = group_rates(
        frame[tidy.CORRECT],
        np.zeros(len(frame), dtype=int),
        frame[tidy.PARTICIPANT],
        frame[tidy.ITEM],
    )
    return rate_estimate(rates, rates.labels[0], level=level)
