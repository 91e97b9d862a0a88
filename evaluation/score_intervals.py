"""Intervals and tests of a rate, or of one rate less another, that keep the rates' own shape.

A rate judged human near 0 or 1 cannot move far towards the boundary, but a Wald interval
(estimate +- t * SE) is symmetric, and its SE shrinks as the estimate nears the boundary. Measured
on simulated studies (bench/error_rates.py): where human excerpts were judged human 95% of the
time, a model on the 10-point margin passed the Wald TOST in 5.4-7.8% of studies at a stated 5%,
and with 100 participants a rate of 0.9-0.98 was covered by its 95% interval 89.8-92.7% of the
time.

Two standard remedies replace it, with the clustering kept through each rate's effective sample
size (Kish): n_eff = p (1 - p) / V, V the crossed-design variance of evaluation/rates.py.

- **One rate:** Wilson's score interval on n_eff, with the t critical value of the rate's degrees
  of freedom. Its test of a rate p0 is the score test, (p - p0) / sqrt(p0 (1 - p0) / n_eff): the
  interval holds exactly the p0 the test does not reject.
- **A difference of two rates** (a model against the human excerpts): Zou & Donner's (2008) method
  of variance estimates recovery (MOVER), Newcombe's (1998) hybrid score interval with the
  correlation of the two estimates put back,

      low  = d - sqrt((p1 - l1)^2 + (u2 - p2)^2 - 2 r (p1 - l1)(u2 - p2))
      high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2 - 2 r (u1 - p1)(p2 - l2))

  with (l, u) each rate's Wilson limits at the same critical value. r comes from the variances
  of the two rates and of their difference, so where the limits are symmetric (rates near 50%)
  this is the Wald interval on the difference's own crossed variance, to rounding.

The two square roots need not grow with the critical value: where the correlation is high and the
two rates' effective sizes differ, one Wilson limit can stall at its boundary while the other
grows, and a 99% interval came out narrower than the 95% one. Each limit is therefore taken as
the farthest it reaches at any critical value up to the one asked for, so intervals are nested
in their level.

A test is the interval inverted: a one-sided p-value is the tail probability of the smallest
critical value at which the interval's bound reaches the null, so a verdict and the interval
shown beside it always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from evaluation.equivalence import Tost, check_alpha

# Past this critical value every Wilson interval is (0, 1) to rounding: the largest one searched.
LARGEST_CRITICAL_VALUE = 1e3
# The critical values at which a difference's limits are followed up to the one asked for: fine
# where p-values and levels live, coarse out to the largest. A root is then refined between two
# neighbours, so only a dip narrower than one step could be missed.
CRITICAL_GRID = np.concatenate(
    [np.linspace(0.0, 10.0, 2001), np.geomspace(10.0, LARGEST_CRITICAL_VALUE, 201)[1:]]
)


def wilson_limits(p: float, n: float, q: float | np.ndarray) -> tuple:
    """Wilson's score interval for a proportion ``p`` of ``n`` (effective) trials at critical
    value ``q`` (or at each of an array of them)."""
    shrink = 1 + q**2 / n
    centre = (p + q**2 / (2 * n)) / shrink
    half = q * np.sqrt(p * (1 - p) / n + q**2 / (4 * n**2)) / shrink
    # The interval always contains p; min/max only undo rounding at p = 0 or 1 (1 - 1e-16).
    low = np.maximum(0.0, np.minimum(p, centre - half))
    high = np.minimum(1.0, np.maximum(p, centre + half))
    if np.ndim(low) == 0:
        return (float(low), float(high))
    return (low, high)


@dataclass(frozen=True)
class ScoreContrast:
    """One rate (``rates`` of length 1), or the first rate less the second, with what its
    intervals need: each rate's effective sample size, the correlation of the two estimates and
    the degrees of freedom of the t reference. ``se`` is the crossed-design standard error, shown
    for reference; the intervals do not use it directly."""

    rates: tuple[float, ...]
    effective_n: tuple[float, ...]
    correlation: float
    se: float
    df: int

    @property
    def estimate(self) -> float:
        return self.rates[0] - (self.rates[1] if len(self.rates) == 2 else 0.0)

    @property
    def testable(self) -> bool:
        """Whether the data support an interval: a degree of freedom, a finite, positive
        effective size for every rate, and a known correlation between them."""
        sizes = all(np.isfinite(n) and n > 0 for n in self.effective_n)
        return self.df >= 1 and sizes and bool(np.isfinite(self.correlation))

    def bounds(self, q: float) -> tuple[float, float]:
        """The interval at critical value ``q``: for a difference, each limit as far as it
        reaches at any critical value up to ``q``."""
        if len(self.rates) == 1:
            return wilson_limits(self.rates[0], self.effective_n[0], q)
        below, above = self._reaches(np.append(CRITICAL_GRID[q > CRITICAL_GRID], q))
        return (self.estimate - float(below.max()), self.estimate + float(above.max()))

    def _reaches(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """How far below and above the estimate the MOVER limits of a difference reach at each
        critical value of ``q``, before they are made to grow with it."""
        (p1, p2), (n1, n2), r = self.rates, self.effective_n, self.correlation
        (l1, u1), (l2, u2) = wilson_limits(p1, n1, q), wilson_limits(p2, n2, q)
        below = (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * r * (p1 - l1) * (u2 - p2)
        above = (u1 - p1) ** 2 + (p2 - l2) ** 2 - 2 * r * (u1 - p1) * (p2 - l2)
        return np.sqrt(np.maximum(below, 0.0)), np.sqrt(np.maximum(above, 0.0))

    def interval(self, level: float) -> tuple[float, float]:
        """The two-sided ``level`` interval; NaN where the data cannot support one."""
        if not self.testable:
            return (np.nan, np.nan)
        return self.bounds(float(stats.t.ppf(0.5 + level / 2, self.df)))

    def p_above(self, bound: float) -> float:
        """One-sided p-value of the test that the true value exceeds ``bound``."""
        if not self.testable:
            return np.nan
        if self.estimate == bound:
            return 0.5
        if self.estimate > bound:
            return self._p_beyond(bound, upper=False)
        return 1.0 - self._p_beyond(bound, upper=True)

    def p_below(self, bound: float) -> float:
        """One-sided p-value of the test that the true value lies under ``bound``: the other
        tail of the same inverted interval."""
        return 1.0 - self.p_above(bound)

    def _p_beyond(self, bound: float, upper: bool) -> float:
        """The t tail of the smallest critical value at which the interval's lower (or upper)
        limit reaches ``bound``, which lies below (above) the estimate."""
        side = 1 if upper else 0

        def gap(q: float) -> float:
            return abs(self.bounds(q)[side] - self.estimate) - abs(bound - self.estimate)

        if len(self.rates) == 1:
            beyond = gap(LARGEST_CRITICAL_VALUE) >= 0
            low, high = 0.0, LARGEST_CRITICAL_VALUE
        else:
            reach = self._reaches(CRITICAL_GRID)[side]
            first = int(np.argmax(reach >= abs(bound - self.estimate)))
            beyond = reach[first] >= abs(bound - self.estimate)
            low, high = CRITICAL_GRID[max(first - 1, 0)], CRITICAL_GRID[first]
        if not beyond:
            return float(stats.t.sf(LARGEST_CRITICAL_VALUE, self.df))
        q = optimize.brentq(gap, low, high, xtol=1e-10) if gap(low) < 0 else low
        return float(stats.t.sf(q, self.df))

    def p_value(self, null: float) -> float:
        """Two-sided p-value of the test that the true value is ``null``."""
        if not self.testable:
            return np.nan
        above = self.p_above(null)
        return min(1.0, 2 * min(above, 1.0 - above))

    def tost(self, lower: float, upper: float, alpha: float) -> Tost:
        """Two one-sided tests of lower < true value < upper, with the (1 - 2 alpha) interval
        that decides them."""
        if not lower < upper:
            raise ValueError(f"the equivalence bounds must be increasing, got {lower}, {upper}")
        check_alpha(alpha)
        p_lower, p_upper = self.p_above(lower), self.p_below(upper)
        low, high = self.interval(1 - 2 * alpha)
        return Tost(
            estimate=float(self.estimate),
            se=float(self.se),
            df=int(self.df),
            lower=float(lower),
            upper=float(upper),
            p_lower=p_lower,
            p_upper=p_upper,
            p_value=max(p_lower, p_upper),
            ci_low=float(low),
            ci_high=float(high),
            alpha=alpha,
        )
