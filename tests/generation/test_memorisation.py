"""Memorisation: the longest verbatim stretch from the training split and the n-gram share."""

import io

import numpy as np
import pretty_midi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generation.corpora import iter_bundled
from generation.encoding import pianoroll, tokens
from generation.memorisation import (
    TrainingIndex,
    is_memorised,
    roll_transposer,
    token_transposer,
)
from generation.midi_files import midi_bytes, read_midi


def frames(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def test_a_copied_stretch_is_found_with_its_length_in_beats():
    rng = np.random.default_rng(0)
    training = [(rng.random((40, 12)) < 0.3).astype(np.float32) for _ in range(3)]
    fresh = np.full((10, 12), 1.0, dtype=np.float32)  # a frame no training piece has
    generated = np.concatenate([fresh[:3], training[1][5:12], fresh[:4]])
    index = TrainingIndex(training)
    assert index.longest_match(generated) == 7
    score = index.score(generated, steps_per_beat=4, ngram_steps=2)
    assert score.longest_beats == 1.75
    assert score.ngram_share == pytest.approx(6 / 13)


def test_a_stretch_must_lie_inside_one_training_piece():
    a, b = frames([[1, 0], [0, 1]]), frames([[1, 1], [0, 0]])
    index = TrainingIndex([a, b])
    assert index.longest_match(frames([[0, 1], [1, 1]])) == 1  # spans the seam between a and b
    assert index.longest_match(frames([[1, 0], [0, 1]])) == 2


def test_tokens_are_compared_one_index_per_step():
    index = TrainingIndex([np.array([3, 1, 4, 1, 5, 9, 2, 6])])
    assert index.longest_match(np.array([7, 4, 1, 5, 9, 8])) == 4
    assert index.longest_match(np.array([7, 8])) == 0
    assert index.ngram_share(np.array([1, 5, 9, 9]), 2) == pytest.approx(2 / 3)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="empty"):
        TrainingIndex([])
    with pytest.raises(ValueError, match="no 5-grams"):
        TrainingIndex([np.arange(8)]).ngram_share(np.arange(3), 5)


def brute_force_longest(training: list[list[int]], generated: list[int]) -> int:
    best = 0
    for piece in training:
        for i in range(len(generated)):
            for j in range(len(piece)):
                k = 0
                while (
                    i + k < len(generated)
                    and j + k < len(piece)
                    and generated[i + k] == piece[j + k]
                ):
                    k += 1
                best = max(best, k)
    return best


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=15), min_size=1, max_size=4),
    st.lists(st.integers(0, 3), min_size=1, max_size=15),
)
def test_longest_match_agrees_with_brute_force(training, generated):
    index = TrainingIndex([np.array(p) for p in training])
    assert index.longest_match(np.array(generated)) == brute_force_longest(training, generated)


@pytest.fixture(scope="module")
def chorales() -> list[pretty_midi.PrettyMIDI]:
    return [read_midi(s.data) for s in iter_bundled("bach", limit=5)]


def transposed(pm: pretty_midi.PrettyMIDI, semitones: int) -> pretty_midi.PrettyMIDI:
    moved = pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(pm)))
    for instrument in moved.instruments:
        for note in instrument.notes:
            note.pitch += semitones
    return moved


def roll(pm: pretty_midi.PrettyMIDI) -> np.ndarray:
    return pianoroll.flatten(pianoroll.midi_to_roll(pm))


def test_a_training_chorale_up_a_tone_passed_off_as_generated_is_flagged(chorales):
    training, unseen = chorales[:4], chorales[4]
    index = TrainingIndex([roll(pm) for pm in training])
    forged = roll(transposed(training[2], 2))
    plain = index.score(forged, steps_per_beat=4, ngram_steps=16)
    assert not is_memorised(plain.longest_beats, plain.ngram_share)  # an exact match misses it

    score = index.score_in_every_key(forged, 4, 16, roll_transposer())
    assert is_memorised(score.longest_beats, score.ngram_share)
    assert score.transposition == -2
    assert score.longest_steps == len(forged)
    assert score.ngram_share == 1.0

    fresh = index.score_in_every_key(roll(unseen), 4, 16, roll_transposer())
    assert not is_memorised(fresh.longest_beats, fresh.ngram_share)


def test_every_key_within_an_octave_either_way_is_tried(chorales):
    index = TrainingIndex([roll(chorales[0])])
    for semitones in (-11, -7, 5, 11):
        score = index.score_in_every_key(
            roll(transposed(chorales[0], semitones)), 4, 16, roll_transposer()
        )
        assert score.transposition == -semitones


def test_a_token_copy_in_another_key_is_found(chorales):
    sequences = [tokens.midi_to_tokens(pm) for pm in chorales[:4]]
    forged = [tokens.transpose_token(t, 2) for t in sequences[1]]
    vocabulary = tokens.Vocabulary.from_sequences([*sequences, forged])
    index = TrainingIndex([np.array(vocabulary.encode(s)) for s in sequences])
    score = index.score_in_every_key(
        np.array(vocabulary.encode(forged)), 2, 8, token_transposer(vocabulary)
    )
    assert score.transposition == -2
    assert score.longest_steps == len(forged)


def test_frames_moved_off_the_piano_are_dropped():
    frames = np.zeros((1, 176), dtype=np.float32)
    frames[0, [0, 174]] = 1  # lowest key's onset, highest key's onset
    assert pianoroll.transpose_frames(frames, 1)[0].nonzero()[0].tolist() == [2]
    assert pianoroll.transpose_frames(frames, -1)[0].nonzero()[0].tolist() == [172]
