"""Excerpts of one fixed length, cut at a bar line, so every stimulus of a study lasts as long.

Length is counted on the canonical grid: `bars` bars of `beats_per_bar` beats (one nominal bar
length for all pieces, whatever their own meter, because matched durations matter more than
ending on a bar line), or `seconds`. The start is one of the piece's own bar lines; a bar line
is usable only where music sounds in its first beat, which skips leading silence and rests.
"""

from dataclasses import dataclass

import numpy as np

from audio.canonical import CanonicalPiece

FIRST = "first"
RANDOM = "random"


class ExcerptRefused(ValueError):
    """The piece cannot give an excerpt of the asked length; the message says why."""


@dataclass(frozen=True)
class ExcerptSpec:
    """How long an excerpt is and where it starts: FIRST usable bar, RANDOM (from `seed`), or a
    bar number (0-based, among the piece's bar lines)."""

    bars: int = 8
    beats_per_bar: int = 4
    seconds: float | None = None
    position: str | int = FIRST
    seed: int = 0
    min_sounding_share: float = 0.5

    def __post_init__(self) -> None:
        if self.seconds is None and self.bars < 1:
            raise ValueError(f"an excerpt needs at least one bar, got {self.bars}")
        if self.seconds is not None and self.seconds <= 0:
            raise ValueError(f"an excerpt needs a positive length, got {self.seconds} s")
        if self.beats_per_bar < 1:
            raise ValueError(f"beats_per_bar must be at least 1, got {self.beats_per_bar}")
        if not (self.position in (FIRST, RANDOM) or isinstance(self.position, int)):
            raise ValueError(f"position must be {FIRST!r}, {RANDOM!r} or a bar number")

    def length_steps(self, steps_per_beat: int, tempo: float) -> int:
        if self.seconds is not None:
            return max(1, round(self.seconds * tempo / 60.0 * steps_per_beat))
        return self.bars * self.beats_per_bar * steps_per_beat


@dataclass(frozen=True)
class Excerpt:
    piece: CanonicalPiece
    start_step: int
    length_steps: int
    bar_index: int

    @property
    def roll(self) -> np.ndarray:
        return self.piece.roll[self.start_step : self.start_step + self.length_steps]

    @property
    def seconds(self) -> float:
        return self.length_steps * self.piece.form.step_seconds

    def to_midi(self):
        return self.piece.to_midi(self.start_step, self.start_step + self.length_steps)


def cut_excerpt(piece: CanonicalPiece, spec: ExcerptSpec) -> Excerpt:
    """Choose the start bar and check the excerpt is long enough and not near-silent."""
    form = piece.form
    length = spec.length_steps(form.steps_per_beat, form.tempo)
    sounding = piece.roll.max(axis=(1, 2)) > 0
    if not sounding.any():
        raise ExcerptRefused("the piece has no notes")
    if len(piece.roll) < length:
        raise ExcerptRefused(
            f"the piece is too short: {len(piece.roll) / form.steps_per_beat:g} beats, "
            f"the excerpt needs {length / form.steps_per_beat:g}"
        )
    usable = [
        i
        for i, step in enumerate(piece.bar_steps)
        if step + length <= len(piece.roll) and sounding[step : step + form.steps_per_beat].any()
    ]
    if not usable:
        raise ExcerptRefused(
            f"no bar line leaves {length / form.steps_per_beat:g} beats of music after it"
        )
    bar = _choose_bar(usable, spec)
    start = int(piece.bar_steps[bar])
    share = float(sounding[start : start + length].mean())
    if share < spec.min_sounding_share:
        raise ExcerptRefused(
            f"the excerpt is near-silent: music sounds in {share:.0%} of it, "
            f"at least {spec.min_sounding_share:.0%} is required"
        )
    return Excerpt(piece=piece, start_step=start, length_steps=length, bar_index=bar)


def _choose_bar(usable: list[int], spec: ExcerptSpec) -> int:
    if spec.position == FIRST:
        return usable[0]
    if spec.position == RANDOM:
        return int(np.random.default_rng(spec.seed).choice(usable))
    if spec.position not in usable:
        raise ExcerptRefused(
            f"bar {spec.position} cannot start an excerpt (usable bars: {usable[:8]}"
            f"{'...' if len(usable) > 8 else ''})"
        )
    return int(spec.position)
