"""Fades, loudness normalisation (ITU-R BS.1770) with true-peak protection, exact length.

Louder excerpts sound better to most listeners, so loudness must not differ by source: every
stimulus is brought to one integrated loudness. Where that gain would push a peak over the
ceiling, a look-ahead limiter lowers just those peaks (instead of the whole excerpt, which would
leave it quieter than the rest), and the loudness is measured and corrected again.
"""

import functools
from dataclasses import dataclass

import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import firwin

_OVERSAMPLE = 4  # BS.1770-4 true peak: 4x oversampling at 48 kHz
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
    quite linear in gain on quiet tails). True peaks are measured once, before any gain: they
    scale with it, and the limiter's gain is smooth enough to scale them sample by sample.
    """
    out = np.zeros(n_samples, dtype=np.float32)
    out[: min(n_samples, len(audio))] = audio[:n_samples]
    out *= _fade_envelope(n_samples, sample_rate, spec).astype(np.float32)
    meter = _meter(sample_rate)
    original = _loudness(meter, out)
    peaks = _sample_peaks(out)
    ceiling = 10 ** (spec.ceiling_dbtp / 20)
    gain_db = spec.target_lufs - original
    for _ in range(_MAX_PASSES):
        level = 10 ** (gain_db / 20)
        gain = level * _limiter_gain(peaks * level, ceiling, sample_rate)
        finished = out * np.asarray(gain, dtype=np.float32)
        loudness = _loudness(meter, finished)
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


@functools.cache
def _meter(sample_rate: int) -> pyloudnorm.Meter:
    return pyloudnorm.Meter(sample_rate)


def _loudness(meter: pyloudnorm.Meter, audio: np.ndarray) -> float:
    loudness = meter.integrated_loudness(audio)
    if not np.isfinite(loudness):
        raise ValueError("the audio is silent: its loudness cannot be measured or normalised")
    return float(loudness)


def _fade_envelope(n: int, rate: int, spec: FinishSpec) -> np.ndarray:
    """Raised-cosine fades: no click at the cut into the music, a gentle end at the cut out."""
    envelope = np.ones(n)
    fade_in = min(round(spec.fade_in_seconds * rate), n)
    fade_out = min(round(spec.fade_out_seconds * rate), n)
    if fade_in:
        envelope[:fade_in] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(fade_in) / fade_in)
    if fade_out:
        ramp = np.arange(1, fade_out + 1) / fade_out
        envelope[n - fade_out :] *= 0.5 + 0.5 * np.cos(np.pi * ramp)
    return envelope


def _sample_peaks(audio: np.ndarray) -> np.ndarray:
    """Per sample, the largest magnitude of the 4x oversampled signal there (BS.1770 true peak),
    computed as four short polyphase filters rather than one long upsampled signal."""
    peaks = np.abs(audio)
    for phase in _PHASES[1:]:
        interpolated = np.convolve(audio, phase)[_DELAY : _DELAY + len(audio)]
        np.maximum(peaks, np.abs(interpolated), out=peaks)
    return peaks


def _limiter_gain(peaks: np.ndarray, ceiling: float, sample_rate: int) -> np.ndarray:
    """Look-ahead limiter gain: smooth, and never above what any nearby peak allows.

    A moving minimum then a moving average over the same window is, at every sample, at most
    the gain that sample needs, and changes gradually enough not to distort audibly.
    """
    if peaks.max() <= ceiling:
        return np.float32(1.0)
    window = 2 * round(_LIMITER_WINDOW_SECONDS * sample_rate / 2) + 1
    needed = np.minimum(1.0, _LIMITER_MARGIN * ceiling / np.maximum(peaks, 1e-12))
    return uniform_filter1d(minimum_filter1d(needed, window), window)


def _interpolation_phases() -> list[np.ndarray]:
    """Polyphase parts of a 49-tap 4x interpolator (the size BS.1770-4 Annex 2 suggests).

    Output phase k at input sample n is sum_j h[4j + k + 24] x[n - j], j = -6..5: twelve taps
    each. Phase 0 is the samples themselves (the windowed sinc is zero at multiples of 4).
    """
    taps = firwin(4 * 12 + 1, 1.0 / _OVERSAMPLE) * _OVERSAMPLE
    center = 4 * 6
    return [
        np.array([taps[4 * j + k + center] for j in range(-6, 6)], dtype=np.float32)
        for k in range(_OVERSAMPLE)
    ]


_PHASES = _interpolation_phases()
_DELAY = 6  # the first tap of each phase looks 6 samples ahead
