"""Memorisation: the longest verbatim stretch from the training split and the n-gram share."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generation.memorisation import TrainingIndex


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
