"""The issue's checks: a human and a machine excerpt are indistinguishable in all but the notes."""

import io

import mutagen
import pyloudnorm
import pytest
from django.conf import settings

from audio.excerpt import ExcerptRefused
from audio.pipeline import StimulusSpec, prepare_stimulus
from generation.midi_files import MidiError, midi_bytes
from tests.audio.helpers import SHORT, container_tags, decode, human_like, machine_like


@pytest.fixture(scope="module")
def pair():
    human = prepare_stimulus(midi_bytes(human_like()), SHORT, str(settings.SOUNDFONT))
    machine = prepare_stimulus(midi_bytes(machine_like()), SHORT, str(settings.SOUNDFONT))
    return human, machine


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_human_and_machine_match_in_length_rate_codec_and_size(pair, fmt):
    (h, h_rate, h_codec), (m, m_rate, m_codec) = (decode(getattr(s, fmt)) for s in pair)
    assert len(h) == len(m)  # to the sample
    assert h_rate == m_rate == 48000
    assert h_codec == m_codec
    assert h_codec in {"mp3": {"mp3", "mp3float"}, "ogg": {"opus", "libopus"}}[fmt]
    assert len(getattr(pair[0], fmt)) == len(getattr(pair[1], fmt))  # constant bit rate


def test_finished_audio_has_the_specs_exact_length(pair):
    for stimulus in pair:
        assert stimulus.facts.n_samples == SHORT.n_samples() == round((4.8 + 0.5) * 48000)


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_loudness_of_the_heard_files_is_within_half_a_unit(pair, fmt):
    meter = pyloudnorm.Meter(48000)
    loudness = [meter.integrated_loudness(decode(getattr(s, fmt))[0]) for s in pair]
    assert abs(loudness[0] - loudness[1]) < 0.5
    # MP3 at 128 kbit/s reads about 0.4 LU low, for every source alike; Opus keeps the target.
    assert all(abs(value - SHORT.finish.target_lufs) < 0.6 for value in loudness)


def test_finished_pcm_is_at_the_target_loudness(pair):
    for stimulus in pair:
        assert abs(stimulus.facts.loudness_lufs - SHORT.finish.target_lufs) <= 0.05


def test_true_peak_stays_under_the_ceiling(pair):
    for stimulus in pair:
        assert stimulus.facts.true_peak_dbtp <= SHORT.finish.ceiling_dbtp + 0.05


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_files_carry_no_tags(pair, fmt):
    for stimulus in pair:
        data = getattr(stimulus, fmt)
        assert container_tags(data) == {}
        tags = mutagen.File(io.BytesIO(data)).tags
        assert not tags  # no ID3 frames, no Vorbis comments
        assert b"Xing" not in data[:4096] and b"Info" not in data[:4096] and b"Lavf" not in data


def test_piano_roll_picture_is_a_png(pair):
    assert pair[0].roll_png.startswith(b"\x89PNG")


def test_corrupt_midi_is_a_clear_error():
    with pytest.raises(MidiError, match="not a readable MIDI file"):
        prepare_stimulus(b"MThd\x00\x00garbage", SHORT, str(settings.SOUNDFONT))


def test_too_short_piece_is_refused_before_rendering():
    with pytest.raises(ExcerptRefused, match="too short"):
        prepare_stimulus(machine_like(steps=16), SHORT, str(settings.SOUNDFONT))


def test_spec_round_trips_through_json_parameters_and_rejects_unknown_names():
    assert StimulusSpec.from_dict(SHORT.as_dict()) == SHORT
    assert StimulusSpec.from_dict({"excerpt": {"bars": 2}, "release_seconds": 0.5}) == SHORT
    with pytest.raises(ValueError, match="unknown stimulus parameters: colour"):
        StimulusSpec.from_dict({"colour": "red"})
