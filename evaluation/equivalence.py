"""Equivalence testing: the only honest ground for saying a model "passes the Turing test".

A non-significant difference from the human excerpts means nothing by itself: a small study fails to
find any difference. Two one-sided tests (TOST, Schuirmann 1987) instead ask whether the difference
is demonstrably inside a margin the researcher fixed in advance (default 10 percentage points):

    H0a: diff <= -margin  vs  H1a: diff > -margin
    H0b: diff >= +margin  vs  H1b: diff < +margin

Equivalence holds when both are rejected at alpha, i.e. when the (1 - 2 alpha) interval lies inside
(-margin, +margin). The difference and its standard error come from rates.difference, so the
clustering by participant and item is already in the standard error. When several models are
tested, alpha is the Holm-adjusted level of each (multiple.holm_levels), and so is the interval.

``tost_between`` takes any two bounds: the d' test (evaluation/d_prime_bias.py) compares the mean
corrected d' with where it would sit if the true d' were on the margin, which is not symmetric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

DEFAULT_MARGIN = 0.10
DEFAULT_D_PRIME_MARGIN = 0.3
DEFAULT_ALPHA = 0.05


@dataclass(frozen=True)
class Tost:
    """Result of two one-sided t tests of lower < estimate < upper."""

    estimate: float
    se: float
    df: int
    lower: float
    upper: float
    p_lower: float  # test of estimate > lower
    p_upper: float  # test of estimate < upper
    p_value: float  # max of the two: the TOST p-value
    ci_low: float  # (1 - 2 alpha) interval
    ci_high: float
    alpha: float

    @property
    def equivalent(self) -> bool:
        return bool(np.isfinite(self.p_value) and self.p_value < self.alpha)


def check_alpha(alpha: float) -> None:
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be between 0 and 0.5, got {alpha}")


def tost_between(
    estimate: float,
    se: float,
    df: float,
    lower: float,
    upper: float,
    alpha: float = DEFAULT_ALPHA,
) -> Tost:
    """TOST of lower < ``estimate`` < upper with a t reference on ``df`` degrees of freedom."""
    if not lower < upper:
        raise ValueError(f"the equivalence bounds must be increasing, got {lower}, {upper}")
    check_alpha(alpha)
    if not (np.isfinite(se) and se > 0 and df >= 1 and np.isfinite(estimate)):
        return Tost(estimate, se, int(df), lower, upper, *[np.nan] * 5, alpha)
    p_lower = float(stats.t.sf((estimate - lower) / se, df))
    p_upper = float(stats.t.cdf((estimate - upper) / se, df))
    q = stats.t.ppf(1 - alpha, df)
    return Tost(
        estimate=float(estimate),
        se=float(se),
        df=int(df),
        lower=float(lower),
        upper=float(upper),
        p_lower=p_lower,
        p_upper=p_upper,
        p_value=max(p_lower, p_upper),
        ci_low=float(estimate - q * se),
        ci_high=float(estimate + q * se),
        alpha=alpha,
    )


def tost(
    diff: float,
    se: float,
    df: float,
    margin: float = DEFAULT_MARGIN,
    alpha: float = DEFAULT_ALPHA,
) -> Tost:
    """TOST of ``diff`` against +-``margin`` with a t reference on ``df`` degrees of freedom."""
    if not margin > 0:
        raise ValueError(f"the equivalence margin must be positive, got {margin}")
    return tost_between(diff, se, df, -margin, margin, alpha)
