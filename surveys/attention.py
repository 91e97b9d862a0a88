"""Attention-check clips: a voice asks for a given answer, finished exactly like the excerpts.

The speech is laid into a clip of the study's excerpt length and goes through the stimulus
pipeline's own finishing (fades, BS.1770 loudness, peak ceiling) and MP3 and Ogg/Opus encoding,
so its duration, loudness, codecs and file sizes match every excerpt's and only its content
differs.
Speech comes from espeak-ng (Debian package espeak-ng).
"""

import io
import shutil
import subprocess
from dataclasses import dataclass
from math import gcd

import numpy as np
import soundfile
from scipy.signal import resample_poly

from audio.codecs import encode_mp3, encode_opus, to_pcm16
from audio.finishing import finish
from audio.pipeline import StimulusSpec

LEAD_IN_SECONDS = 0.5
SPEECH_WORDS_PER_MINUTE = 140

INSTRUCTIONS: tuple[tuple[str, bool], ...] = (
    ("This is a check that you are listening. Please answer: a person. Thank you.", True),
    ("This is a check that you are listening. Please answer: a computer. Thank you.", False),
)

# Pair design: the same clip plays as excerpt A and as excerpt B; it asks for one of the two.
# Short, so that it fits excerpts of two bars.
PAIR_INSTRUCTIONS: tuple[tuple[str, str], ...] = (
    ("Listening check. Please choose excerpt A.", "a"),
    ("Listening check. Please choose excerpt B.", "b"),
)


class SpeechUnavailable(RuntimeError):
    """espeak-ng is not installed; the message says how to install it."""


@dataclass(frozen=True)
class AttentionAudio:
    mp3: bytes
    ogg: bytes
    duration_seconds: float
    loudness_lufs: float


def speak(text: str, sample_rate: int) -> np.ndarray:
    """Mono float speech at sample_rate."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise SpeechUnavailable("attention clips need espeak-ng: apt-get install espeak-ng")
    wav = subprocess.run(
        [program, "-v", "en-us", "-s", str(SPEECH_WORDS_PER_MINUTE), "--stdout", text],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    audio, rate = soundfile.read(io.BytesIO(wav), dtype="float64", always_2d=True)
    mono = audio.mean(axis=1)
    divisor = gcd(sample_rate, rate)
    return resample_poly(mono, sample_rate // divisor, rate // divisor)


def attention_audio(text: str, spec: StimulusSpec) -> AttentionAudio:
    """The spoken instruction as a clip of exactly the spec's excerpt length, finished alike."""
    rate = spec.synth.sample_rate
    n_samples = spec.n_samples()
    speech = speak(text, rate)
    start = round(LEAD_IN_SECONDS * rate)
    usable = n_samples - start - round(spec.finish.fade_out_seconds * rate)
    if len(speech) > usable:
        raise ValueError(
            f"the instruction lasts {len(speech) / rate:.1f} s but the excerpts leave "
            f"{usable / rate:.1f} s for it; shorten the text or lengthen the excerpts"
        )
    clip = np.zeros(n_samples)
    clip[start : start + len(speech)] = speech
    audio, facts = finish(clip, rate, n_samples, spec.finish)
    pcm = to_pcm16(audio)
    return AttentionAudio(
        mp3=encode_mp3(pcm, rate, spec.encoding),
        ogg=encode_opus(pcm, rate, spec.encoding),
        duration_seconds=len(audio) / rate,
        loudness_lufs=facts.loudness_lufs,
    )
