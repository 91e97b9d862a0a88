"""Error rates of the report's intervals and verdicts, measured on simulated studies.

A verdict is only as good as its error rate: "passes for human" must fire at most alpha of the time
for a model whose true difference from the human rate sits exactly on the margin, and "listeners
cannot tell" likewise for a model whose true d' sits on its margin. These functions draw studies
from a known truth (evaluation/simulate.py), run the same code the report runs, and count. The
tests keep short runs as guards; bench/error_rates.py runs the long ones that the README quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize, stats

from evaluation import pairs, tidy
from evaluation.d_prime_bias import DPrimeYardstick, d_prime_yardstick
from evaluation.detection import group_sdt
from evaluation.equivalence import tost, tost_between
from evaluation.rates import (
    CHANCE,
    Estimate,
    difference,
    effective_n,
    group_rates,
    rate_estimate,
    t_estimate,
    wilson,
)
from evaluation.ratings import UNITS, compare_ratings
from evaluation.simulate import PairDesign, StudyDesign, simulate_pair_study, simulate_study

MODEL = "model"

# Designs the README's table reports (bench/error_rates.py) and the tests guard in short runs.
# "all 8": every participant hears all 8 excerpts of each source; "10 of 40": 10 drawn from 40.
RATE_DESIGNS = {
    "40 x all 8 excerpts, criterion SD 1.0, excerpt SD 0": StudyDesign(
        participants=40, trials_per_source=8, items_per_source=8, threshold_sd=1.0
    ),
    "40 x all 8 excerpts, criterion SD 0, excerpt SD 0.3": StudyDesign(
        participants=40, trials_per_source=8, items_per_source=8, item_sd=0.3
    ),
    "40 x all 8 excerpts, criterion SD 0.5, excerpt SD 0.3": StudyDesign(
        participants=40, trials_per_source=8, items_per_source=8, threshold_sd=0.5, item_sd=0.3
    ),
    "40 x all 8 excerpts, criterion SD 1.0, excerpt SD 0.3": StudyDesign(
        participants=40, trials_per_source=8, items_per_source=8, threshold_sd=1.0, item_sd=0.3
    ),
    "40 x all 8 excerpts, criterion SD 1.0, excerpt SD 0.5": StudyDesign(
        participants=40, trials_per_source=8, items_per_source=8, threshold_sd=1.0, item_sd=0.5
    ),
    "100 x 10 of 40 excerpts, criterion SD 1.0, excerpt SD 0": StudyDesign(
        participants=100, trials_per_source=10, items_per_source=40, threshold_sd=1.0
    ),
    "20 x 5 of 10 excerpts, criterion SD 0.5, excerpt SD 0.3": StudyDesign(
        participants=20, trials_per_source=5, items_per_source=10, threshold_sd=0.5, item_sd=0.3
    ),
}

D_PRIME_DESIGNS = {
    "100 x 10 of 20 excerpts, criterion 0.5 (SD 0.5), excerpt SD 0.3": StudyDesign(
        participants=100, trials_per_source=10, items_per_source=20, threshold_sd=0.5, item_sd=0.3
    ),
    "200 x 10 human + 5 model of 30, criterion 0.5 (SD 0.5), excerpt SD 0.3": StudyDesign(
        participants=200,
        trials_per_source=5,
        human_trials=10,
        items_per_source=30,
        threshold_sd=0.5,
        item_sd=0.3,
    ),
    "200 x 10 human + 5 model of 30, criterion 1.0 (SD 1.0), excerpt SD 0.3": StudyDesign(
        participants=200,
        trials_per_source=5,
        human_trials=10,
        items_per_source=30,
        threshold=1.0,
        threshold_sd=1.0,
        item_sd=0.3,
    ),
}

# Listeners who differ in their own d': the yardstick allows for spreads up to 0.5 (d_prime_bias.
# LISTENER_SPREADS); 1.0 lies beyond it. The README's d' table quotes these rows.
D_PRIME_SPREAD_DESIGNS = {
    f"{name}, listeners' d' SD {spread}": replace(design, participant_d_sd=spread)
    for name, design in list(D_PRIME_DESIGNS.items())[1:]
    for spread in (0.5, 1.0)
}


@dataclass(frozen=True)
class DifferenceErrors:
    """A model's difference from the human rate over simulated studies."""

    studies: int
    coverage: float  # share of 95% intervals holding the true difference
    se_ratio: float  # root mean estimated variance / the estimates' SD
    false_pass: float  # share of studies whose TOST called it equivalent (true diff on the margin)
    wald_coverage: float  # the same two with the Wald-t interval on the same variance
    wald_false_pass: float


@dataclass(frozen=True)
class DPrimeErrors:
    """The d' tests over simulated studies, with the mean corrected d' read on its own scale
    ("plain"), through d_prime_bias's map for listeners alike ("alike") and through its yardstick
    for every spread of their own d' it allows for ("ours", the report's)."""

    studies: int
    rejected: float  # share where the test of d' = 0 rejected
    plain_rejected: float
    alike_rejected: float
    passed: float  # share where the TOST against +-margin called it equivalent
    plain_passed: float
    alike_passed: float


@dataclass(frozen=True)
class RateErrors:
    """The human excerpts' rate over simulated studies: the report's Wilson interval and score
    test against the Wald-t ones they replaced."""

    studies: int
    coverage: float  # share of 95% intervals holding the true rate
    rejected: float  # share whose test of 50% rejected (its size where the truth is 50%)
    wald_coverage: float
    wald_rejected: float


def on_the_margin(design: StudyDesign, margin: float) -> StudyDesign:
    """``design`` with one model judged human exactly ``margin`` less often than human excerpts."""
    human = design.true_rate_human(0.0)

    def gap(d_prime: float) -> float:
        return human - design.true_rate_human(d_prime) - margin

    d_prime = optimize.brentq(gap, 0.0, 10.0)
    return replace(design, model_d_primes={MODEL: d_prime})


def with_human_rate(design: StudyDesign, rate: float) -> StudyDesign:
    """``design`` with its threshold moved so human excerpts are judged human at ``rate``."""
    spread = float(np.sqrt(1 + design.threshold_sd**2 + design.item_sd**2))
    return replace(design, threshold=float(stats.norm.ppf(rate)) * spread)


def with_true_d_prime(design: StudyDesign, d_prime: float) -> StudyDesign:
    """``design`` with one model whose participant-average d' (true_d_prime) is ``d_prime``."""
    return replace(design, model_d_primes={MODEL: d_prime * float(np.sqrt(1 + design.item_sd**2))})


def difference_errors(
    design: StudyDesign, margin: float, alpha: float, studies: int, seed: int = 0
) -> DifferenceErrors:
    """Coverage and false-pass rate for a model on the margin (see ``on_the_margin``), with the
    report's score intervals and with the Wald-t interval they replaced."""
    design = on_the_margin(design, margin)
    truth = -margin
    estimates, variances, counts = [], [], np.zeros(4)
    for study in range(seed, seed + studies):
        frame, _ = simulate_study(design, seed=study)
        rates = group_rates(
            frame[tidy.JUDGED_HUMAN], frame[tidy.SOURCE], frame[tidy.PARTICIPANT], frame[tidy.ITEM]
        )
        diff = difference(rates, MODEL, tidy.HUMAN)
        wald = t_estimate(diff.estimate, diff.se, diff.df, truth)
        estimates.append(diff.estimate)
        variances.append(diff.se**2)
        counts += [
            diff.ci_low <= truth <= diff.ci_high,
            diff.score.tost(-margin, margin, alpha).equivalent,
            wald.ci_low <= truth <= wald.ci_high,
            tost(diff.estimate, diff.se, diff.df, margin, alpha).equivalent,
        ]
    coverage, false_pass, wald_coverage, wald_false_pass = (float(c) for c in counts / studies)
    return DifferenceErrors(
        studies=studies,
        coverage=coverage,
        se_ratio=float(np.sqrt(np.nanmean(variances)) / np.std(estimates)),
        false_pass=false_pass,
        wald_coverage=wald_coverage,
        wald_false_pass=wald_false_pass,
    )


def equivalence_power(
    design: StudyDesign, margin: float, alpha: float, studies: int, seed: int = 0
) -> tuple[float, float]:
    """How often TOST finds a model judged human exactly as often as the human excerpts within
    the margin: with the report's score intervals, and with the Wald-t interval."""
    design = replace(design, model_d_primes={MODEL: 0.0})
    counts = np.zeros(2)
    for study in range(seed, seed + studies):
        frame, _ = simulate_study(design, seed=study)
        rates = group_rates(
            frame[tidy.JUDGED_HUMAN], frame[tidy.SOURCE], frame[tidy.PARTICIPANT], frame[tidy.ITEM]
        )
        diff = difference(rates, MODEL, tidy.HUMAN)
        counts += [
            diff.score.tost(-margin, margin, alpha).equivalent,
            tost(diff.estimate, diff.se, diff.df, margin, alpha).equivalent,
        ]
    ours, wald = counts / studies
    return float(ours), float(wald)


def rate_errors(design: StudyDesign, alpha: float, studies: int, seed: int = 0) -> RateErrors:
    """Coverage of the human excerpts' rate, and how often its test of 50% rejects."""
    truth = design.true_rate_human(0.0)
    counts = np.zeros(4)
    for study in range(seed, seed + studies):
        frame, _ = simulate_study(design, seed=study)
        rates = group_rates(
            frame[tidy.JUDGED_HUMAN], frame[tidy.SOURCE], frame[tidy.PARTICIPANT], frame[tidy.ITEM]
        )
        ours = rate_estimate(rates, tidy.HUMAN)
        wald = t_estimate(ours.estimate, ours.se, ours.df, CHANCE, bounds=(0.0, 1.0))
        if rates.all_alike(tidy.HUMAN):  # as the report does: Wilson on its judgments
            units = effective_n(rates, tidy.HUMAN)
            low, high = wilson(ours.estimate * units, units)
            wald = replace(wald, ci_low=low, ci_high=high)
        counts += [
            ours.ci_low <= truth <= ours.ci_high,
            ours.p_value < alpha,
            wald.ci_low <= truth <= wald.ci_high,
            wald.p_value < alpha,
        ]
    return RateErrors(studies, *(float(share) for share in counts / studies))


def d_prime_errors(
    design: StudyDesign,
    true_d_prime: float,
    margin: float,
    alpha: float,
    studies: int,
    seed: int = 0,
) -> DPrimeErrors:
    """How often each d' test fires for a model of participant-average d' ``true_d_prime``.

    At ``true_d_prime`` = 0 ``rejected`` is the size of the test of d' = 0; at +-``margin``,
    ``passed`` is the false "cannot tell" rate of the TOST.
    """
    design = with_true_d_prime(design, true_d_prime)
    counts = np.zeros(6)
    for study in range(seed, seed + studies):
        frame, _ = simulate_study(design, seed=study)
        group = group_sdt(frame, MODEL)
        mean, se, df = group.d_prime.estimate, group.d_prime.se, group.df
        yardstick = d_prime_yardstick(group.counts, mean)
        alike = DPrimeYardstick(yardstick.scales[:1])
        counts += [
            yardstick.p_versus(mean, se, df, 0.0) < alpha,
            2 * stats.t.sf(abs(mean) / se, df) < alpha,
            alike.p_versus(mean, se, df, 0.0) < alpha,
            yardstick.tost(mean, se, df, margin, alpha).equivalent,
            tost_between(mean, se, df, -margin, margin, alpha).equivalent,
            alike.tost(mean, se, df, margin, alpha).equivalent,
        ]
    return DPrimeErrors(studies, *(float(share) for share in counts / studies))


# Musicality rated alike for both sources (a model nobody can tell from the human excerpts), the
# excerpts differing: each test of ratings should reject in alpha of these studies.
RATING_DESIGNS = {
    "100 x 10 of 20 excerpts, criterion SD 0.5, excerpt SD 0.5": StudyDesign(
        model_d_primes={MODEL: 0.0},
        participants=100,
        trials_per_source=10,
        items_per_source=20,
        threshold_sd=0.5,
        item_sd=0.5,
    ),
    "40 x all 8 excerpts, criterion SD 1.0, excerpt SD 1.0": StudyDesign(
        model_d_primes={MODEL: 0.0},
        participants=40,
        trials_per_source=8,
        items_per_source=8,
        threshold_sd=1.0,
        item_sd=1.0,
    ),
}


def rating_errors(design: StudyDesign, alpha: float, studies: int, seed: int = 0) -> dict:
    """How often the musicality tests (Mann-Whitney U, model against human) reject, by unit."""
    counts = dict.fromkeys(UNITS, 0)
    for study in range(seed, seed + studies):
        frame, _ = simulate_study(design, seed=study)
        for unit in UNITS:
            counts[unit] += compare_ratings(frame, unit=unit).pairwise["p"].iloc[0] < alpha
    return {unit: count / studies for unit, count in counts.items()}


# Pair studies at BachBot's scale (held-out chorales heard in many pairs), excerpts differing.
PAIR_DESIGNS = {
    f"200 x 5 pairs of 6 chorales and 9 machine pieces, excerpt SD {sd}": PairDesign(
        model_pcs={MODEL: 0.6},
        participants=200,
        pairs_per_participant=5,
        human_items=6,
        items_per_model=9,
        excerpt_sd=sd,
    )
    for sd in (0.0, 0.2, 0.4)
} | {
    "200 x 5 pairs of 40 chorales and 40 machine pieces, excerpt SD 0.4": PairDesign(
        model_pcs={MODEL: 0.6},
        participants=200,
        pairs_per_participant=5,
        human_items=40,
        items_per_model=40,
        excerpt_sd=0.4,
    ),
}


@dataclass(frozen=True)
class PairErrors:
    """A model's pc over simulated pair studies, clustered three ways (ours) and by the pair."""

    studies: int
    coverage: float  # share of 95% intervals holding the true pc
    told_apart: float  # share whose test of 50% rejected
    indistinguishable: float  # share whose TOST called pc within the margin of 50%
    pair_coverage: float  # the same three, clustered by the pair
    pair_told_apart: float
    pair_indistinguishable: float


def _pair_outcomes(estimate: Estimate, pc: float, margin: float, alpha: float) -> list[bool]:
    """Covered, told apart, called indistinguishable."""
    tost_result = estimate.score.tost(0.5 - margin, 0.5 + margin, alpha)
    told = bool(estimate.p_value < alpha)
    return [bool(estimate.ci_low <= pc <= estimate.ci_high), told, tost_result.equivalent]


def pair_errors(
    design: PairDesign, pc: float, margin: float, alpha: float, studies: int, seed: int = 0
) -> PairErrors:
    """Coverage and verdicts for a model of true pc ``pc``: at 0.5 ``told_apart`` is the size of
    the test of 50%; at 0.5 +- margin ``indistinguishable`` is TOST's false pass rate."""
    design = replace(design, model_pcs={MODEL: pc})
    counts = np.zeros(6)
    for study in range(seed, seed + studies):
        frame = simulate_pair_study(design, seed=study)
        ours = pairs.proportion_correct(frame, frame[pairs.SOURCE])[MODEL]
        by_pair = group_rates(
            frame[pairs.CORRECT], frame[pairs.SOURCE], frame[pairs.PARTICIPANT], frame[pairs.PAIR]
        )
        old = rate_estimate(by_pair, MODEL)
        counts += _pair_outcomes(ours, pc, margin, alpha) + _pair_outcomes(old, pc, margin, alpha)
    return PairErrors(studies, *(float(share) for share in counts / studies))
