"""Holm's step-down correction for a family of tests (one test per model, say).

Holm (1979) controls the family-wise error rate like Bonferroni but is uniformly more powerful.
Adjusted p-values: sort ascending, multiply the k-th smallest by (m - k + 1), take the running
maximum, cap at 1. Missing p-values (a test that could not be run) stay missing and do not count
towards the family size.
"""

from __future__ import annotations

import numpy as np


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm-adjusted p-values, in the input order; NaN in, NaN out."""
    p = np.asarray(p_values, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p[(p < 0) | (p > 1)]}")
    adjusted = np.full_like(p, np.nan)
    present = np.flatnonzero(np.isfinite(p))
    m = present.size
    if m == 0:
        return adjusted
    order = present[np.argsort(p[present], kind="stable")]
    stepped = p[order] * (m - np.arange(m))
    adjusted[order] = np.minimum(np.maximum.accumulate(stepped), 1.0)
    return adjusted
