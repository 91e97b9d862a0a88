"""How many participants a study needs, counting that each one answers many trials.

A participant's answers are correlated (some people call everything "a person"), and every excerpt
is heard by many people, so the variance of a source's rate judged human is

    Var(rate) = p (1 - p) * DE / (n * m)  +  item_sd**2 / items,   DE = 1 + (m - 1) * icc

for n participants who each answer m trials of that source, drawn from ``items`` excerpts whose own
rates spread with standard deviation ``item_sd`` (Kish's design effect DE for the participants). The
item term does not shrink with more participants: with too few excerpts no number of participants is
enough, and the functions say so instead of returning a huge n. A model's difference from the human
excerpts adds the two variances; that ignores the (positive) covariance from shared participants,
which makes the answer slightly conservative.

Power is computed as the report tests: a t reference on min(participants, excerpts of the two
sources) - 1 degrees of freedom, the statistic taken as a shifted central t. With few excerpts
the t is much wider than the normal (2.13 against 1.96 with 8 a source), and a plan on the normal
promised 0.80 where the report's test reached 0.70-0.78. The test passes when the report's
interval at its critical value clears the null or lies inside the margin, and that interval is
the score one (evaluation/score_intervals.py), which near 0 or 1 reaches further towards the
middle: its reach is taken at the expected rates. On the symmetric interval a plan at a human
rate of 0.95 took 49 participants where the report's test needs 51 to pass 80% of the time.
n is the smallest integer reaching the target.

The report Holm-corrects its verdicts across the models of a study. Planning for ``models`` models
tests each at alpha / models, Holm's strictest step: Holm rejects whatever Bonferroni rejects, so
the power stated is a floor for every model, however the others turn out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from evaluation.equivalence import DEFAULT_ALPHA, DEFAULT_MARGIN
from evaluation.score_intervals import ScoreContrast

MAX_PARTICIPANTS = 10_000_000


@dataclass(frozen=True)
class Design:
    """What is fixed about the study when choosing n: trials, clustering, excerpts."""

    trials_per_source: int = 10  # m: trials per participant for each source compared
    icc: float = 0.05  # correlation of one participant's answers within a source
    items_per_source: int = 20
    item_sd: float = 0.0  # standard deviation of the excerpts' own rates judged human

    def __post_init__(self) -> None:
        if self.trials_per_source < 1:
            raise ValueError("trials_per_source must be at least 1")
        if not 0 <= self.icc <= 1:
            raise ValueError(f"icc must be in [0, 1], got {self.icc}")
        if self.items_per_source < 1:
            raise ValueError("items_per_source must be at least 1")
        if self.item_sd < 0:
            raise ValueError("item_sd must be >= 0")

    def df(self, participants: float) -> float:
        """Degrees of freedom of the report's test of a difference between two sources."""
        return min(participants, 2 * self.items_per_source) - 1

    @property
    def design_effect(self) -> float:
        return 1 + (self.trials_per_source - 1) * self.icc

    def variance(self, rate: float, participants: float) -> float:
        """Variance of one source's estimated rate judged human with n participants."""
        m = self.trials_per_source
        return rate * (1 - rate) * self.design_effect / (participants * m) + (
            self.item_sd**2 / self.items_per_source
        )


@dataclass(frozen=True)
class PowerResult:
    participants: int
    power: float
    se: float
    design_effect: float


def _per_test_alpha(alpha: float, models: int) -> float:
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be between 0 and 0.5, got {alpha}")
    if models < 1:
        raise ValueError(f"models must be at least 1, got {models}")
    return alpha / models


def _check_rate(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")


# How far the report's interval reaches below and above the estimate at a critical value q.
Reach = Callable[[float], tuple[float, float]]


def _wald_reach(se: float) -> Reach:
    return lambda q: (q * se, q * se)


def difference_power(
    se: float, diff: float, alpha: float, df: float = np.inf, reach: Reach | None = None
) -> float:
    """Power of a two-sided test (t on ``df`` degrees of freedom; the normal when infinite) of a
    true difference ``diff`` with standard error ``se``: the chance that the interval at the
    test's critical value leaves 0 out. ``reach`` is that interval's extent (default the Wald-t
    interval, q * se either way)."""
    if df < 1:
        return 0.0
    t = stats.t(df)
    down, up = (reach or _wald_reach(se))(t.ppf(1 - alpha / 2))
    return float(t.sf((down - diff) / se) + t.cdf((-up - diff) / se))


def tost_power(
    se: float,
    diff: float,
    margin: float,
    alpha: float,
    df: float = np.inf,
    reach: Reach | None = None,
) -> float:
    """Power of TOST (t on ``df`` degrees of freedom) to show |true diff| < margin when the true
    difference is ``diff``: the chance that the (1 - 2 alpha) interval lies inside the margin."""
    if df < 1:
        return 0.0
    t = stats.t(df)
    down, up = (reach or _wald_reach(se))(t.ppf(1 - alpha))
    return float(max(0.0, t.cdf((margin - up - diff) / se) - t.cdf((-margin + down - diff) / se)))


def score_reach(design: Design, model_rate: float, human_rate: float, n: float) -> Reach:
    """The extent of the report's MOVER interval (evaluation/score_intervals.py) for rates at
    their expected values, each on its effective size: near 0 or 1 it reaches further towards
    the middle, and a plan on the symmetric interval promised power the report's test lacks."""
    rates = (model_rate, human_rate)
    sizes = tuple(p * (1 - p) / design.variance(p, n) for p in rates)
    contrast = ScoreContrast(rates, sizes, 0.0, np.nan, int(design.df(n)))

    def reach(q: float) -> tuple[float, float]:
        low, high = contrast.bounds(q)
        return contrast.estimate - low, high - contrast.estimate

    return reach


def _smallest_n(power_at, target: float, limit_power: float, what: str) -> tuple[int, float, float]:
    """Smallest n whose power reaches ``target`` (power grows with n, so bisection finds it)."""
    if limit_power < target:
        raise ValueError(
            f"{what}: even with unlimited participants the power is only {limit_power:.3f} "
            f"(< {target}), because the excerpts' own variation dominates; add excerpts"
        )
    high = 1
    while power_at(high)[0] < target:
        high *= 2
        if high > MAX_PARTICIPANTS:
            raise ValueError(f"{what}: more than {MAX_PARTICIPANTS} participants needed")
    low = high // 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if power_at(mid)[0] < target else (low, mid)
    power, se = power_at(high)
    return high, power, se


def participants_for_difference(
    human_rate: float,
    model_rate: float,
    design: Design = Design(),
    alpha: float = DEFAULT_ALPHA,
    power: float = 0.8,
    models: int = 1,
) -> PowerResult:
    """Participants needed to detect that a model's rate judged human differs from the humans'."""
    alpha = _per_test_alpha(alpha, models)
    _check_rate("human_rate", human_rate)
    _check_rate("model_rate", model_rate)
    _check_rate("power", power)
    if human_rate == model_rate:
        raise ValueError("the rates are equal: there is no difference to detect")
    diff = model_rate - human_rate

    def at(n: float) -> tuple[float, float]:
        se = np.sqrt(design.variance(human_rate, n) + design.variance(model_rate, n))
        reach = score_reach(design, model_rate, human_rate, n)
        return difference_power(se, diff, alpha, design.df(n), reach), float(se)

    limit = at(np.inf)[0] if design.item_sd > 0 else 1.0
    return PowerResult(*_smallest_n(at, power, limit, "difference"), design.design_effect)


def participants_for_equivalence(
    human_rate: float,
    model_rate: float | None = None,
    margin: float = DEFAULT_MARGIN,
    design: Design = Design(),
    alpha: float = DEFAULT_ALPHA,
    power: float = 0.8,
    models: int = 1,
) -> PowerResult:
    """Participants needed for TOST to show a model within ``margin`` of the humans' rate.

    ``model_rate`` is the rate the model is expected to really have (default: equal to the
    humans'); the closer it is to the margin, the more participants are needed.
    """
    alpha = _per_test_alpha(alpha, models)
    model_rate = human_rate if model_rate is None else model_rate
    _check_rate("human_rate", human_rate)
    _check_rate("model_rate", model_rate)
    _check_rate("power", power)
    diff = model_rate - human_rate
    if not abs(diff) < margin:
        raise ValueError(f"a true difference of {diff:+.3f} is not inside the margin {margin}")

    def at(n: float) -> tuple[float, float]:
        se = np.sqrt(design.variance(human_rate, n) + design.variance(model_rate, n))
        reach = score_reach(design, model_rate, human_rate, n)
        return tost_power(se, diff, margin, alpha, design.df(n), reach), float(se)

    limit = at(np.inf)[0] if design.item_sd > 0 else 1.0
    return PowerResult(*_smallest_n(at, power, limit, "equivalence"), design.design_effect)
