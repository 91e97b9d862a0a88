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

The remedy keeps the estimator and moves the yardstick. For a true d' = delta, participant p's
expected corrected d' is exactly

    E[z((H + 0.5) / (n_s + 1))] - E[z((F + 0.5) / (n_n + 1))],
    H ~ Binomial(n_s, Phi(delta / 2 - c_p)),  F ~ Binomial(n_n, Phi(-delta / 2 - c_p)),

with their own trial counts n_s, n_n and criterion c_p; the group's expected mean is the average
over participants, g(delta), increasing in delta. Each participant's criterion is unknown and their
corrected c is pulled towards 0 too, so the criteria's distribution is estimated on a grid by
nonparametric maximum likelihood (Laird 1978, EM), which asks nothing of its shape. Then:

- the test of d' = 0 compares the mean with g(0), not with 0;
- the TOST on d' compares it with g(-margin) and g(+margin);
- intervals are the usual t intervals of the mean, mapped through g's inverse onto the true d'
  (the point estimate too), so an interval inside +-margin is exactly a TOST that passes.

With these, the same simulations (and a third design, 100 participants hearing 10 of 20 excerpts
a source) rejected d' = 0 in 4.5-5.3% of studies and passed a model sitting on either margin in
3.9-5.4% (TOST at alpha 0.05). The variance of the mean is still the crossed-design one
of detection.py: only the yardstick moves. True d' beyond +-4 (near-perfect discrimination) is
reported as +-4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

D_PRIME_GRID = np.linspace(-4.0, 4.0, 81)  # g is smooth: linear interpolation errs < 1e-3
CRITERION_GRID = np.linspace(-4.0, 4.0, 81)
# g moves by less than 1e-4 after 25 EM steps in simulated studies; 50 leave room.
EM_STEPS = 50
EM_TOLERANCE = 1e-7


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


def criterion_weights(counts: np.ndarray, d_prime: float) -> np.ndarray:
    """Weights on CRITERION_GRID: the NPMLE of the participants' criterion distribution.

    ``counts`` has one row per participant: signal trials, hits, noise trials, false alarms. The
    likelihood of a row at criterion c is that of its hits and false alarms with d' = ``d_prime``.
    """
    patterns, repeats = np.unique(np.asarray(counts, dtype=int), axis=0, return_counts=True)
    signal, hits, noise, false_alarms = (patterns[:, [i]] for i in range(4))
    likelihood = np.exp(
        _log_binomial_pmf(hits, signal, d_prime / 2 - CRITERION_GRID)
        + _log_binomial_pmf(false_alarms, noise, -d_prime / 2 - CRITERION_GRID)
    )
    share = repeats / repeats.sum()
    weights = np.full(CRITERION_GRID.size, 1.0 / CRITERION_GRID.size)
    for _ in range(EM_STEPS):
        posterior = likelihood * weights
        posterior /= np.maximum(posterior.sum(axis=1, keepdims=True), 1e-300)
        updated = share @ posterior
        if np.abs(updated - weights).max() < EM_TOLERANCE:
            return updated
        weights = updated
    return weights


def d_prime_scale(counts: np.ndarray, mean_d_prime: float) -> DPrimeScale:
    """g for these participants (rows of ``counts`` as in ``criterion_weights``).

    The criteria are fitted at the observed mean corrected d'; they hardly depend on it.
    """
    counts = np.asarray(counts, dtype=int)
    fit_at = mean_d_prime if np.isfinite(mean_d_prime) else 0.0
    weights = criterion_weights(counts, fit_at)
    half = D_PRIME_GRID[:, None] / 2
    expected = np.zeros(D_PRIME_GRID.size)
    for column, sign in ((0, 1.0), (2, -1.0)):  # signal trials: +E z(H); noise trials: -E z(F)
        trials, repeats = np.unique(counts[:, column], return_counts=True)
        for n, share in zip(trials, repeats / counts.shape[0], strict=True):
            rate_z = sign * half - CRITERION_GRID[None, :]
            expected += sign * share * (_expected_corrected_z(int(n), rate_z) @ weights)
    return DPrimeScale(true=D_PRIME_GRID, expected=expected)
