"""The Woods et al. (2017) headphone screen, made on the server.

Each trial plays three 200 Hz tones; the listener picks the quietest. One tone is 6 dB softer
(the right answer); one is as loud as the reference but in antiphase between the ears. Over
loudspeakers the antiphase tone partly cancels in the air and sounds quietest, so loudspeaker
listeners tend to pick it; over headphones it does not cancel. Which tone is which is drawn on the
server and never sent to the page.

Woods, Siegel, Traer & McDermott (2017), Headphone screening to facilitate web-based auditory
experiments, Attention, Perception, & Psychophysics 79, 2064-2072.
"""

import functools
import random
from dataclasses import dataclass

import lameenc
import numpy as np

SAMPLE_RATE = 44100
TONE_HZ = 200.0
TONE_SECONDS = 1.0
RAMP_SECONDS = 0.1
GAP_SECONDS = 0.5
LEVEL = 0.35
QUIET_DB = -6.0
PASS_MIN_CORRECT = 5
TRIPLET_SECONDS = 3 * TONE_SECONDS + 2 * GAP_SECONDS  # how long a trial's sound lasts
POSITIONS = (1, 2, 3)


@dataclass(frozen=True)
class Layout:
    """Where the quiet (correct) tone and the antiphase tone fall, 1..3."""

    quiet: int
    antiphase: int


def draw_layouts(seed: int, n_trials: int) -> list[Layout]:
    """Random, distinct positions per trial, reproducible from the participant's seed."""
    rng = random.Random(seed ^ 0xEA5)
    layouts = []
    for _ in range(n_trials):
        quiet, antiphase = rng.sample(POSITIONS, 2)
        layouts.append(Layout(quiet=quiet, antiphase=antiphase))
    return layouts


def _tone(rate: int) -> np.ndarray:
    t = np.arange(int(TONE_SECONDS * rate)) / rate
    tone = np.sin(2 * np.pi * TONE_HZ * t)
    ramp = int(RAMP_SECONDS * rate)
    envelope = np.ones_like(tone)
    envelope[:ramp] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
    envelope[-ramp:] = envelope[:ramp][::-1]
    return LEVEL * tone * envelope


def triplet(layout: Layout, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Stereo float audio (samples x 2) of one trial's three tones separated by gaps."""
    if layout.quiet == layout.antiphase or {layout.quiet, layout.antiphase} - set(POSITIONS):
        raise ValueError(f"quiet and antiphase must be distinct positions 1..3, got {layout}")
    tone = _tone(rate)
    gap = np.zeros((int(GAP_SECONDS * rate), 2))
    parts = []
    for position in POSITIONS:
        left = tone * (10 ** (QUIET_DB / 20) if position == layout.quiet else 1.0)
        right = -left if position == layout.antiphase else left
        parts.extend([np.stack([left, right], axis=1), gap])
    return np.concatenate(parts[:-1])


def encode_stereo_mp3(audio: np.ndarray, rate: int = SAMPLE_RATE, kbps: int = 192) -> bytes:
    """Stereo MP3 with no tags, so it is served like every other sound."""
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(2)
    encoder.set_quality(2)
    return bytes(encoder.encode(pcm.tobytes()) + encoder.flush())


@functools.cache
def layout_mp3(layout: Layout) -> bytes:
    """A layout's sound, made once per process: encoding it takes tens of milliseconds and
    there are only six layouts, each always the same bytes."""
    return encode_stereo_mp3(triplet(layout))


def is_correct(layout: Layout, response: int) -> bool:
    if response not in POSITIONS:
        raise ValueError(f"a response is 1, 2 or 3, got {response!r}")
    return response == layout.quiet


def passed(n_correct: int, min_correct: int = PASS_MIN_CORRECT) -> bool:
    return n_correct >= min_correct
