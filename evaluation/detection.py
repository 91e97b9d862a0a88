"""Signal detection: how well each participant tells machine excerpts from human ones.

The rate judged human mixes two things: whether people *can* tell the sources apart and whether they
lean towards answering "a person". Signal detection theory separates them. The signal is a machine
excerpt, so per participant:

- hit = a machine excerpt answered "a computer";
- false alarm = a human excerpt answered "a computer";
- d' = z(H) - z(F)  (0 = cannot tell; the Turing test is passed when d' is near 0);
- c = -(z(H) + z(F)) / 2  (positive = leans towards "a person").

Rates of 0 or 1 have infinite z, so every participant's rates get the log-linear correction of
Hautus (1995): (count + 0.5) / (trials + 1). It is applied to all participants, not only the extreme
ones, which keeps the estimator the same for everyone (its bias is small and towards 0).
Participants are independent of one another, so group means get a t interval over participants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from evaluation import tidy
from evaluation.rates import Estimate, t_estimate

ALL_MACHINES = "all machines"


def corrected_rate(count: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Hautus' log-linear correction: never 0 or 1, so z is always finite."""
    return (np.asarray(count, dtype=float) + 0.5) / (np.asarray(trials, dtype=float) + 1.0)


def d_prime(hit_rate: np.ndarray, fa_rate: np.ndarray) -> np.ndarray:
    """Sensitivity d' = z(H) - z(F) under the equal-variance Gaussian model."""
    return stats.norm.ppf(hit_rate) - stats.norm.ppf(fa_rate)


def criterion(hit_rate: np.ndarray, fa_rate: np.ndarray) -> np.ndarray:
    """Criterion c = -(z(H) + z(F)) / 2; positive means a bias towards answering "a person"."""
    return -(stats.norm.ppf(hit_rate) + stats.norm.ppf(fa_rate)) / 2


def participant_sdt(frame: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Per-participant hits, false alarms, corrected rates, d' and c.

    ``source`` limits the signal trials to one model (false alarms still come from every human
    excerpt the participant heard). Participants without both kinds of trial are left out, since
    neither rate exists for them.
    """
    machine = frame[tidy.SOURCE_KIND] == tidy.MACHINE
    signal = machine if source is None else frame[tidy.SOURCE] == source
    noise = frame[tidy.SOURCE_KIND] == tidy.HUMAN
    said_machine = ~frame[tidy.JUDGED_HUMAN]
    counts = (
        pd.DataFrame(
            {
                "signal_trials": signal,
                "hits": signal & said_machine,
                "noise_trials": noise,
                "false_alarms": noise & said_machine,
            }
        )
        .groupby(frame[tidy.PARTICIPANT], sort=True, observed=True)
        .sum()
    )
    counts = counts[(counts["signal_trials"] > 0) & (counts["noise_trials"] > 0)]
    counts.index.name = tidy.PARTICIPANT
    hit_rate = corrected_rate(counts["hits"], counts["signal_trials"])
    fa_rate = corrected_rate(counts["false_alarms"], counts["noise_trials"])
    counts["hit_rate"] = hit_rate
    counts["fa_rate"] = fa_rate
    counts["d_prime"] = d_prime(hit_rate, fa_rate)
    counts["criterion"] = criterion(hit_rate, fa_rate)
    return counts


def mean_estimate(values: np.ndarray, null: float = 0.0, level: float = 0.95) -> Estimate:
    """Mean over independent units with a t interval and a one-sample t test against ``null``."""
    values = np.asarray(values, dtype=float)
    n = values.size
    if n == 0:
        return Estimate(np.nan, np.nan, -1, np.nan, np.nan, null, np.nan)
    se = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    return t_estimate(float(values.mean()), se, n - 1, null, level, bounds=(-np.inf, np.inf))


def sdt_table(frame: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Group mean d' and c for all machine excerpts together and for each model."""
    sources = sorted(frame.loc[frame[tidy.SOURCE_KIND] == tidy.MACHINE, tidy.SOURCE].unique())
    rows = []
    for source in (None, *sources):
        per = participant_sdt(frame, source)
        sensitivity = mean_estimate(per["d_prime"], level=level)
        bias = mean_estimate(per["criterion"], level=level)
        rows.append(
            {
                "source": ALL_MACHINES if source is None else source,
                "participants": len(per),
                "d_prime": sensitivity.estimate,
                "d_prime_ci_low": sensitivity.ci_low,
                "d_prime_ci_high": sensitivity.ci_high,
                "p_d_prime_vs_0": sensitivity.p_value,
                "criterion": bias.estimate,
                "criterion_ci_low": bias.ci_low,
                "criterion_ci_high": bias.ci_high,
            }
        )
    return pd.DataFrame(rows).set_index("source")
