"""Canonical form: every piece passes through the models' own representation before it is heard.

A human chorale carries performance cues (expressive timing, velocities, per-voice instruments,
tempo changes) that a model writing a quantised piano roll cannot produce. Listeners would judge
those cues instead of the composition, so both kinds are quantised to one grid and re-sounded
with one tempo, one velocity and one instrument.
"""

from dataclasses import dataclass

import numpy as np
import pretty_midi

from generation.encoding.pianoroll import (
    DEFAULT_STEPS_PER_BEAT,
    DEFAULT_TEMPO,
    DEFAULT_VELOCITY,
    midi_to_roll,
    roll_to_midi,
)
from generation.encoding.timegrid import seconds_to_quarters


@dataclass(frozen=True)
class CanonicalForm:
    """The one grid, tempo, velocity and instrument (General MIDI program) of a study."""

    steps_per_beat: int = DEFAULT_STEPS_PER_BEAT
    tempo: float = DEFAULT_TEMPO
    velocity: int = DEFAULT_VELOCITY
    program: int = 0

    def __post_init__(self) -> None:
        if self.steps_per_beat < 1:
            raise ValueError(f"steps_per_beat must be at least 1, got {self.steps_per_beat}")
        if not 20 <= self.tempo <= 300:
            raise ValueError(f"tempo must lie between 20 and 300 beats a minute, got {self.tempo}")
        if not 1 <= self.velocity <= 127:
            raise ValueError(f"velocity must lie between 1 and 127, got {self.velocity}")
        if not 0 <= self.program <= 127:
            raise ValueError(f"program must lie between 0 and 127, got {self.program}")

    @property
    def step_seconds(self) -> float:
        return 60.0 / self.tempo / self.steps_per_beat


@dataclass(frozen=True)
class CanonicalPiece:
    """A piece on the grid: its roll, and the steps where its bars begin."""

    roll: np.ndarray
    bar_steps: np.ndarray
    form: CanonicalForm

    def to_midi(self, start: int = 0, stop: int | None = None) -> pretty_midi.PrettyMIDI:
        """The steps [start, stop) as MIDI; notes held across `start` sound from its first step."""
        f = self.form
        return roll_to_midi(self.roll[start:stop], f.steps_per_beat, f.tempo, f.velocity, f.program)


def canonicalise(pm: pretty_midi.PrettyMIDI, form: CanonicalForm) -> CanonicalPiece:
    """Quantise to the grid and keep the piece's own bar lines (from its time signatures).

    A file without time signatures, as a model writes, gets pretty_midi's 4/4 bar lines.
    """
    roll = midi_to_roll(pm, form.steps_per_beat)
    downbeats = seconds_to_quarters(pm, pm.get_downbeats()) * form.steps_per_beat
    bar_steps = np.unique(np.rint(downbeats).astype(int))
    return CanonicalPiece(roll=roll, bar_steps=bar_steps[bar_steps < max(len(roll), 1)], form=form)
