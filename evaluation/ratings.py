"""Musicality ratings compared across sources, as in the Magenta listening studies.

A Kruskal-Wallis test asks whether any source is rated differently; pairwise two-sided Mann-Whitney
U tests (Holm-corrected) say which pairs differ. Ratings are ordinal (1..5), so rank tests fit.

Unit of analysis: ``unit="item"`` first averages the ratings of each excerpt; excerpts belong to
exactly one source, so the groups are then independent as the tests assume, at the cost of power
when there are few excerpts. With ``unit="judgment"`` every rating is one observation, which is
what the Magenta studies did and makes results comparable with theirs, but it treats the many
ratings of one excerpt (and of one participant) as independent. Where a model is rated exactly as
the human excerpts are but excerpts differ, it rejected in 15-21% of simulated studies at a
stated 5%, the by-excerpt test in 4.2% (bench/error_rates.py). The report shows both, the
by-excerpt test first.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from evaluation import tidy
from evaluation.multiple import holm

UNITS = ("item", "judgment")  # the sound reading first


@dataclass(frozen=True)
class RatingComparison:
    unit: str
    column: str
    descriptives: pd.DataFrame  # per source: n, mean, sd, median
    kruskal_h: float
    kruskal_p: float
    pairwise: pd.DataFrame  # a, b, u, p, p_holm, effect (rank-biserial)


def _values(frame: pd.DataFrame, column: str, unit: str) -> pd.DataFrame:
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    if unit == "judgment":
        return frame[[tidy.SOURCE, column]]
    return (
        frame.groupby([tidy.SOURCE, tidy.ITEM], sort=True, observed=True)[column]
        .mean()
        .reset_index()
    )


def compare_ratings(
    frame: pd.DataFrame, column: str = tidy.MUSICALITY, unit: str = "judgment"
) -> RatingComparison:
    """Kruskal-Wallis across sources, then Holm-corrected pairwise Mann-Whitney U tests."""
    values = _values(frame, column, unit)
    groups = {
        source: g[column].to_numpy(float)
        for source, g in values.groupby(tidy.SOURCE, sort=True, observed=True)
    }
    descriptives = values.groupby(tidy.SOURCE, sort=True, observed=True)[column].agg(
        ["count", "mean", "std", "median"]
    )
    descriptives = descriptives.rename(columns={"count": "n", "std": "sd"})
    usable = {k: v for k, v in groups.items() if v.size > 0}
    h, p = np.nan, np.nan
    pooled = np.concatenate(list(usable.values())) if usable else np.array([])
    if len(usable) >= 2 and np.unique(pooled).size > 1:
        h, p = stats.kruskal(*usable.values())
    rows = []
    for a, b in combinations(sorted(usable), 2):
        x, y = usable[a], usable[b]
        if np.unique(np.concatenate([x, y])).size > 1:
            u, pu = stats.mannwhitneyu(x, y, alternative="two-sided")
            effect = 2 * u / (x.size * y.size) - 1
        else:
            u, pu, effect = np.nan, 1.0, 0.0
        rows.append({"a": a, "b": b, "u": float(u), "p": float(pu), "rank_biserial": float(effect)})
    pairwise = pd.DataFrame(rows, columns=["a", "b", "u", "p", "rank_biserial"])
    pairwise["p_holm"] = holm(pairwise["p"].to_numpy()) if len(pairwise) else []
    return RatingComparison(unit, column, descriptives, float(h), float(p), pairwise)
