"""A whole piece as MP3 for a researcher to listen to (no Django).

Unlike a stimulus, a preview keeps the piece as it is (no canonical form, no excerpt): the
researcher hears what the corpus or the model actually holds. It reuses the stimulus path's
synthesizer, loudness finishing and encoder, so it sounds like the study will.
"""

import pretty_midi

from audio.codecs import EncodingSpec, encode_mp3
from audio.finishing import FinishSpec, finish
from audio.synth import SynthSettings, render

PREVIEW_MAX_SECONDS = 90.0
RELEASE_SECONDS = 1.0


def preview_mp3(
    pm: pretty_midi.PrettyMIDI, soundfont: str, max_seconds: float = PREVIEW_MAX_SECONDS
) -> bytes:
    synth = SynthSettings()
    seconds = min(pm.get_end_time() + RELEASE_SECONDS, max_seconds)
    n_samples = max(1, round(seconds * synth.sample_rate))
    audio = render(pm, n_samples, soundfont, synth)
    finished, _ = finish(audio, synth.sample_rate, n_samples, FinishSpec())
    return encode_mp3(finished, synth.sample_rate, EncodingSpec())
