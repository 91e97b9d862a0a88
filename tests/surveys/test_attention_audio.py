"""Attention clips are as long and as loud as the excerpts they hide among."""

import io
import shutil

import numpy as np
import pyloudnorm
import pytest
import soundfile

from generation.audio.excerpt import ExcerptSpec
from generation.audio.pipeline import StimulusSpec
from surveys.attention import INSTRUCTIONS, attention_audio

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="needs the Debian package espeak-ng"
)


@needs_espeak
def test_clip_matches_the_excerpt_length_and_loudness():
    spec = StimulusSpec(excerpt=ExcerptSpec(bars=4))
    clip = attention_audio(INSTRUCTIONS[0][0], spec)
    assert clip.duration_seconds == pytest.approx(spec.n_samples() / spec.synth.sample_rate)
    assert clip.loudness_lufs == pytest.approx(spec.finish.target_lufs, abs=0.1)
    assert not clip.mp3.startswith(b"ID3")
    audio, rate = soundfile.read(io.BytesIO(clip.mp3))
    measured = pyloudnorm.Meter(rate).integrated_loudness(np.asarray(audio))
    assert measured == pytest.approx(spec.finish.target_lufs, abs=1.0)


@needs_espeak
def test_an_instruction_too_long_for_the_excerpt_is_refused():
    spec = StimulusSpec(excerpt=ExcerptSpec(bars=1))
    with pytest.raises(ValueError, match="shorten the text"):
        attention_audio(INSTRUCTIONS[0][0], spec)
