"""Holm's step-down correction for a family of tests (one test per model, say).

Holm (1979) controls the family-wise error rate like Bonferroni but is uniformly more powerful.
Adjusted p-values: sort ascending, multiply the k-th smallest by (m - k + 1), take the running
maximum, cap at 1. Missing p-values (a test that could not be run) stay missing and do not count
towards the family size.

An interval shown beside an adjusted decision must be at the level that decision used, or a
reader sees a 90% interval inside the margin next to a model that does not pass. ``holm_levels``
gives each test that level: the k-th smallest p-value is held to alpha / (m - k + 1) while the
running maximum does not bind, and to less where an earlier test's stricter level carries over.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np
import pandas as pd


def _stepped(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The finite p-values' order, their stage multipliers (m - k + 1) and the running maximum
    of multiplier * p (uncapped)."""
    present = np.flatnonzero(np.isfinite(p))
    order = present[np.argsort(p[present], kind="stable")]
    multipliers = (order.size - np.arange(order.size)).astype(float)
    running = np.maximum.accumulate(p[order] * multipliers) if order.size else np.empty(0)
    return order, multipliers, running


def _checked(p_values: np.ndarray | list[float]) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p[(p < 0) | (p > 1)]}")
    return p


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm-adjusted p-values, in the input order; NaN in, NaN out."""
    p = _checked(p_values)
    adjusted = np.full_like(p, np.nan)
    order, _, running = _stepped(p)
    adjusted[order] = np.minimum(running, 1.0)
    return adjusted


def holm_levels(p_values: np.ndarray | list[float], alpha: float) -> np.ndarray:
    """Per test, the level its own p-value is held to: p < level exactly when holm(p) < alpha.

    The level is alpha * p / (running maximum), between alpha / m and alpha; a (1 - level)
    interval (two-sided test) or (1 - 2 level) interval (TOST) then agrees with the adjusted
    decision. NaN where the p-value is missing.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    p = _checked(p_values)
    levels = np.full_like(p, np.nan)
    order, multipliers, running = _stepped(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A running maximum of 0 means every p-value up to here is 0: any level agrees with
        # the (rejecting) decision; the stage's own alpha / (m - k + 1) is the natural one.
        share = np.where(running > 0, p[order] / running, 1.0 / multipliers)
    levels[order] = alpha * share
    return levels


def holm_decisions(
    table: pd.DataFrame,
    prefix: str,
    p_column: str,
    sides: int,
    alpha: float,
    interval: Callable[[Hashable, float], tuple[float, float]],
) -> None:
    """Holm-adjust ``table[p_column]`` (into ``{p_column}_holm``) and put beside it the interval
    each decision used, at its level in ``{prefix}_ci_level``: (1 - a) for a two-sided test
    (``sides`` 1) and (1 - 2 a) for a TOST (2), a being that row's Holm level.
    ``interval(label, level)`` is a row's interval at a level."""
    levels = holm_levels(table[p_column].to_numpy(), alpha)
    table[f"{p_column}_holm"] = holm(table[p_column].to_numpy())
    table[f"{prefix}_ci_level"] = 1 - sides * levels
    bounds = [
        interval(label, 1 - sides * level) if np.isfinite(level) else (np.nan, np.nan)
        for label, level in zip(table.index, levels, strict=True)
    ]
    table[f"{prefix}_ci_low"] = [low for low, _ in bounds]
    table[f"{prefix}_ci_high"] = [high for _, high in bounds]
