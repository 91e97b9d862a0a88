"""Attention clips are as long and as loud as the excerpts they hide among."""

import io
import shutil

import numpy as np
import pyloudnorm
import pytest
import soundfile

from audio.codecs import encode_mp3, encode_opus
from audio.excerpt import ExcerptSpec
from audio.pipeline import StimulusSpec
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
def test_clip_files_are_as_big_as_any_excerpt_of_its_length_in_both_formats():
    """Both encoders are constant bit rate: equal lengths must give equal sizes."""
    spec = StimulusSpec(excerpt=ExcerptSpec(bars=4))
    clip = attention_audio(INSTRUCTIONS[1][0], spec)
    other = np.random.default_rng(0).uniform(-0.1, 0.1, spec.n_samples())
    rate = spec.synth.sample_rate
    assert clip.ogg.startswith(b"OggS")
    assert len(clip.ogg) == len(encode_opus(other, rate, spec.encoding))
    assert len(clip.mp3) == len(encode_mp3(other, rate, spec.encoding))


@needs_espeak
def test_an_instruction_too_long_for_the_excerpt_is_refused():
    spec = StimulusSpec(excerpt=ExcerptSpec(bars=1))
    with pytest.raises(ValueError, match="shorten the text"):
        attention_audio(INSTRUCTIONS[0][0], spec)
