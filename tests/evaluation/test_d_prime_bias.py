import numpy as np
import pytest
from scipy import stats

from evaluation.d_prime_bias import (
    THRESHOLD_GRID,
    DPrimeScale,
    DPrimeYardstick,
    _expected_corrected_z,
    d_prime_scale,
    threshold_weights,
)
from evaluation.detection import corrected_rate, d_prime


def test_expected_corrected_z_by_hand():
    # One trial: K is 0 or 1, z((0.5)/2) = -z(0.75), so E z = (2p - 1) z(0.75).
    for x in (-1.0, 0.0, 0.7):
        p = stats.norm.cdf(x)
        expected = (2 * p - 1) * stats.norm.ppf(0.75)
        assert _expected_corrected_z(1, np.array([x]))[0] == pytest.approx(expected, abs=1e-12)
    # Any trial count, against a plain sum over the binomial.
    for trials, x in ((5, 0.3), (10, -1.2), (40, 2.0)):
        k = np.arange(trials + 1)
        brute = stats.binom.pmf(k, trials, stats.norm.cdf(x)) @ stats.norm.ppf(
            corrected_rate(k, trials)
        )
        assert _expected_corrected_z(trials, np.array([x]))[0] == pytest.approx(brute, rel=1e-10)


def counts_from(thresholds, d, signal_trials, noise_trials, rng):
    """Listeners answer "a computer" above their threshold; a model's excerpts sit d higher."""
    hits = rng.binomial(signal_trials, stats.norm.cdf(d - thresholds))
    false_alarms = rng.binomial(noise_trials, stats.norm.cdf(-thresholds))
    n = len(thresholds)
    return np.column_stack(
        [np.full(n, signal_trials), hits, np.full(n, noise_trials), false_alarms]
    )


def test_the_threshold_distribution_is_recovered():
    rng = np.random.default_rng(0)
    counts = counts_from(np.full(400, 1.0), 0.5, 30, 30, rng)
    weights = threshold_weights(counts, 0.5)
    assert weights.sum() == pytest.approx(1.0)
    assert weights @ THRESHOLD_GRID == pytest.approx(1.0, abs=0.1)
    assert weights[np.abs(THRESHOLD_GRID - 1.0) <= 0.3].sum() > 0.8


def test_the_map_pulls_towards_zero_and_inverts():
    rng = np.random.default_rng(1)
    counts = counts_from(rng.normal(0.0, 0.5, 200), 0.0, 10, 10, rng)
    scale = d_prime_scale(counts, 0.0)
    assert np.all(np.diff(scale.expected) > 0)  # increasing: larger true d', larger mean
    assert scale.expected_at(0.0) == pytest.approx(0.0, abs=1e-3)  # equal trials: no lean bias
    for d in (0.3, 1.0, 2.0):
        if d < 2:  # symmetric as far as the fitted thresholds are, which thins out at the tails
            assert scale.expected_at(-d) == pytest.approx(-scale.expected_at(d), abs=0.02)
        assert 0 < scale.expected_at(d) < d  # pulled towards 0 ...
        assert scale.true_at(scale.expected_at(d)) == pytest.approx(d, abs=1e-3)  # ... and back
    # Mild leans and 10 trials a source: a few percent (the curvature of z offsets part of the
    # pull of 10 / 11); strong leans: a quarter or more.
    assert 0.93 < scale.expected_at(0.3) / 0.3 < 0.99
    leaning = d_prime_scale(counts_from(rng.normal(1.0, 1.0, 200), 0.0, 10, 10, rng), 0.0)
    assert leaning.expected_at(0.3) / 0.3 < 0.8


def test_the_map_for_listeners_who_differ_is_where_their_mean_sits():
    # Listeners leaning hard towards "a person", whose own d' spreads with SD 0.5 around 0.3:
    # the mean of 50,000 of them (SE 0.003) sits where the map for that spread says, and off the
    # one for listeners alike.
    rng = np.random.default_rng(4)
    n = 50_000
    thresholds = rng.normal(1.0, 1.0, n)
    own = 0.3 + rng.normal(0.0, 0.5, n)
    hits = rng.binomial(5, stats.norm.cdf(own - thresholds))
    false_alarms = rng.binomial(10, stats.norm.cdf(-thresholds))
    counts = np.column_stack([np.full(n, 5), hits, np.full(n, 10), false_alarms])
    observed = d_prime(corrected_rate(hits, 5), corrected_rate(false_alarms, 10)).mean()
    spread = d_prime_scale(counts, observed, 0.5)
    assert observed == pytest.approx(spread.expected_at(0.3), abs=0.008)
    assert observed - d_prime_scale(counts, observed, 0.0).expected_at(0.3) > 0.012


def line(slope, shift):
    """A hand-made g: the expected mean at true d' is slope * d' + shift."""
    true = np.linspace(-4.0, 4.0, 81)
    return DPrimeScale(true=true, expected=slope * true + shift)


def test_the_yardstick_holds_a_verdict_only_where_every_spread_agrees():
    yardstick = DPrimeYardstick((line(1.0, 0.0), line(0.8, 0.05)))
    # g(0) is 0 and 0.05: a mean of 0.2 with SE 0.08 is 2.5 and 1.9 SEs away, and only the
    # first rejects at 5%.
    p_first = 2 * stats.t.sf(0.2 / 0.08, 99)
    p_second = 2 * stats.t.sf(0.15 / 0.08, 99)
    assert yardstick.p_versus(0.2, 0.08, 99, 0.0) == pytest.approx(p_second)
    assert p_first < 0.05 < p_second
    # The TOST against +-0.3 is the one with the larger p-value, so its verdict needs both.
    tost = yardstick.tost(0.1, 0.05, 99, 0.3, 0.05)
    assert (tost.lower, tost.upper) == pytest.approx((-0.19, 0.29))
    # The interval is the hull of both mappings: (0.2 - 0.05) / 0.8 at the top.
    assert yardstick.interval(-0.1, 0.2) == pytest.approx((-0.1875, 0.2))
    assert yardstick.true_at(0.2) == pytest.approx(0.2)  # the point: listeners alike


def test_an_undetectable_model_heard_less_often_than_human_excerpts_has_a_positive_mean():
    # Leaning towards "a person" (c > 0) puts both rates of answering "a computer" low, where the
    # correction lifts the rate of the model's 5 trials more than that of the 10 human ones.
    rng = np.random.default_rng(2)
    criteria = rng.normal(1.0, 0.5, 300)
    counts = counts_from(criteria, 0.0, 5, 10, rng)
    scale = d_prime_scale(counts, 0.0)
    hits = corrected_rate(counts[:, 1], counts[:, 0])
    false_alarms = corrected_rate(counts[:, 3], counts[:, 2])
    observed = d_prime(hits, false_alarms).mean()
    assert scale.expected_at(0.0) > 0.05
    assert observed == pytest.approx(scale.expected_at(0.0), abs=0.08)
    assert abs(scale.true_at(observed)) < 0.2


def test_true_d_prime_beyond_the_grid_is_reported_at_its_edge():
    rng = np.random.default_rng(3)
    counts = counts_from(np.zeros(20), 0.0, 5, 5, rng)
    scale = d_prime_scale(counts, 0.0)
    assert scale.true_at(10.0) == 4.0 and scale.true_at(-10.0) == -4.0
    assert np.isnan(scale.true_at(np.nan))
