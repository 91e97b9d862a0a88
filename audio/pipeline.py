"""Piece MIDI -> finished stimulus files and the facts about them, one path for human and machine.

Everything that shapes a stimulus is in StimulusSpec; a study uses one spec for all its excerpts,
so human and machine excerpts differ in the notes alone. Every stimulus of a spec has the same
number of samples (excerpt length + release tail), the same sample rate, codecs and bit rates,
hence byte-for-byte the same file sizes, and the same loudness.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field

import pretty_midi

from audio.canonical import CanonicalForm, canonicalise
from audio.codecs import EncodingSpec, encode_mp3, encode_opus, to_pcm16
from audio.excerpt import Excerpt, ExcerptSpec, cut_excerpt
from audio.finishing import FinishSpec, finish
from audio.rollimage import roll_png
from audio.synth import SynthSettings, render
from generation.midi_files import read_midi


@dataclass(frozen=True)
class StimulusSpec:
    """All parameters of a stimulus. `release_seconds` of audio follow the last step, so notes
    held to the cut end in their natural release under the fade rather than in silence."""

    form: CanonicalForm = field(default_factory=CanonicalForm)
    excerpt: ExcerptSpec = field(default_factory=ExcerptSpec)
    synth: SynthSettings = field(default_factory=SynthSettings)
    finish: FinishSpec = field(default_factory=FinishSpec)
    encoding: EncodingSpec = field(default_factory=EncodingSpec)
    release_seconds: float = 1.0

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "StimulusSpec":
        """A spec from (possibly partial) JSON parameters; unknown names are an error."""
        data = dict(data or {})
        parts = {
            "form": CanonicalForm,
            "excerpt": ExcerptSpec,
            "synth": SynthSettings,
            "finish": FinishSpec,
            "encoding": EncodingSpec,
        }
        unknown = set(data) - set(parts) - {"release_seconds"}
        if unknown:
            raise ValueError(f"unknown stimulus parameters: {', '.join(sorted(unknown))}")
        kwargs = {name: part(**data.get(name, {})) for name, part in parts.items()}
        return cls(**kwargs, release_seconds=float(data.get("release_seconds", 1.0)))

    def fingerprint(self) -> str:
        """Identity of the settings, to recognise a stimulus already made with them."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def n_samples(self) -> int:
        f = self.form
        steps = self.excerpt.length_steps(f.steps_per_beat, f.tempo)
        seconds = steps * f.step_seconds + self.release_seconds
        return round(seconds * self.synth.sample_rate)


@dataclass(frozen=True)
class StimulusFacts:
    start_bar: int
    start_step: int
    length_steps: int
    n_notes: int
    sample_rate: int
    n_samples: int
    duration_seconds: float
    loudness_lufs: float
    true_peak_dbtp: float
    gain_db: float
    limiter_reduction_db: float


@dataclass(frozen=True)
class RenderedStimulus:
    mp3: bytes
    ogg: bytes
    roll_png: bytes | None
    facts: StimulusFacts


def excerpt_of(midi: bytes | pretty_midi.PrettyMIDI, spec: StimulusSpec) -> Excerpt:
    """The excerpt a piece gives under spec: canonicalised and cut at its bar line, exactly the
    notes a stimulus renders (so what is measured of excerpts is what listeners hear)."""
    pm = read_midi(midi) if isinstance(midi, bytes) else midi
    return cut_excerpt(canonicalise(pm, spec.form), spec.excerpt)


def prepare_stimulus(
    midi: bytes | pretty_midi.PrettyMIDI,
    spec: StimulusSpec,
    soundfont: str,
    draw_roll: bool = True,
) -> RenderedStimulus:
    """Canonicalise, cut, render, finish and encode one piece.

    Raises MidiError for an unreadable file and ExcerptRefused when the piece cannot give an
    excerpt (too short, near-silent); both say why.
    """
    excerpt = excerpt_of(midi, spec)
    rate = spec.synth.sample_rate
    n_samples = spec.n_samples()
    notes = excerpt.to_midi()
    audio, finished = finish(
        render(notes, n_samples, soundfont, spec.synth), rate, n_samples, spec.finish
    )
    image = None
    if draw_roll:
        image = roll_png(excerpt.roll, spec.form.steps_per_beat, spec.excerpt.beats_per_bar)
    facts = StimulusFacts(
        start_bar=excerpt.bar_index,
        start_step=excerpt.start_step,
        length_steps=excerpt.length_steps,
        n_notes=sum(len(i.notes) for i in notes.instruments),
        sample_rate=rate,
        n_samples=len(audio),
        duration_seconds=len(audio) / rate,
        **asdict(finished),
    )
    pcm = to_pcm16(audio)
    return RenderedStimulus(
        mp3=encode_mp3(pcm, rate, spec.encoding),
        ogg=encode_opus(pcm, rate, spec.encoding),
        roll_png=image,
        facts=facts,
    )
