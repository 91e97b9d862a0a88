"""Fades, loudness normalisation (ITU-R BS.1770) with true-peak protection, exact length.

Louder excerpts sound better to most listeners, so loudness must not differ by source: every
stimulus is brought to one integrated loudness. Where that gain would push a peak over the
ceiling, a look-ahead limiter lowers just those peaks (instead of the whole excerpt, which would
leave it quieter than the rest), and the loudness is measured and corrected again.

Loudness is measured once, as block powers (see loudness.py): at a uniform gain the result is
exact from those alone, so the audio is measured again only after the limiter has acted.
"""

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from audio.loudness import block_powers, gated_loudness
from audio.truepeak import true_peaks

_LIMITER_WINDOW_SECONDS = 0.005
_LIMITER_MARGIN = 0.98  # room for peaks between the 4x oversampled points
_LOUDNESS_TOLERANCE_LU = 0.05
_MAX_PASSES = 4


@dataclass(frozen=True)
class FinishSpec:
    target_lufs: float = -16.0
    ceiling_dbtp: float = -1.0
    fade_in_seconds: float = 0.01
    fade_out_seconds: float = 1.5

    def __post_init__(self) -> None:
        if not -70 < self.target_lufs < 0:
            raise ValueError(f"target loudness must lie in (-70, 0) LUFS, got {self.target_lufs}")
        if self.ceiling_dbtp > 0:
            raise ValueError(f"the peak ceiling must be at most 0 dBTP, got {self.ceiling_dbtp}")
        if self.fade_in_seconds < 0 or self.fade_out_seconds < 0:
            raise ValueError("fades cannot be negative")


@dataclass(frozen=True)
class FinishFacts:
    loudness_lufs: float
    true_peak_dbtp: float
    gain_db: float
    limiter_reduction_db: float


def finish(
    audio: np.ndarray, sample_rate: int, n_samples: int, spec: FinishSpec
) -> tuple[np.ndarray, FinishFacts]:
    """Mono audio of exactly n_samples, faded, at the target loudness, under the peak ceiling.

    Gain is found by measuring and correcting (the BS.1770 absolute gate makes loudness not
    quite linear in gain on quiet tails). While no limiting is needed, a correction is computed
    from the first measurement's block powers, exactly; once the limiter acts, the limited audio
    is measured again. True peaks are measured once, before any gain: they scale with it, and
    the limiter's gain is smooth enough to scale them sample by sample.
    """
    out = np.zeros(n_samples, dtype=np.float32)
    out[: min(n_samples, len(audio))] = audio[:n_samples]
    _apply_fades(out, sample_rate, spec)
    powers = block_powers(out, sample_rate)
    original = _finite(gated_loudness(powers))
    peaks = true_peaks(out)
    ceiling = 10 ** (spec.ceiling_dbtp / 20)
    gain_db = spec.target_lufs - original
    for _ in range(_MAX_PASSES):
        level = 10 ** (gain_db / 20)
        limiter = _limiter_gain(peaks, level, ceiling, sample_rate)
        gain = np.float32(level) if limiter is None else level * limiter
        finished = out * gain
        if limiter is None:
            loudness = _finite(gated_loudness(powers, gain_db))
        else:
            loudness = _finite(gated_loudness(block_powers(finished, sample_rate)))
        if abs(loudness - spec.target_lufs) <= _LOUDNESS_TOLERANCE_LU:
            break
        gain_db += spec.target_lufs - loudness
    facts = FinishFacts(
        loudness_lufs=loudness,
        true_peak_dbtp=_db(float((peaks * gain).max())),
        gain_db=gain_db,
        limiter_reduction_db=max(gain_db - (loudness - original), 0.0),
    )
    return finished, facts


def _db(amplitude: float) -> float:
    return float(20 * np.log10(max(amplitude, 1e-12)))


def _finite(loudness: float) -> float:
    if not np.isfinite(loudness):
        raise ValueError("the audio is silent: its loudness cannot be measured or normalised")
    return loudness


def _apply_fades(audio: np.ndarray, rate: int, spec: FinishSpec) -> None:
    """Raised-cosine fades, in place: no click at the cut into the music, a gentle end at the
    cut out. Only the ramps are touched; the samples between them keep their values."""
    n = len(audio)
    fade_in = min(round(spec.fade_in_seconds * rate), n)
    fade_out = min(round(spec.fade_out_seconds * rate), n)
    if fade_in:
        ramp = np.arange(fade_in) / fade_in
        audio[:fade_in] *= (0.5 - 0.5 * np.cos(np.pi * ramp)).astype(np.float32)
    if fade_out:
        ramp = np.arange(1, fade_out + 1) / fade_out
        audio[n - fade_out :] *= (0.5 + 0.5 * np.cos(np.pi * ramp)).astype(np.float32)


def _limiter_gain(
    peaks: np.ndarray, level: float, ceiling: float, sample_rate: int
) -> np.ndarray | None:
    """Look-ahead limiter gain for audio with true peaks `peaks` raised by `level`, or None
    when no peak would pass the ceiling.

    A moving minimum then a moving average over the same window is, at every sample, at most
    the gain that sample needs, and changes gradually enough not to distort audibly. Both
    filters are run only around the samples that need less than full gain: elsewhere the
    result is exactly 1, so each stretch is filtered with enough untouched samples on either
    side that its edges see what the whole signal would show them.
    """
    if peaks.max() * level <= ceiling:
        return None
    threshold = _LIMITER_MARGIN * ceiling / level
    over = np.flatnonzero(peaks > threshold)
    window = 2 * round(_LIMITER_WINDOW_SECONDS * sample_rate / 2) + 1
    reach = 2 * (window // 2) + 1  # the two filters together spread a dip this far
    gain = np.ones(len(peaks), dtype=np.float32)
    breaks = np.flatnonzero(np.diff(over) > 2 * reach) + 1
    for stretch in np.split(over, breaks):
        lo, hi = max(stretch[0] - reach, 0), min(stretch[-1] + reach + 1, len(peaks))
        needed = np.minimum(1.0, threshold / np.maximum(peaks[lo:hi], 1e-12))
        gain[lo:hi] = uniform_filter1d(minimum_filter1d(needed, window), window)
    return gain
