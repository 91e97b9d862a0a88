"""The note/chord text tokens of the seed's first model (after Skuldur's Classical-Piano-Composer).

One token per onset: a single note is its pitch name with octave as music21 spells it ("E-5"), a
chord is its normal order, dot-joined pitch classes ("4.7.11"). Like the seed, the encoding keeps
no rhythm and no chord octaves: decoding places one event every `step_beats` (a beat is a quarter
note). A chord sounds as the training split most often voiced it (`common_voicings`, kept with
the run), or, for a chord that split never had, packed above middle C as the seed's decoding did,
a chord of one pitch class as an octave. Either way it keeps its pitch classes, so
decode-then-encode is the identity on token sequences, which is the round trip this
representation can promise.
"""

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import pretty_midi
from music21 import chord, pitch

from generation.encoding.pianoroll import HIGHEST_PITCH, LOWEST_PITCH
from generation.encoding.timegrid import seconds_to_quarters

CHORD_SEPARATOR = "."
DEFAULT_STEP_BEATS = 0.5
CHORD_BASE_PITCH = 60
ONSET_RESOLUTION_BEATS = 1 / 48


@lru_cache(maxsize=128)
def pitch_name(midi_number: int) -> str:
    return pitch.Pitch(midi=midi_number).nameWithOctave


@lru_cache(maxsize=4096)
def chord_token(midi_numbers: tuple[int, ...]) -> str:
    return CHORD_SEPARATOR.join(str(pc) for pc in chord.Chord(list(midi_numbers)).normalOrder)


def midi_to_tokens(pm: pretty_midi.PrettyMIDI) -> list[str]:
    """Tokens for every onset of pitched notes, in time order."""
    return [token for token, _ in midi_to_events(pm)]


def midi_to_events(pm: pretty_midi.PrettyMIDI) -> list[tuple[str, tuple[int, ...]]]:
    """(token, the pitches it stood for) for every onset of pitched notes, in time order."""
    notes = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
    if not notes:
        return []
    quarters = seconds_to_quarters(pm, [n.start for n in notes])
    onsets: dict[int, set[int]] = {}
    for note, quarter in zip(notes, quarters, strict=True):
        onsets.setdefault(round(quarter / ONSET_RESOLUTION_BEATS), set()).add(note.pitch)
    events = []
    for key in sorted(onsets):
        pitches = tuple(sorted(onsets[key]))
        token = pitch_name(pitches[0]) if len(pitches) == 1 else chord_token(pitches)
        events.append((token, pitches))
    return events


def common_voicings(
    pieces: Iterable[Sequence[tuple[str, tuple[int, ...]]]],
) -> dict[str, list[int]]:
    """For each chord token, the pitches it most often stood for in these pieces' events
    (midi_to_events; the first of equally common ones), among voicings the piano can play
    (excerpts are rendered from the 88-key roll). Decoding from these sounds a chord in the
    corpus's registers, bass and all, rather than packed into the octave above middle C, where
    no chorale sets its chords."""
    counts: dict[str, Counter] = {}
    for events in pieces:
        for token, pitches in events:
            if is_chord(token) and all(LOWEST_PITCH <= p <= HIGHEST_PITCH for p in pitches):
                counts.setdefault(token, Counter())[pitches] += 1
    return {token: list(counts[token].most_common(1)[0][0]) for token in sorted(counts)}


def is_chord(token: str) -> bool:
    return CHORD_SEPARATOR in token or token.isdigit()


def token_pitches(token: str, voicings: Mapping[str, Sequence[int]] | None = None) -> list[int]:
    """MIDI numbers a token sounds: a named pitch, or a chord as `voicings` voice it, else its
    pitch classes above middle C.

    A chord of one pitch class (notes an octave or more apart) sounds as an octave, so that it
    reads back as the same token rather than as a single note."""
    if voicings and token in voicings:
        return list(voicings[token])
    if is_chord(token):
        try:
            classes = [int(pc) for pc in token.split(CHORD_SEPARATOR)]
        except ValueError:
            raise ValueError(f"malformed chord token {token!r}") from None
        pitches = [CHORD_BASE_PITCH + pc % 12 for pc in classes]
        return pitches + [pitches[0] + 12] if len(pitches) == 1 else pitches
    try:
        return [int(pitch.Pitch(token).midi)]
    except Exception:
        raise ValueError(f"malformed note token {token!r}") from None


def transpose_token(token: str, semitones: int) -> str:
    """The token `semitones` higher: a note keeps its octave arithmetic, a chord its classes."""
    pitches = tuple(sorted(p + semitones for p in token_pitches(token)))
    if is_chord(token):
        return chord_token(pitches)
    return pitch_name(pitches[0])


def tokens_to_midi(
    tokens: Sequence[str],
    step_beats: float = DEFAULT_STEP_BEATS,
    note_beats: float | None = None,
    tempo: float = 100.0,
    velocity: int = 80,
    program: int = 0,
    voicings: Mapping[str, Sequence[int]] | None = None,
) -> pretty_midi.PrettyMIDI:
    """Each event's notes last `note_beats`, by default until the next event. (The seed held
    every note a quarter with events an eighth apart, so each chord sounded over half of the
    next: with chords voiced in their registers, eight voices at once.)"""
    note_beats = step_beats if note_beats is None else note_beats
    beat = 60.0 / tempo
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    instrument = pretty_midi.Instrument(program=program)
    for index, token in enumerate(tokens):
        start = index * step_beats * beat
        for number in token_pitches(token, voicings):
            instrument.notes.append(
                pretty_midi.Note(velocity, number, start, start + note_beats * beat)
            )
    pm.instruments.append(instrument)
    return pm


class Vocabulary:
    """Token <-> index, built from the training split only so valid/test stay unseen."""

    def __init__(self, tokens: Iterable[str]):
        self.tokens: list[str] = sorted(set(tokens))
        self.index = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def from_sequences(cls, sequences: Iterable[Sequence[str]]) -> "Vocabulary":
        return cls(token for sequence in sequences for token in sequence)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def encode(self, tokens: Sequence[str], skip_unknown: bool = False) -> list[int]:
        """Indices of tokens; unknown ones are an error unless the caller chose to drop them."""
        unknown = sorted({t for t in tokens if t not in self.index})
        if unknown and not skip_unknown:
            shown = ", ".join(unknown[:5])
            raise ValueError(f"{len(unknown)} token(s) not in the vocabulary: {shown}")
        return [self.index[t] for t in tokens if t in self.index]

    def decode(self, indices: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in indices]

    def to_json(self) -> str:
        return json.dumps(self.tokens)

    @classmethod
    def from_json(cls, text: str) -> "Vocabulary":
        return cls(json.loads(text))
