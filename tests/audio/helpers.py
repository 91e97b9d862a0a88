"""Pieces and read-back helpers shared by the audio tests."""

import io

import av
import numpy as np
import pretty_midi

from audio.canonical import CanonicalForm
from audio.excerpt import ExcerptSpec
from audio.pipeline import StimulusSpec
from generation.encoding.pianoroll import LOWEST_PITCH, roll_to_midi

SHORT = StimulusSpec(excerpt=ExcerptSpec(bars=2), release_seconds=0.5)


def human_like(bars: int = 6, seed: int = 0) -> pretty_midi.PrettyMIDI:
    """Four voices as a person might play them: uneven velocities and timing, several
    instruments, a tempo of its own and a 3/4 meter."""
    rng = np.random.default_rng(seed)
    pm = pretty_midi.PrettyMIDI(initial_tempo=72.0)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0.0))
    beat = 60.0 / 72.0
    for program, base in [(0, 72), (40, 65), (42, 57), (32, 45)]:
        voice = pretty_midi.Instrument(program=program)
        for b in range(bars * 3):
            jitter = rng.normal(0, 0.02)
            pitch = base + int(rng.integers(-3, 4))
            start = b * beat + jitter
            voice.notes.append(
                pretty_midi.Note(int(rng.integers(50, 110)), pitch, max(start, 0), start + beat)
            )
        pm.instruments.append(voice)
    return pm


def machine_like(steps: int = 160, seed: int = 1, form: CanonicalForm = SHORT.form):
    """A piece as a roll model writes it: a (T, 88, 2) roll decoded on the canonical grid."""
    rng = np.random.default_rng(seed)
    roll = np.zeros((steps, 88, 2), dtype=np.uint8)
    for voice_base in (48, 60, 67, 74):
        t = 0
        while t < steps:
            length = int(rng.choice([2, 4, 8]))
            key = voice_base + int(rng.integers(-4, 5)) - LOWEST_PITCH
            roll[t, key, 0] = 1
            roll[t + 1 : t + length, key, 1] = 1
            t += length
    return roll_to_midi(roll, form.steps_per_beat, tempo=form.tempo)


def decode(data: bytes) -> tuple[np.ndarray, int, str]:
    """All samples of an encoded file (mono float), its sample rate and codec name."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        codec = stream.codec_context.name
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        rate = stream.codec_context.sample_rate
    return np.concatenate(frames).astype(np.float32), rate, codec


def container_tags(data: bytes) -> dict:
    """Every tag FFmpeg (what browsers and ffprobe use) finds, in the file and its stream."""
    with av.open(io.BytesIO(data)) as container:
        return dict(container.metadata) | dict(container.streams.audio[0].metadata)
