"""Signal detection: how well each participant tells machine excerpts from human ones.

The rate judged human mixes two things: whether people *can* tell the sources apart and whether they
lean towards answering "a person". Signal detection theory separates them. The signal is a machine
excerpt, so per participant:

- hit = a machine excerpt answered "a computer";
- false alarm = a human excerpt answered "a computer";
- d' = z(H) - z(F)  (0 = listeners cannot tell the model from human);
- c = -(z(H) + z(F)) / 2  (positive = leans towards "a person").

Rates of 0 or 1 have infinite z, so every participant's rates get the log-linear correction of
Hautus (1995): (count + 0.5) / (trials + 1). It is applied to all participants, not only the extreme
ones, which keeps the estimator the same for everyone. It pulls every d' towards 0, more for few
trials and strong leans (evaluation/d_prime_bias.py measures by how much), so the reported d', its
interval and its tests are read on the scale of the true d' through that module's map g: one map
for each spread of the listeners' own d' that a verdict must allow for.

Words follow tests. "Listeners can tell" needs the test of d' = 0 to reject; "listeners cannot
tell" needs an equivalence test (TOST) that d' lies within a margin fixed when the study opened
(default +-0.3), both Holm-corrected across models. A d' that is merely not significant is neither.

The group statistic is the mean over participants of d' (and of c). Its interval must allow for two
crossed sources of chance: which people took part *and* which excerpts they heard (a model's
excerpts differ in how machine-like they sound, and every participant hears the same few dozen). A
t interval over participants treats the excerpts as fixed and is too narrow whenever they vary.

The variance here is the two-way cluster-robust one that evaluation/rates.py uses for rates
(Cameron, Gelbach & Miller 2011), applied to the mean d' through its first-order expansion in the
judgments (the delta method):

    V = V_participant + max(V_item - V_cell, 0)

V_participant is the spread of the participants' own d' (s^2/n, the one-way variance of a t
interval over participants). Each judgment's score is the derivative of the mean d' with respect to
it, 1 / (participants * (trials + 1) * phi(z)) at the participant's corrected rate (negative for a
false alarm), times the judgment's residual from that participant's raw rate, divided by (1 - 1/n)
for a participant with n trials of that kind: centring at their own rate takes 1/n of each
excerpt's effect out of the residual, and without giving it back V_item missed that share of the
excerpts' variance (standard errors 0.88-0.90 of the true SD in simulated studies where excerpts
dominate, 0.99 with it; 1.04 -> 1.09 where participants dominate). V_item sums the scores per
excerpt and squares the sums; V_cell, the sum of squared scores, takes out the trial noise that
V_participant has already counted. Each term has the CGM factor C / (C - 1). Intervals and the test
against d' = 0 use a t distribution with min(participants, signal excerpts, human excerpts) - 1
degrees of freedom, the same few-clusters guard as the rates. Fewer than two of any of these, or a
variance of zero (every participant's counts alike), give NaN intervals: the data cannot show how
much d' varies.

Why not the pigeonhole (two-way) bootstrap of Owen (2007), resampling participants and excerpts? A
judgment's weight is the product of two draw counts, whose variance is about 3, so the trial-level
noise enters its variance about three times (it is "mildly conservative", Owen & Eckles 2012); with
the 10-20 trials per source a participant hears here that noise dominates. In simulated studies
(evaluation/simulate.py; three designs, 150-200 studies each) its 95% percentile intervals covered
the true d' 96.5-100% of the time, 99-100% as bootstrap standard errors. Across six designs
(12-200 participants, 8-20 trials and 10-60 excerpts per source, item SD 0-0.8) this variance
covered 94-97% (c: 92-97%) before the (1 - 1/n) rescaling, the one-way t interval 54-87% wherever
excerpts varied; tests/evaluation/test_detection.py measures 96.5-97.5% with it. An interval too
wide makes "listeners cannot tell" needlessly hard to show. The formula is also deterministic (no
seed) and costs a few passes over the judgments. A crossed random-effects probit (Rouder & Lu 2005)
would estimate the item-free latent d', but needs an iterative fit per source that a report on
100,000 judgments cannot afford (statsmodels fits crossed effects on binary data only as a
variational-Bayes logit model).

What the interval covers is the participant-average d' for excerpts drawn like these ones from the
same model (for the simulation's model, d' / sqrt(1 + item variance)), not for these excerpts only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evaluation import tidy
from evaluation.d_prime_bias import DPrimeYardstick, d_prime_yardstick
from evaluation.equivalence import DEFAULT_ALPHA, DEFAULT_D_PRIME_MARGIN
from evaluation.multiple import holm, holm_levels
from evaluation.rates import Estimate, t_estimate

ALL_MACHINES = "all machines"


def corrected_rate(count: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Hautus' log-linear correction: never 0 or 1, so z is always finite."""
    return (np.asarray(count, dtype=float) + 0.5) / (np.asarray(trials, dtype=float) + 1.0)


def d_prime(hit_rate: np.ndarray, fa_rate: np.ndarray) -> np.ndarray:
    """Sensitivity d' = z(H) - z(F) under the equal-variance Gaussian model."""
    return stats.norm.ppf(hit_rate) - stats.norm.ppf(fa_rate)


def criterion(hit_rate: np.ndarray, fa_rate: np.ndarray) -> np.ndarray:
    """Criterion c = -(z(H) + z(F)) / 2; positive means a bias towards answering "a person"."""
    return -(stats.norm.ppf(hit_rate) + stats.norm.ppf(fa_rate)) / 2


def participant_sdt(frame: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Per-participant hits, false alarms, corrected rates, d' and c.

    ``source`` limits the signal trials to one model (false alarms still come from every human
    excerpt the participant heard). Participants without both kinds of trial are left out, since
    neither rate exists for them.
    """
    machine = frame[tidy.SOURCE_KIND] == tidy.MACHINE
    signal = machine if source is None else frame[tidy.SOURCE] == source
    noise = frame[tidy.SOURCE_KIND] == tidy.HUMAN
    said_machine = ~frame[tidy.JUDGED_HUMAN]
    counts = (
        pd.DataFrame(
            {
                "signal_trials": signal,
                "hits": signal & said_machine,
                "noise_trials": noise,
                "false_alarms": noise & said_machine,
            }
        )
        .groupby(frame[tidy.PARTICIPANT], sort=True, observed=True)
        .sum()
    )
    counts = counts[(counts["signal_trials"] > 0) & (counts["noise_trials"] > 0)]
    counts.index.name = tidy.PARTICIPANT
    hit_rate = corrected_rate(counts["hits"], counts["signal_trials"])
    fa_rate = corrected_rate(counts["false_alarms"], counts["noise_trials"])
    counts["hit_rate"] = hit_rate
    counts["fa_rate"] = fa_rate
    counts["d_prime"] = d_prime(hit_rate, fa_rate)
    counts["criterion"] = criterion(hit_rate, fa_rate)
    return counts


@dataclass(frozen=True)
class GroupMean:
    """A mean over participants with the two parts of its crossed-design variance."""

    estimate: float
    participant_var: float  # one-way: the participants' spread, s^2 / n
    item_var: float  # what the excerpts add on top, V_item - V_cell clipped at 0

    @property
    def se(self) -> float:
        return float(np.sqrt(self.participant_var + self.item_var))


@dataclass(frozen=True)
class GroupSdt:
    """Group mean d' and c for one signal source, with what their intervals need."""

    participants: int
    signal_items: int
    noise_items: int
    d_prime: GroupMean
    criterion: GroupMean
    counts: np.ndarray  # per participant: signal trials, hits, noise trials, false alarms

    @property
    def df(self) -> int:
        """Fewest clusters minus one, as for the rates; below 1 there is no interval."""
        return min(self.participants, self.signal_items, self.noise_items) - 1


def _score_variance(scores: np.ndarray, items: np.ndarray) -> float:
    """V_item - V_cell for per-judgment scores, each with its CGM small-sample factor, at >= 0."""
    n_items, n = int(items.max()) + 1, scores.size
    if n_items < 2 or n < 2:
        return np.nan
    per_item = np.bincount(items, weights=scores, minlength=n_items)
    v_item = n_items / (n_items - 1) * float(per_item @ per_item)
    v_cell = n / (n - 1) * float(scores @ scores)
    return max(v_item - v_cell, 0.0)


def group_sdt(frame: pd.DataFrame, source: str | None = None) -> GroupSdt:
    """Mean d' and c over participants for ``source`` (None: every model), crossed-design variance.

    Uses the same participants and trials as ``participant_sdt``; see the module docstring for the
    variance.
    """
    machine = (frame[tidy.SOURCE_KIND] == tidy.MACHINE).to_numpy()
    signal = machine if source is None else (frame[tidy.SOURCE] == source).to_numpy()
    noise = (frame[tidy.SOURCE_KIND] == tidy.HUMAN).to_numpy()
    rows = signal | noise
    participant = pd.factorize(frame[tidy.PARTICIPANT].to_numpy()[rows])[0]
    item = pd.factorize(frame[tidy.ITEM].to_numpy()[rows])[0]
    said_machine = (~frame[tidy.JUDGED_HUMAN].to_numpy()[rows]).astype(float)
    is_signal = signal[rows]
    n = int(participant.max()) + 1 if participant.size else 0

    signal_trials = np.bincount(participant, weights=is_signal, minlength=n)
    hits = np.bincount(participant, weights=is_signal * said_machine, minlength=n)
    noise_trials = np.bincount(participant, weights=~is_signal, minlength=n)
    false_alarms = np.bincount(participant, weights=~is_signal * said_machine, minlength=n)
    valid = (signal_trials > 0) & (noise_trials > 0)
    used = valid[participant]
    z_hit = stats.norm.ppf(corrected_rate(hits, signal_trials))
    z_fa = stats.norm.ppf(corrected_rate(false_alarms, noise_trials))
    count = int(valid.sum())

    # d(mean d')/d(judgment): 1 / (participants * (trials + 1) * phi(z)) for a hit, minus that
    # for a false alarm, applied to the judgment's residual from its participant's raw rate.
    with np.errstate(divide="ignore", invalid="ignore"):
        slope_hit = 1 / ((signal_trials + 1) * stats.norm.pdf(z_hit))
        slope_fa = 1 / ((noise_trials + 1) * stats.norm.pdf(z_fa))
        raw_hit = hits / signal_trials
        raw_fa = false_alarms / noise_trials
    residual = said_machine - np.where(is_signal, raw_hit[participant], raw_fa[participant])
    residual = np.where(used, residual, 0.0) / max(count, 1)
    # Centring at the participant's own rate takes 1/n of each excerpt's effect out of the
    # residual (n: their trials of that kind); give it back, or V_item misses that share.
    own = np.where(is_signal, signal_trials[participant], noise_trials[participant])
    residual = residual / np.where(own > 1, 1 - 1 / np.maximum(own, 2), 1.0)
    d_scores = np.where(is_signal, slope_hit[participant], -slope_fa[participant]) * residual
    c_scores = -0.5 * np.where(is_signal, slope_hit[participant], slope_fa[participant]) * residual

    def mean(values: np.ndarray, scores: np.ndarray) -> GroupMean:
        values = values[valid]
        if values.size == 0:
            return GroupMean(np.nan, np.nan, np.nan)
        if values.size < 2:
            spread = np.nan
        else:  # exactly 0 when all are equal: a variance of rounding error is not a spread
            spread = float(values.var(ddof=1) / values.size) if np.ptp(values) > 0 else 0.0
        return GroupMean(float(values.mean()), spread, _score_variance(scores[used], item[used]))

    return GroupSdt(
        participants=count,
        signal_items=len(np.unique(item[used & is_signal])),
        noise_items=len(np.unique(item[used & ~is_signal])),
        d_prime=mean(z_hit - z_fa, d_scores),
        criterion=mean(-(z_hit + z_fa) / 2, c_scores),
        counts=np.column_stack([signal_trials, hits, noise_trials, false_alarms])[valid],
    )


def interval(mean: GroupMean, df: int, level: float = 0.95) -> Estimate:
    """t interval and test against 0 from the crossed-design variance; NaN where none can be had."""
    if not mean.se > 0:
        return Estimate(mean.estimate, np.nan, df, np.nan, np.nan, 0.0, np.nan)
    return t_estimate(mean.estimate, mean.se, df, 0.0, level, bounds=(-np.inf, np.inf))


def true_d_prime_interval(
    group: GroupSdt, yardstick: DPrimeYardstick, level: float = 0.95
) -> tuple[float, float]:
    """The t interval of the mean corrected d' mapped onto the true d' (NaN where none exists)."""
    mean = group.d_prime
    if not (mean.se > 0 and group.df >= 1):
        return (np.nan, np.nan)
    half = stats.t.ppf(0.5 + level / 2, group.df) * mean.se
    return yardstick.interval(mean.estimate - half, mean.estimate + half)


def _versus_zero(group: GroupSdt, yardstick: DPrimeYardstick) -> float:
    """p-value of true d' = 0: the mean against g(0), where it sits when nobody can tell."""
    mean = group.d_prime
    if not (mean.se > 0 and group.df >= 1):
        return np.nan
    return yardstick.p_versus(mean.estimate, mean.se, group.df, 0.0)


def sdt_table(
    frame: pd.DataFrame,
    level: float = 0.95,
    margin: float = DEFAULT_D_PRIME_MARGIN,
    alpha: float = DEFAULT_ALPHA,
) -> pd.DataFrame:
    """Group d' and c for all machine excerpts together and for each model, with d' tests.

    ``d_prime`` and its interval are on the scale of the true d' (evaluation/d_prime_bias.py);
    ``participants_mean_d_prime`` is the plain mean of the participants' corrected d' and
    ``d_prime_se`` its standard error. Per model, the test of d' = 0 and a TOST of |d'| < ``margin``
    are Holm-corrected across models, each with the interval at the level its decision used:
    (1 - level_holm) for the test of 0, (1 - 2 level_holm) for the TOST. The "all machines" row is
    a family of its own. ``items`` counts the excerpts behind a row (the signal source's and the
    human ones); intervals allow for participants and excerpts both (see the module docstring).
    """
    if not margin > 0:
        raise ValueError(f"the d' equivalence margin must be positive, got {margin}")
    sources = sorted(frame.loc[frame[tidy.SOURCE_KIND] == tidy.MACHINE, tidy.SOURCE].unique())
    rows, yardsticks = [], []
    for source in (None, *sources):
        group = group_sdt(frame, source)
        yardstick = (
            d_prime_yardstick(group.counts, group.d_prime.estimate) if group.participants else None
        )
        low, high = (
            true_d_prime_interval(group, yardstick, level) if yardstick else (np.nan, np.nan)
        )
        bias = interval(group.criterion, group.df, level)
        equivalence = (
            yardstick.tost(group.d_prime.estimate, group.d_prime.se, group.df, margin, alpha)
            if yardstick
            else None
        )
        rows.append(
            {
                "source": ALL_MACHINES if source is None else source,
                "participants": group.participants,
                "items": group.signal_items + group.noise_items,
                "d_prime": yardstick.true_at(group.d_prime.estimate) if yardstick else np.nan,
                "d_prime_ci_low": low,
                "d_prime_ci_high": high,
                "participants_mean_d_prime": group.d_prime.estimate,
                "d_prime_se": group.d_prime.se if group.d_prime.se > 0 else np.nan,
                "df": group.df,
                "p_d_prime_vs_0": _versus_zero(group, yardstick) if yardstick else np.nan,
                "d_prime_tost_p": equivalence.p_value if equivalence else np.nan,
                "criterion": bias.estimate,
                "criterion_ci_low": bias.ci_low,
                "criterion_ci_high": bias.ci_high,
            }
        )
        yardsticks.append((group, yardstick))
    table = pd.DataFrame(rows).set_index("source")
    _holm_d_prime(table, yardsticks, alpha)
    return table


def _holm_d_prime(table: pd.DataFrame, yardsticks: list, alpha: float) -> None:
    """Holm across the model rows (not "all machines"), with the interval each decision used.

    A two-sided test at level a matches the (1 - a) interval; a TOST at level a runs each one-sided
    test at a, so it matches the (1 - 2a) interval. ``*_ci_level`` says which interval it is.
    """
    models = table.index != ALL_MACHINES
    for prefix, sides in (("d_prime_vs_0", 1), ("d_prime_tost", 2)):
        raw = "p_d_prime_vs_0" if sides == 1 else "d_prime_tost_p"
        adjusted = "p_d_prime_vs_0_holm" if sides == 1 else "d_prime_tost_p_holm"
        table[adjusted] = table[raw]
        levels = np.where(np.isfinite(table[raw]), alpha, np.nan)
        table.loc[models, adjusted] = holm(table.loc[models, raw].to_numpy())
        levels[models] = holm_levels(table.loc[models, raw].to_numpy(), alpha)
        table[f"{prefix}_ci_level"] = 1 - sides * levels
        bounds = [
            true_d_prime_interval(group, yardstick, 1 - sides * level)
            if yardstick and np.isfinite(level)
            else (np.nan, np.nan)
            for (group, yardstick), level in zip(yardsticks, levels, strict=True)
        ]
        table[f"{prefix}_ci_low"] = [bound[0] for bound in bounds]
        table[f"{prefix}_ci_high"] = [bound[1] for bound in bounds]
    table["d_prime_equivalent"] = table["d_prime_tost_p_holm"] < alpha
    table["d_prime_different"] = table["p_d_prime_vs_0_holm"] < alpha
