"""Equivalence testing: the only honest ground for saying a model "passes the Turing test".

A non-significant difference from the human excerpts means nothing by itself: a small study fails to
find any difference. Two one-sided tests (TOST, Schuirmann 1987) instead ask whether the difference
is demonstrably inside a margin the researcher fixed in advance (default 10 percentage points):

    H0a: diff <= -margin  vs  H1a: diff > -margin
    H0b: diff >= +margin  vs  H1b: diff < +margin

Equivalence holds when both are rejected at alpha, i.e. when the (1 - 2 alpha) interval lies inside
(-margin, +margin). The difference and its standard error come from rates.difference, so the
clustering by participant and item is already in the standard error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

DEFAULT_MARGIN = 0.10
DEFAULT_ALPHA = 0.05


@dataclass(frozen=True)
class Tost:
    """Result of two one-sided t tests of |diff| < margin."""

    diff: float
    se: float
    df: int
    margin: float
    p_lower: float  # test of diff > -margin
    p_upper: float  # test of diff < +margin
    p_value: float  # max of the two: the TOST p-value
    ci_low: float  # (1 - 2 alpha) interval
    ci_high: float
    alpha: float

    @property
    def equivalent(self) -> bool:
        return bool(np.isfinite(self.p_value) and self.p_value < self.alpha)


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
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be between 0 and 0.5, got {alpha}")
    if not (np.isfinite(se) and se > 0 and df >= 1):
        return Tost(diff, se, int(df), margin, np.nan, np.nan, np.nan, np.nan, np.nan, alpha)
    p_lower = float(stats.t.sf((diff + margin) / se, df))
    p_upper = float(stats.t.cdf((diff - margin) / se, df))
    q = stats.t.ppf(1 - alpha, df)
    return Tost(
        diff=float(diff),
        se=float(se),
        df=int(df),
        margin=margin,
        p_lower=p_lower,
        p_upper=p_upper,
        p_value=max(p_lower, p_upper),
        ci_low=float(diff - q * se),
        ci_high=float(diff + q * se),
        alpha=alpha,
    )
