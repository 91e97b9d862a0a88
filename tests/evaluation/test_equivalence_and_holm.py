import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import ttost_ind

from evaluation.equivalence import tost
from evaluation.multiple import holm, holm_levels


@pytest.mark.parametrize("shift", [0.0, 0.03, 0.08, 0.2])
def test_tost_matches_statsmodels_welch_ttost(shift):
    rng = np.random.default_rng(1)
    x = rng.normal(0.5 + shift, 0.2, 40)
    y = rng.normal(0.5, 0.25, 35)
    p_ref, lower, upper = ttost_ind(x, y, -0.1, 0.1, usevar="unequal")
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = np.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    # statsmodels uses Welch's fractional df; ours takes the df it is given.
    ours = tost(x.mean() - y.mean(), se, df, margin=0.1)
    assert ours.p_value == pytest.approx(p_ref, rel=1e-6)
    assert ours.p_lower == pytest.approx(lower[1], rel=1e-6)
    assert ours.p_upper == pytest.approx(upper[1], rel=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-0.5, 0.5),
    st.floats(0.001, 0.3),
    st.integers(1, 500),
    st.floats(0.01, 0.3),
    st.sampled_from([0.01, 0.05, 0.1]),
)
def test_tost_equivalence_iff_interval_inside_margin(diff, se, df, margin, alpha):
    result = tost(diff, se, df, margin, alpha)
    inside = -margin < result.ci_low and result.ci_high < margin
    # The duality holds exactly; allow float noise right at the boundary.
    if min(abs(result.ci_low + margin), abs(result.ci_high - margin)) > 1e-9:
        assert result.equivalent == inside
    assert result.p_value == max(result.p_lower, result.p_upper)


def test_non_significant_difference_is_not_equivalence():
    # A tiny study: the difference is 0 but the interval is wide, so nothing is shown.
    result = tost(0.0, se=0.2, df=10, margin=0.1)
    assert not result.equivalent


def test_tost_without_a_standard_error_is_not_equivalent():
    assert not tost(0.0, se=np.nan, df=10).equivalent
    assert not tost(0.0, se=0.01, df=0).equivalent


@pytest.mark.parametrize("margin", [0, -0.1])
def test_margin_must_be_positive(margin):
    with pytest.raises(ValueError, match="margin"):
        tost(0.0, 0.01, 10, margin=margin)


def test_holm_matches_statsmodels():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5, 0.2])
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1])
    rng = np.random.default_rng(0)
    for size in (1, 2, 5, 17):
        p = rng.random(size) ** 3
        np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1])


def test_holm_leaves_missing_tests_out_of_the_family():
    p = np.array([0.01, np.nan, 0.04])
    adjusted = holm(p)
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2]], multipletests(p[[0, 2]], method="holm")[1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_properties(values):
    p = np.array(values)
    adjusted = holm(p)
    assert np.all(adjusted >= p - 1e-15) and np.all(adjusted <= 1)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= -1e-15)


def test_holm_rejects_impossible_p_values():
    with pytest.raises(ValueError, match="p-values"):
        holm([0.5, 1.5])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=12), st.sampled_from([0.01, 0.05, 0.1]))
def test_holm_levels_agree_with_the_adjusted_decision(values, alpha):
    p = np.array(values)
    levels = holm_levels(p, alpha)
    adjusted = holm(p)
    assert np.all((levels >= alpha / p.size - 1e-15) & (levels <= alpha + 1e-15))
    clear = np.abs(adjusted - alpha) > 1e-9  # float noise right at the boundary aside
    np.testing.assert_array_equal((p < levels)[clear], (adjusted < alpha)[clear])


def test_holm_levels_by_hand():
    # Sorted 0.01, 0.02, 0.04 -> stages 3, 2, 1 -> levels 0.05/3, 0.05/2, 0.05.
    np.testing.assert_allclose(holm_levels([0.04, 0.01, 0.02], 0.05), [0.05, 0.05 / 3, 0.025])
    # Two tied p-values: both are held to alpha / 2 (the first stage's level carries over).
    np.testing.assert_allclose(holm_levels([0.027, 0.027], 0.05), [0.025, 0.025])
    # The running maximum binds: 0.02 * 3 = 0.06 > 0.021 * 2, so the second is held to
    # 0.05 * 0.021 / 0.06 = 0.0175, not 0.025.
    np.testing.assert_allclose(
        holm_levels([0.02, 0.021, 0.5], 0.05), [0.05 / 3, 0.0175, 0.05 * 0.5 / 0.5]
    )
    levels = holm_levels([np.nan, 0.0, 0.0], 0.05)
    assert np.isnan(levels[0]) and np.allclose(levels[1:], [0.025, 0.05])
