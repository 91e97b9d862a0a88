import numpy as np
import pytest

from audio.canonical import CanonicalForm, canonicalise
from audio.excerpt import RANDOM, ExcerptRefused, ExcerptSpec, cut_excerpt
from tests.audio.helpers import human_like
from tests.conftest import make_midi

FORM = CanonicalForm(tempo=100.0, velocity=80)


def test_canonical_form_removes_performance_cues():
    piece = canonicalise(human_like(), FORM)
    pm = piece.to_midi()
    assert len(pm.instruments) == 1 and pm.instruments[0].program == 0
    assert {n.velocity for n in pm.instruments[0].notes} == {80}
    assert np.allclose(pm.get_tempo_changes()[1], [100.0])
    step = FORM.step_seconds
    starts = np.array([n.start for n in pm.instruments[0].notes]) / step
    assert np.allclose(starts, np.round(starts))


def test_bar_lines_follow_the_pieces_own_meter():
    piece = canonicalise(human_like(bars=4), FORM)
    assert list(piece.bar_steps[:3]) == [0, 12, 24]  # 3/4 on a 16th grid


def test_excerpt_starts_at_the_first_bar_with_music():
    silent_then_music = make_midi([(60 + i % 5, 8 + i, 9 + i) for i in range(24)])
    excerpt = cut_excerpt(canonicalise(silent_then_music, FORM), ExcerptSpec(bars=2))
    assert excerpt.bar_index == 2 and excerpt.start_step == 32
    assert excerpt.roll.shape == (32, 88, 2)


def test_length_in_seconds_is_counted_on_the_grid():
    spec = ExcerptSpec(seconds=3.0)
    assert spec.length_steps(4, 100.0) == 20  # 3 s at 100 bpm = 5 beats


def test_random_start_is_reproducible_and_on_a_bar_line():
    piece = canonicalise(make_midi([(60 + i % 7, i, i + 1) for i in range(64)]), FORM)
    spec = ExcerptSpec(bars=2, position=RANDOM, seed=3)
    first, again = cut_excerpt(piece, spec), cut_excerpt(piece, spec)
    assert first.start_step == again.start_step
    assert first.start_step in piece.bar_steps


def test_a_chosen_bar_is_used_or_refused():
    piece = canonicalise(make_midi([(60 + i % 7, i, i + 1) for i in range(32)]), FORM)
    assert cut_excerpt(piece, ExcerptSpec(bars=2, position=3)).start_step == 48
    with pytest.raises(ExcerptRefused, match="bar 7 cannot start"):
        cut_excerpt(piece, ExcerptSpec(bars=2, position=7))


def test_too_short_piece_is_refused_with_a_reason():
    piece = canonicalise(make_midi([(60, 0, 4), (62, 4, 6)]), FORM)
    with pytest.raises(ExcerptRefused, match="too short: 6 beats, the excerpt needs 32"):
        cut_excerpt(piece, ExcerptSpec(bars=8))


def test_near_silent_excerpt_is_refused_with_a_reason():
    sparse = make_midi([(60, 0, 0.5), (62, 7.5, 8)])
    with pytest.raises(ExcerptRefused, match="near-silent"):
        cut_excerpt(canonicalise(sparse, FORM), ExcerptSpec(bars=2))


def test_piece_without_notes_is_refused():
    with pytest.raises(ExcerptRefused, match="no notes"):
        cut_excerpt(canonicalise(make_midi([]), FORM), ExcerptSpec(bars=1))
