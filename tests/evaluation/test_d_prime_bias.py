import numpy as np
import pytest
from scipy import stats

from evaluation.d_prime_bias import (
    CRITERION_GRID,
    _expected_corrected_z,
    criterion_weights,
    d_prime_scale,
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


def counts_from(criteria, d, signal_trials, noise_trials, rng):
    hits = rng.binomial(signal_trials, stats.norm.cdf(d / 2 - criteria))
    false_alarms = rng.binomial(noise_trials, stats.norm.cdf(-d / 2 - criteria))
    n = len(criteria)
    return np.column_stack(
        [np.full(n, signal_trials), hits, np.full(n, noise_trials), false_alarms]
    )


def test_the_criteria_distribution_is_recovered():
    rng = np.random.default_rng(0)
    counts = counts_from(np.full(400, 1.0), 0.5, 30, 30, rng)
    weights = criterion_weights(counts, 0.5)
    assert weights.sum() == pytest.approx(1.0)
    assert weights @ CRITERION_GRID == pytest.approx(1.0, abs=0.1)
    assert weights[np.abs(CRITERION_GRID - 1.0) <= 0.3].sum() > 0.8


def test_the_map_pulls_towards_zero_and_inverts():
    rng = np.random.default_rng(1)
    counts = counts_from(rng.normal(0.0, 0.5, 200), 0.0, 10, 10, rng)
    scale = d_prime_scale(counts, 0.0)
    assert np.all(np.diff(scale.expected) > 0)  # increasing: larger true d', larger mean
    assert scale.expected_at(0.0) == pytest.approx(0.0, abs=1e-3)  # equal trials: no lean bias
    for d in (0.3, 1.0, 2.0):
        assert scale.expected_at(-d) == pytest.approx(-scale.expected_at(d), abs=0.02)
        assert 0 < scale.expected_at(d) < d  # pulled towards 0 ...
        assert scale.true_at(scale.expected_at(d)) == pytest.approx(d, abs=1e-3)  # ... and back
    # Mild leans and 10 trials a source: a few percent (the curvature of z offsets part of the
    # pull of 10 / 11); strong leans: a quarter or more.
    assert 0.93 < scale.expected_at(0.3) / 0.3 < 0.99
    leaning = d_prime_scale(counts_from(rng.normal(1.0, 1.0, 200), 0.0, 10, 10, rng), 0.0)
    assert leaning.expected_at(0.3) / 0.3 < 0.8


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
