"""Rate judged human per source, with intervals that respect crossed clustering.

Every participant answers many trials and every excerpt is heard by many participants, so the
judgments are not independent: a pooled binomial interval would be far too narrow. The rate of a
group is the mean of its 0/1 judgments (a regression of the judgment on group indicators). Every
statement the report makes is a contrast of those means: one rate (against 50%), a model against
the human excerpts, a model against a model, and the pair design's proportion correct
(evaluation/pairs.py: a rate of the "correct" outcome against 50%, its two excerpts as items).
All of them take the same variance (``GroupRates.variance``), the larger of three:

    V_two-way = V_participant + V_item - V_cell      (Cameron, Gelbach & Miller 2011)
    V_participant                                    (one-way, clustered by participant)
    V_item                                           (one-way, clustered by excerpt)

V_participant is the sandwich statsmodels computes with ``cov_type="cluster"`` on the participant
column, small-sample factor C/(C-1) * (N-1)/(N-K) included. Three changes to the textbook two-way
estimator keep it from collapsing:

- **The excerpt terms leave out each participant's lean.** V_item - V_cell is meant to add the
  covariance between different people's answers to the same excerpt. A participant's lean towards
  "a person" (their criterion) is in every residual of theirs; when everybody hears every excerpt,
  centring each source at its mean already removes the leans from the excerpt sums, while V_cell
  still holds them, so the subtraction takes out the participants' bias variance once per source.
  That bias cancels from the true variance of a difference, so the difference's standard error
  came out far too small (0.73 of the true SD, 74.6% coverage of a 95% interval, with 40
  participants, 8 excerpts per source and a criterion SD of 1). V_item and V_cell here use each
  residual minus its participant's mean residual.
- **Excerpts are nested in sources**, so each source's excerpt sums are centred at that source's
  mean and lose one degree of freedom each: the excerpt term takes I_g / (I_g - 1) per source
  (I_g excerpts in source g; the geometric mean of two sources' factors off the diagonal) instead
  of one C/(C-1) over all excerpts.
- **The floor.** The true variance of a crossed mean is at least what either kind of cluster
  alone contributes, so the two-way value never goes below the larger one-way variance. The
  floor binds when a handful of excerpts makes V_item - V_cell come out negative by chance.

Measured on simulated studies (bench/error_rates.py, 1,000 studies a design; the README's
statistics section has the table), for a model exactly on the 10-point margin, 95% coverage of
its difference from the human rate and the share of TOST (alpha 0.05) calling it equivalent:

- 40 participants hearing all 8 excerpts a source, criterion SD 1.0: the textbook two-way
  variance covered 74.6% and passed 19.1% where excerpts did not vary (88.9% and 8.1% with
  excerpt SD 0.3); this one covers 98.1% and 94.8% and passes 3.3% and 3.4%;
- across seven designs (20-100 participants, 5-10 of 8-40 excerpts a source, criterion SD 0-1,
  excerpt SD 0-0.5) it covers 93.9-98.1%, its standard error averages 0.99-1.12 of the true SD
  (1.12 only where excerpts do not vary at all: the floor then takes the larger of two estimates
  of one variance), and it passes at most 3.8%.

The audit's proposal, the textbook variance floored at the raw one-way ones, averaged up to 1.16
of the true SD in 400-study runs where excerpts did not vary (its one-way excerpt variance still
holds the leans) and covered 91% with 8 excerpts a source of SD 0.5. Intervals and tests use a t
distribution with min(participants, items) - 1 degrees of freedom, the usual few-clusters guard.

The intervals are not the estimate +- t * SE: a rate near 0 or 1 takes Wilson's score interval on
its effective sample size p (1 - p) / V, and a difference the MOVER interval built from two of
them (evaluation/score_intervals.py, which says why); near 50% both are the Wald-t interval on V.

The pair design (evaluation/pairs.py) has two kinds of excerpt in each judgment, the person's
and the machine's, each heard in many pairs. Its variance is Cameron, Gelbach & Miller's
three-way one, V_participant + V_person's + V_machine's - V_pair - V_cell, floored at the largest
one-way variance, with min(participants, person's, machine's excerpts) - 1 degrees of freedom.
It states single rates only (pc per model), so its excerpt terms keep the leans, as CGM's do.

Where every answer in a group is the same the sandwich is zero (or rounding of it), and p (1 - p)
/ V is 0 / 0. Its limit as the answers come to agree is what the group then counts: as many
judgments as it has. One answer in 240 the other way gives an effective size of 238.5, so a
study where nobody dissented is not read as less certain than one where somebody did (a review
found 240 of 240 with the interval [0.59, 1] and 239 of 240 with [0.97, 1.00] when such a group
counted only its smaller cluster count). The t reference's degrees of freedom still come from the
clusters, and an all-alike group shares no spread with another (correlation 0).

Nothing here imports Django: the input is the tidy table's columns as arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evaluation import tidy
from evaluation.score_intervals import ScoreContrast, wilson_limits

CHANCE = 0.5
# A standard error below this is a zero up to rounding: every answer alike.
NO_SPREAD = 1e-9


@dataclass(frozen=True)
class GroupRates:
    """Per-group means of a 0/1 outcome with the parts of their crossed-design covariance."""

    labels: tuple[str, ...]
    estimate: np.ndarray
    v_participant: np.ndarray  # one-way, clustered by participant
    v_items: tuple[np.ndarray, ...]  # one-way per kind of excerpt, participants' leans taken out
    v_overlap: np.ndarray  # clustered by all kinds of excerpt together (the pair); 0 for one kind
    v_cell: np.ndarray  # the same residuals, each judgment its own cluster
    n_judgments: np.ndarray
    n_participants: np.ndarray
    n_items: np.ndarray  # per group, distinct excerpts (of the kind with fewest, in pairs)
    group_codes: np.ndarray
    participant_codes: np.ndarray
    item_codes: tuple[np.ndarray, ...]

    def index(self, label: str) -> int:
        return self.labels.index(label)

    def all_alike(self, label: str) -> bool:
        """Whether every answer in the group was the same (a rate of exactly 0 or 1)."""
        return float(self.estimate[self.index(label)]) in (0.0, 1.0)

    def df_for(self, *labels: str) -> int:
        """Degrees of freedom for a statement about these groups: fewest clusters, minus one."""
        rows = np.isin(self.group_codes, [self.index(label) for label in labels])
        counts = [
            _count_distinct(codes[rows]) for codes in (self.participant_codes, *self.item_codes)
        ]
        return int(min(counts) - 1)

    def variance(self, weights: np.ndarray) -> float:
        """Variance of ``weights @ estimate``: multiway, floored at the largest one-way variance.

        Only the groups the weights involve take part, so a group elsewhere whose variance
        cannot be estimated leaves this one alone. NaN when a part cannot be estimated (a
        single participant, or a source with one excerpt).
        """
        w = np.asarray(weights, dtype=float)
        used = np.flatnonzero(w)
        w = w[used]

        def part(matrix: np.ndarray) -> float:
            return float(w @ matrix[np.ix_(used, used)] @ w)

        participant = part(self.v_participant)
        items = [part(v) for v in self.v_items]
        multiway = participant + sum(items) - part(self.v_overlap) - part(self.v_cell)
        return float(np.max([multiway, participant, *items]))


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


def _small_sample(n_clusters: np.ndarray | int) -> np.ndarray:
    """C / (C - 1), NaN where there is a single cluster (no spread to estimate)."""
    c = np.asarray(n_clusters, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 1, c / (c - 1), np.nan)


def _excerpt_variance(
    codes: np.ndarray, group_codes: np.ndarray, n_groups: int, resid: np.ndarray, bread
) -> np.ndarray:
    """Clustered by one kind of excerpt, with the small-sample factor of each source's own
    count of them (excerpts are nested in sources, or shared by the sources that use them)."""
    meat, _ = _cluster_meat(codes, group_codes, n_groups, resid)
    per_source = np.sqrt(_small_sample(_distinct_per_group(group_codes, codes, n_groups)))
    return np.outer(per_source, per_source) * meat * bread


def group_rates(
    outcome: np.ndarray,
    group: np.ndarray | pd.Series,
    participant: np.ndarray | pd.Series,
    item: np.ndarray | pd.Series,
    crossed_item: np.ndarray | pd.Series | None = None,
) -> GroupRates:
    """Mean of ``outcome`` per group with the parts of its covariance (see the module docstring).

    ``crossed_item`` is a second kind of excerpt heard in the same judgment: in the pair design
    ``item`` is the person's excerpt and ``crossed_item`` the machine's. Each kind is a cluster
    of its own (the same chorale turns up in many pairs), and the pair, their intersection, is
    subtracted once, as in Cameron, Gelbach & Miller's three-way variance.
    """
    y = np.asarray(outcome, dtype=float)
    if y.size == 0:
        raise ValueError("no judgments to analyse")
    group_codes, labels = pd.factorize(pd.Series(group), sort=True)
    participant_codes = pd.factorize(pd.Series(participant))[0]
    kinds = [item] if crossed_item is None else [item, crossed_item]
    item_codes = tuple(pd.factorize(pd.Series(kind))[0] for kind in kinds)
    n_groups = len(labels)
    n = np.bincount(group_codes, minlength=n_groups).astype(float)
    mean = np.bincount(group_codes, weights=y, minlength=n_groups) / n
    resid = y - mean[group_codes]
    lean = np.bincount(participant_codes, weights=resid) / np.bincount(participant_codes)
    without_lean = resid - lean[participant_codes]
    cell_codes = _combined(participant_codes, *item_codes)
    # Taking out the leans keeps a difference between sources from collapsing (module
    # docstring); the pair design states single rates only, where CGM's own residuals serve.
    excerpt_resid = without_lean if crossed_item is None else resid

    n_obs = y.size
    regression = (n_obs - 1) / (n_obs - n_groups) if n_obs > n_groups else np.nan
    bread = np.outer(1.0 / n, 1.0 / n) * regression
    meat, count = _cluster_meat(participant_codes, group_codes, n_groups, resid)
    v_participant = _small_sample(count) * meat * bread
    v_items = tuple(
        _excerpt_variance(codes, group_codes, n_groups, excerpt_resid, bread)
        for codes in item_codes
    )
    if crossed_item is None:
        v_overlap = np.zeros((n_groups, n_groups))
    else:
        v_overlap = _excerpt_variance(
            _combined(*item_codes), group_codes, n_groups, excerpt_resid, bread
        )
    meat, count = _cluster_meat(cell_codes, group_codes, n_groups, excerpt_resid)
    v_cell = _small_sample(count) * meat * bread

    return GroupRates(
        labels=tuple(str(label) for label in labels),
        estimate=mean,
        v_participant=v_participant,
        v_items=v_items,
        v_overlap=v_overlap,
        v_cell=v_cell,
        n_judgments=n.astype(int),
        n_participants=_distinct_per_group(group_codes, participant_codes, n_groups),
        n_items=np.min([_distinct_per_group(group_codes, c, n_groups) for c in item_codes], axis=0),
        group_codes=group_codes,
        participant_codes=participant_codes,
        item_codes=item_codes,
    )


def _combined(*codes: np.ndarray) -> np.ndarray:
    """Dense codes of the combinations of several code columns (a cell, a pair)."""
    combined = codes[0].astype(np.int64)
    for more in codes[1:]:
        combined = combined * (int(more.max()) + 1) + more
    return pd.factorize(combined)[0]


@dataclass(frozen=True)
class Estimate:
    """A proportion or a difference with its standard error, interval and test. ``score`` is
    what a rate's interval was built from (evaluation/score_intervals.py), to state it at another
    level or test it against other bounds; None for a Wald-t estimate."""

    estimate: float
    se: float
    df: int
    ci_low: float
    ci_high: float
    null: float
    p_value: float
    score: ScoreContrast | None = None


def wilson(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial count (one excerpt heard by different people)."""
    if n <= 0:
        return (np.nan, np.nan)
    return wilson_limits(successes / n, n, float(stats.norm.ppf(0.5 + level / 2)))


def t_estimate(
    estimate: float,
    se: float,
    df: int,
    null: float,
    level: float = 0.95,
    bounds: tuple[float, float] = (-1.0, 1.0),
) -> Estimate:
    """Wald-t interval and two-sided test; NaN where the data cannot support one: df < 1, or a
    standard error of zero (within rounding), which no finite sample of people can show."""
    if df < 1 or not np.isfinite(se) or se < NO_SPREAD:
        return Estimate(estimate, np.nan, df, np.nan, np.nan, null, np.nan)
    q = stats.t.ppf(0.5 + level / 2, df)
    low, high = np.clip([estimate - q * se, estimate + q * se], *bounds)
    p = float(2 * stats.t.sf(abs(estimate - null) / se, df))
    return Estimate(float(estimate), float(se), df, float(low), float(high), null, p)


def _variance(rates: GroupRates, weights: Mapping[str, float]) -> float:
    w = np.zeros(len(rates.labels))
    for label, weight in weights.items():
        w[rates.index(label)] = weight
    return rates.variance(w)


def effective_n(rates: GroupRates, label: str) -> float:
    """Kish's effective sample size of a group's rate, p (1 - p) / V: the number of independent
    judgments that would pin it down as well. A group whose answers are all alike (V = 0) counts
    its judgments, the limit as its answers come to agree (module docstring). NaN where V cannot
    be estimated."""
    i = rates.index(label)
    if rates.all_alike(label):
        return float(rates.n_judgments[i])
    p, variance = float(rates.estimate[i]), _variance(rates, {label: 1.0})
    if not np.isfinite(variance) or variance < NO_SPREAD**2:
        return np.nan
    return p * (1 - p) / variance


def rate_contrast(rates: GroupRates, label: str) -> ScoreContrast:
    """One group's rate, for its Wilson interval and score tests on its effective size."""
    i = rates.index(label)
    se = float(np.sqrt(_variance(rates, {label: 1.0})))
    return ScoreContrast(
        (float(rates.estimate[i]),), (effective_n(rates, label),), 0.0, se, rates.df_for(label)
    )


def difference_contrast(rates: GroupRates, label: str, baseline: str) -> ScoreContrast:
    """Rate of ``label`` less the rate of ``baseline``, for its MOVER interval and tests.

    The correlation of the two rates comes from the variances of each and of their difference
    (the participants who heard both share their leans). A group whose answers are all alike
    has no spread to share (correlation 0).
    """
    variances = [_variance(rates, {group: 1.0}) for group in (label, baseline)]
    difference = _variance(rates, {label: 1.0, baseline: -1.0})
    correlation = 0.0
    if not any(rates.all_alike(group) for group in (label, baseline)):
        shared = (sum(variances) - difference) / (2 * np.sqrt(variances[0] * variances[1]))
        correlation = float(np.clip(shared, -1.0, 1.0))
    return ScoreContrast(
        tuple(float(rates.estimate[rates.index(group)]) for group in (label, baseline)),
        tuple(effective_n(rates, group) for group in (label, baseline)),
        correlation,
        float(np.sqrt(difference)),
        rates.df_for(label, baseline),
    )


def score_estimate(contrast: ScoreContrast, null: float, level: float = 0.95) -> Estimate:
    """The contrast's ``level`` interval and its two-sided test of ``null``."""
    low, high = contrast.interval(level)
    se = contrast.se if contrast.testable else np.nan
    return Estimate(
        contrast.estimate, se, contrast.df, low, high, null, contrast.p_value(null), contrast
    )


def rate_estimate(
    rates: GroupRates, label: str, null: float = CHANCE, level: float = 0.95
) -> Estimate:
    """One group's rate with its Wilson interval and its score test against ``null``."""
    return score_estimate(rate_contrast(rates, label), null, level)


def difference(rates: GroupRates, label: str, baseline: str, level: float = 0.95) -> Estimate:
    """Rate of ``label`` minus rate of ``baseline`` (a model against human, or against a model)."""
    return score_estimate(difference_contrast(rates, label, baseline), 0.0, level)


def table_difference(table: pd.DataFrame, label: str, baseline: str) -> ScoreContrast:
    """A ``rate_table`` row's difference from the baseline row, to state at another level."""
    row, base = table.loc[label], table.loc[baseline]
    return ScoreContrast(
        (float(row["rate_human"]), float(base["rate_human"])),
        (float(row["n_effective"]), float(base["n_effective"])),
        float(row["diff_correlation"]),
        float(row["diff_se"]),
        int(row["diff_df"]),
    )


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
            "n_effective": rate.score.effective_n[0],
            "ci_low": rate.ci_low,
            "ci_high": rate.ci_high,
            "df": rate.df,
            "p_vs_chance": rate.p_value,
            "diff_vs_baseline": np.nan,
            "diff_se": np.nan,
            "diff_ci_low": np.nan,
            "diff_ci_high": np.nan,
            "diff_df": np.nan,
            "diff_correlation": np.nan,
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
                diff_correlation=diff.score.correlation,
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
