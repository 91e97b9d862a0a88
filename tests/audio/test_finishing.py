"""Finishing's shortcuts give what the plain computations give: pyloudnorm's loudness, the full
polyphase true peak, the limiter run over the whole signal."""

import numpy as np
import pyloudnorm
import pytest
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from audio.finishing import FinishSpec, _limiter_gain, finish
from audio.loudness import block_powers, gated_loudness
from audio.truepeak import _PHASES, true_peaks

RATE = 48000


def tone_bursts(seconds: float = 3.0, quiet_db: float = -40.0, seed: int = 0) -> np.ndarray:
    """Loud decaying notes separated by a quiet stretch, so both gates have work to do."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    audio = np.zeros_like(t)
    for start in np.arange(0.0, seconds, 0.5):
        on = t >= start
        pitch = rng.uniform(100, 2000)
        audio[on] += np.sin(2 * np.pi * pitch * t[on]) * np.exp(-6 * (t[on] - start))
    audio[(t > 1.2) & (t < 2.0)] *= 10 ** (quiet_db / 20)
    return (0.3 * audio).astype(np.float32)


@pytest.mark.parametrize("gain_db", [0.0, 12.0, -30.0, -45.0, -60.0])
def test_loudness_at_any_uniform_gain_is_pyloudnorms(gain_db):
    audio = tone_bursts()
    scaled = audio * np.float32(10 ** (gain_db / 20))
    expected = pyloudnorm.Meter(RATE).integrated_loudness(scaled)
    assert gated_loudness(block_powers(audio, RATE), gain_db) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("n", [19200, 19201, 30001, 44100 * 2 + 7])
def test_block_bounds_follow_pyloudnorm_at_any_length(n):
    audio = tone_bursts()[:n]
    expected = pyloudnorm.Meter(RATE).integrated_loudness(audio)
    assert gated_loudness(block_powers(audio, RATE)) == pytest.approx(expected, abs=1e-4)


def test_audio_shorter_than_a_block_is_a_clear_error():
    with pytest.raises(ValueError, match="shorter than one 0.4 s loudness block"):
        block_powers(np.zeros(1000, dtype=np.float32), RATE)


def test_true_peaks_match_the_full_polyphase_convolution():
    audio = np.random.default_rng(1).standard_normal(70000).astype(np.float32)
    expected = np.abs(audio)
    for phase in _PHASES[1:]:
        expected = np.maximum(expected, np.abs(np.convolve(audio, phase)[6 : 6 + len(audio)]))
    np.testing.assert_allclose(true_peaks(audio), expected, rtol=1e-5, atol=1e-6)


def test_limiter_filtered_in_stretches_equals_the_whole_signal_filtered():
    peaks = true_peaks(tone_bursts())
    level, ceiling = 4.0, 10 ** (-1 / 20)
    window = 241
    needed = np.minimum(1.0, 0.98 * ceiling / level / np.maximum(peaks, 1e-12))
    expected = uniform_filter1d(minimum_filter1d(needed, window), window)
    gain = _limiter_gain(peaks, level, ceiling, RATE)
    assert gain is not None and (gain < 1).any()
    np.testing.assert_allclose(gain, expected, atol=1e-6)
    assert _limiter_gain(peaks, 0.5, ceiling, RATE) is None


@pytest.mark.parametrize("scale", [1.0, 3.0, 0.01])
def test_finished_audio_measures_as_reported(scale):
    spec = FinishSpec()
    audio = tone_bursts() * np.float32(scale)
    finished, facts = finish(audio, RATE, len(audio), spec)
    measured = pyloudnorm.Meter(RATE).integrated_loudness(finished)
    assert measured == pytest.approx(facts.loudness_lufs, abs=1e-3)
    assert abs(measured - spec.target_lufs) <= 0.05
    assert facts.true_peak_dbtp <= spec.ceiling_dbtp + 0.05
