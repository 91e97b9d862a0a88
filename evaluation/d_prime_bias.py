"""Where the mean corrected d' sits for a given true d', so tests and intervals can undo the pull.

Each participant's hit and false-alarm rates get the log-linear correction (count + 0.5) /
(trials + 1) (evaluation/detection.py), which keeps z finite but pulls every rate towards 50%, and
so every d' towards 0: the mean d' of a group with mild leans and 10 trials a source sits about 4%
short of the truth (10% with 5 trials), of one whose participants lean hard one way (criterion
mean and SD 1) about 30% short (40% with 5 trials), since their rates sit near 0 or 1 where z is
steep. With 5 trials of a model and
10 human excerpts a participant (a 20-trial study with two models) the two rates are also pulled
by different amounts, so the mean d' of a model nobody can detect is not 0.

Measured on simulated studies (bench/error_rates.py, 1,000 studies a design and truth; 200
participants hearing 10 human excerpts and 5 of the model):

- the test of d' = 0 against the mean corrected d' rejected a truly undetectable model in 7.5% of
  studies (criterion mean 0.5, SD 0.5) and 36.8% (mean 1.0, SD 1.0) at a nominal 5%;
- a TOST of the mean corrected d' against +-0.3 called a model at d' = -0.3 equivalent in 32.3%
  and 97.8% of them.

The remedy keeps the estimator and moves the yardstick. Participant p answers "a computer" when an
excerpt's evidence exceeds their threshold k_p; a human excerpt's evidence is N(0, 1) and a
model's N(delta + u_p, 1), so their false-alarm rate Phi(-k_p) is the same whichever model they
judge, and their own d' is delta + u_p. For a true (participant-average) d' = delta their expected
corrected d' is

    E[z((H + 0.5) / (n_s + 1))] - E[z((F + 0.5) / (n_n + 1))],
    H ~ Binomial(n_s, Phi(delta + u_p - k_p)),  F ~ Binomial(n_n, Phi(-k_p)),

with their own trial counts n_s, n_n; the group's expected mean is the average over participants,
g(delta), increasing in delta. The thresholds are unknown and their corrected estimates are
pulled towards 0 too, so their distribution is estimated on a grid by nonparametric maximum
likelihood (Laird 1978, EM), which asks nothing of its shape. Then:

- the test of d' = 0 compares the mean with g(0), not with 0;
- the TOST on d' compares it with g(-margin) and g(+margin);
- intervals are the usual t intervals of the mean, mapped through g's inverse onto the true d'
  (the point estimate too), so an interval inside +-margin is exactly a TOST that passes.

With listeners alike (u_p = 0), the same simulations (and a third design, 100 participants
hearing 10 of 20 excerpts a source) rejected d' = 0 in 3.7-4.5% of studies and passed a model
sitting on either margin in 1.3-4.9% (TOST at alpha 0.05).

Listeners differ in their own d', though, and g depends on how much: z is steep near rates of 0
and 1, so a spread of d' moves the mean differently from a shared d'. Read against listeners
alike, a spread (SD of u_p) of 0.5 passed a model at d' = -0.3 as "cannot tell" in 6.6-7.5% of
studies, and a spread of 1.0 in 36-42% (13-16% and 45-61% with the yardstick before this one,
which held each listener's criterion c = k - d'/2 fixed as d' varied rather than their threshold,
though the false alarms on human excerpts cannot depend on the model). A spread of d' from 5 or
10 trials a participant is barely estimable (a two-dimensional NPMLE of threshold and d' made
matters worse), so the yardstick allows for a range instead: g is built for each spread in
LISTENER_SPREADS (u_p normal, integrated by Gauss-Hermite quadrature, the thresholds refitted
under it), and a verdict needs every one of them to agree. The test of d' = 0 takes the largest
p-value, the TOST likewise, and the interval spans all the mapped intervals (its hull). Up to a
spread of 0.5 both tests then kept to 0.3-4.9% where 5% is stated; a model nobody can tell was
found "cannot tell" in 57-77% of studies instead of 72-88% with listeners alike. At a spread of
1.0, beyond the range, false "cannot tell" is still 17-18% (bench/error_rates.py).

The variance of the mean is still the crossed-design one of detection.py: only the yardstick
moves. True d' beyond +-4 (near-perfect discrimination) is reported as +-4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import hermite_e
from scipy import special, stats

from evaluation.equivalence import Tost, tost_between

D_PRIME_GRID = np.linspace(-4.0, 4.0, 81)  # g is smooth: linear interpolation errs < 1e-3
THRESHOLD_GRID = np.linspace(-4.0, 4.0, 81)
# g moves by less than 1e-4 after 25 EM steps in simulated studies; 50 leave room.
EM_STEPS = 50
EM_TOLERANCE = 1e-7
# SDs of the listeners' own d' that a verdict must hold for. In simulated studies g moved
# monotonically with the spread (at steps of 0.125, |d'| <= 1.5, to within 3e-4), so these three
# bound every spread between.
LISTENER_SPREADS = (0.0, 0.25, 0.5)
# Standard normal quadrature for a listener's offset u_p: 15 nodes give g within 1e-9 of 41.
_NODES, _NODE_WEIGHTS = hermite_e.hermegauss(15)
_NODE_WEIGHTS = _NODE_WEIGHTS / _NODE_WEIGHTS.sum()


@dataclass(frozen=True)
class DPrimeScale:
    """g: the expected mean corrected d' of these participants, on a grid of true d'."""

    true: np.ndarray
    expected: np.ndarray

    def expected_at(self, d_prime: float) -> float:
        """g(d'): where the mean corrected d' is expected to sit if the true d' were ``d_prime``."""
        return float(np.interp(d_prime, self.true, self.expected))

    def true_at(self, mean: float) -> float:
        """g's inverse: the true d' whose expected mean corrected d' is ``mean`` (within +-4)."""
        if not np.isfinite(mean):
            return float(mean)
        return float(np.interp(mean, self.expected, self.true))


@dataclass(frozen=True)
class DPrimeYardstick:
    """One g per spread of the listeners' own d' (LISTENER_SPREADS): a verdict holds for them all.

    The first is for listeners alike; it gives the point estimate.
    """

    scales: tuple[DPrimeScale, ...]

    def true_at(self, mean: float) -> float:
        return self.scales[0].true_at(mean)

    def interval(self, low: float, high: float) -> tuple[float, float]:
        """The hull of the interval [low, high] of the mean, mapped through each g."""
        return (
            min(scale.true_at(low) for scale in self.scales),
            max(scale.true_at(high) for scale in self.scales),
        )

    def p_versus(self, mean: float, se: float, df: int, d_prime: float) -> float:
        """Two-sided p-value of true d' = ``d_prime``: the largest over the spreads."""
        return max(
            float(2 * stats.t.sf(abs(mean - scale.expected_at(d_prime)) / se, df))
            for scale in self.scales
        )

    def tost(self, mean: float, se: float, df: int, margin: float, alpha: float) -> Tost:
        """TOST of |true d'| < ``margin``: the one with the largest p-value over the spreads."""
        tests = (
            tost_between(mean, se, df, scale.expected_at(-margin), scale.expected_at(margin), alpha)
            for scale in self.scales
        )
        return max(tests, key=lambda test: -np.inf if np.isnan(test.p_value) else test.p_value)


def _log_binomial_pmf(k: np.ndarray, trials: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log P(K = k) for K ~ Binomial(trials, Phi(x)), broadcasting k, trials and x."""
    log_choose = (
        special.gammaln(trials + 1) - special.gammaln(k + 1) - special.gammaln(trials - k + 1)
    )
    return log_choose + k * special.log_ndtr(x) + (trials - k) * special.log_ndtr(-x)


def _expected_corrected_z(trials: int, x: np.ndarray) -> np.ndarray:
    """E z((K + 0.5) / (trials + 1)) for K ~ Binomial(trials, Phi(x)), elementwise over x."""
    k = np.arange(trials + 1)
    pmf = np.exp(_log_binomial_pmf(k, trials, np.asarray(x, dtype=float)[..., None]))
    return pmf @ special.ndtri((k + 0.5) / (trials + 1))


def _offsets(spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes and weights for a listener's offset u_p ~ N(0, spread^2)."""
    if spread == 0:
        return np.zeros(1), np.ones(1)
    return _NODES * spread, _NODE_WEIGHTS


def threshold_weights(counts: np.ndarray, d_prime: float, spread: float = 0.0) -> np.ndarray:
    """Weights on THRESHOLD_GRID: the NPMLE of the participants' threshold distribution.

    ``counts`` has one row per participant: signal trials, hits, noise trials, false alarms. The
    likelihood of a row at threshold k is that of its hits and false alarms with d' = ``d_prime``
    plus the listener's offset, integrated over offsets of SD ``spread``.
    """
    patterns, repeats = np.unique(np.asarray(counts, dtype=int), axis=0, return_counts=True)
    signal, hits, noise, false_alarms = (patterns[:, [i]] for i in range(4))
    false_alarm_likelihood = np.exp(_log_binomial_pmf(false_alarms, noise, -THRESHOLD_GRID))
    hit_likelihood = sum(
        weight * np.exp(_log_binomial_pmf(hits, signal, d_prime + offset - THRESHOLD_GRID))
        for offset, weight in zip(*_offsets(spread), strict=True)
    )
    likelihood = hit_likelihood * false_alarm_likelihood
    share = repeats / repeats.sum()
    weights = np.full(THRESHOLD_GRID.size, 1.0 / THRESHOLD_GRID.size)
    for _ in range(EM_STEPS):
        posterior = likelihood * weights
        posterior /= np.maximum(posterior.sum(axis=1, keepdims=True), 1e-300)
        updated = share @ posterior
        if np.abs(updated - weights).max() < EM_TOLERANCE:
            return updated
        weights = updated
    return weights


def d_prime_scale(counts: np.ndarray, mean_d_prime: float, spread: float = 0.0) -> DPrimeScale:
    """g for these participants (rows of ``counts`` as in ``threshold_weights``), whose own d'
    spreads with SD ``spread`` around the true d'.

    The thresholds are fitted at the observed mean corrected d'; they hardly depend on it.
    """
    counts = np.asarray(counts, dtype=int)
    fit_at = mean_d_prime if np.isfinite(mean_d_prime) else 0.0
    weights = threshold_weights(counts, fit_at, spread)
    expected = np.zeros(D_PRIME_GRID.size)
    trials, repeats = np.unique(counts[:, 0], return_counts=True)  # signal: + E z(H)
    for n, share in zip(trials, repeats / counts.shape[0], strict=True):
        for offset, weight in zip(*_offsets(spread), strict=True):
            hit_z = D_PRIME_GRID[:, None] + offset - THRESHOLD_GRID[None, :]
            expected += share * weight * (_expected_corrected_z(int(n), hit_z) @ weights)
    trials, repeats = np.unique(counts[:, 2], return_counts=True)  # noise: - E z(F)
    for n, share in zip(trials, repeats / counts.shape[0], strict=True):
        expected -= share * float(_expected_corrected_z(int(n), -THRESHOLD_GRID) @ weights)
    return DPrimeScale(true=D_PRIME_GRID, expected=expected)


def d_prime_yardstick(counts: np.ndarray, mean_d_prime: float) -> DPrimeYardstick:
    """The yardstick for these participants: g at each of LISTENER_SPREADS."""
    return DPrimeYardstick(
        tuple(d_prime_scale(counts, mean_d_prime, spread) for spread in LISTENER_SPREADS)
    )
