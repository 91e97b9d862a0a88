"""The memorisation screen for music made outside the platform (no Django here).

An external generator's training data is not known, so its pieces are compared with every piece
of the corpus it imitates, on one fixed piano-roll grid (a 16th note), in every key within an
octave either way: the same measure, thresholds and transposition rule as the platform's own
batches, which are compared with their run's training split in their run's representation.
"""

from collections.abc import Callable, Sequence

import numpy as np
import pretty_midi

from generation.encoding.pianoroll import DEFAULT_STEPS_PER_BEAT, flatten, midi_to_roll
from generation.memorisation import MemorisationScore, TrainingIndex, roll_transposer

SCREEN_STEPS_PER_BEAT = DEFAULT_STEPS_PER_BEAT
SCREEN_BEATS_PER_BAR = 4


def screening_frames(pm: pretty_midi.PrettyMIDI) -> np.ndarray:
    return flatten(midi_to_roll(pm, SCREEN_STEPS_PER_BEAT))


def screen_against(
    candidates: Sequence[pretty_midi.PrettyMIDI],
    reference: Sequence[pretty_midi.PrettyMIDI],
    on_piece: Callable[[], None] | None = None,
) -> list[MemorisationScore]:
    """Each candidate's worst-case score against the whole reference corpus."""
    index = TrainingIndex([screening_frames(pm) for pm in reference])
    bar = SCREEN_STEPS_PER_BEAT * SCREEN_BEATS_PER_BAR
    scores = []
    for pm in candidates:
        frames = screening_frames(pm)
        ngram = max(1, min(bar, len(frames)))
        scores.append(
            index.score_in_every_key(frames, SCREEN_STEPS_PER_BEAT, ngram, roll_transposer())
        )
        if on_piece:
            on_piece()
    return scores
