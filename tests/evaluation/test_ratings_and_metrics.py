import numpy as np
import pandas as pd
import pretty_midi
import pytest
from scipy import stats

from evaluation import tidy
from evaluation.music_metrics import (
    compare_sets,
    kl_divergence,
    overlap_area,
    piece_features,
    set_profiles,
)
from evaluation.ratings import compare_ratings


def test_ratings_by_judgment_match_scipy(small_study):
    frame = tidy.analysed(tidy.validate(small_study[0]))
    result = compare_ratings(frame, unit="judgment")
    groups = {
        s: g[tidy.MUSICALITY].to_numpy() for s, g in frame.groupby(tidy.SOURCE, observed=True)
    }
    h, p = stats.kruskal(*[groups[s] for s in sorted(groups)])
    assert result.kruskal_h == pytest.approx(h)
    assert result.kruskal_p == pytest.approx(p)
    row = result.pairwise.set_index(["a", "b"]).loc[("human", "lstm")]
    u, pu = stats.mannwhitneyu(groups["human"], groups["lstm"], alternative="two-sided")
    assert row.u == pytest.approx(u) and row.p == pytest.approx(pu)
    assert (result.pairwise.p_holm >= result.pairwise.p).all()
    assert result.descriptives.loc["lstm", "n"] == len(groups["lstm"])


def test_ratings_by_item_average_each_excerpt_first(small_study):
    frame = tidy.analysed(tidy.validate(small_study[0]))
    result = compare_ratings(frame, unit="item")
    means = frame.groupby([tidy.SOURCE, tidy.ITEM], observed=True)[tidy.MUSICALITY].mean()
    h, _ = stats.kruskal(*[means.loc[s].to_numpy() for s in ("human", "lstm", "seq2seq")])
    assert result.kruskal_h == pytest.approx(h)
    assert (result.descriptives["n"] == 16).all()


def test_identical_ratings_give_no_test():
    frame = pd.DataFrame({tidy.SOURCE: ["a", "a", "b", "b"], tidy.MUSICALITY: [3, 3, 3, 3]})
    result = compare_ratings(frame)
    assert np.isnan(result.kruskal_p)
    assert result.pairwise.p.tolist() == [1.0]


def test_unknown_unit_is_refused(small_study):
    with pytest.raises(ValueError, match="unit"):
        compare_ratings(small_study[0], unit="participant")


def midi(notes, tempo=120.0):
    """Piano MIDI from (pitch, start_beat, end_beat)."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    piano = pretty_midi.Instrument(program=0)
    beat = 60.0 / tempo
    piano.notes.extend(pretty_midi.Note(80, p, s * beat, e * beat) for p, s, e in notes)
    pm.instruments.append(piano)
    return pm


def test_features_of_a_c_major_scale():
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    features = piece_features(midi([(p, i, i + 1) for i, p in enumerate(scale)]))
    expected_histogram = np.zeros(12)
    expected_histogram[[0, 2, 4, 5, 7, 9, 11]] = [2, 1, 1, 1, 1, 1, 1]
    np.testing.assert_allclose(features["pitch_class_histogram"], expected_histogram / 8)
    assert features["pitch_range"][0] == 12
    assert features["used_pitches"][0] == 8
    assert features["polyphony"][0] == pytest.approx(1.0)
    assert features["note_density"][0] == pytest.approx(8 / 4.0)  # 8 notes in 4 s at 120 bpm
    assert features["mean_ioi"][0] == pytest.approx(0.5)


def test_polyphony_counts_sounding_notes_and_ignores_rests():
    # A triad for 2 beats, a rest of 2 beats, a single note for 2 beats.
    features = piece_features(midi([(60, 0, 2), (64, 0, 2), (67, 0, 2), (72, 4, 6)]))
    assert features["polyphony"][0] == pytest.approx((3 * 2 + 2) / 4)


def test_a_piece_without_notes_is_refused():
    with pytest.raises(ValueError, match="no pitched notes"):
        piece_features(pretty_midi.PrettyMIDI())


def test_overlap_and_kl_of_same_and_disjoint_samples():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 400)
    y = rng.normal(0, 1, 400)
    far = rng.normal(8, 1, 400)
    assert overlap_area(x, y) > 0.85
    assert kl_divergence(x, y) < 0.1
    assert overlap_area(x, far) < 0.05
    assert kl_divergence(x, far) > 5
    assert overlap_area(x, far) == pytest.approx(overlap_area(far, x))
    assert 0.0 <= overlap_area(np.ones(5), np.ones(5) * 2) <= 1.0


def chorale(rng, leap):
    notes, t = [], 0.0
    pitch = 60
    for _ in range(24):
        pitch = int(np.clip(pitch + rng.integers(-leap, leap + 1), 36, 96))
        notes += [(pitch, t, t + 1), (pitch - 12, t, t + 1)]
        t += 1
    return midi(notes)


def test_generated_set_like_the_humans_overlaps_more_than_a_wild_one():
    rng = np.random.default_rng(1)
    human = [chorale(rng, 2) for _ in range(12)]
    similar = [chorale(rng, 2) for _ in range(12)]
    wild = [chorale(rng, 12) for _ in range(12)]
    close = compare_sets(human, similar)
    far = compare_sets(human, wild)
    assert list(close.index) == [
        "pitch_class_histogram",
        "pitch_range",
        "used_pitches",
        "polyphony",
        "note_density",
        "mean_ioi",
    ]
    assert close.loc["pitch_range", "overlap_area"] > far.loc["pitch_range", "overlap_area"]
    assert close.loc["pitch_range", "kl_divergence"] < far.loc["pitch_range", "kl_divergence"]
    assert far.loc["pitch_range", "generated_mean"] > far.loc["pitch_range", "human_mean"]


def test_comparing_needs_two_human_pieces():
    with pytest.raises(ValueError, match="two human"):
        compare_sets([midi([(60, 0, 1)])], [midi([(60, 0, 1)])])


def _chords(pitches: list[list[int]], beats: float = 1.0) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI(initial_tempo=60)
    piano = pretty_midi.Instrument(0)
    for i, chord in enumerate(pitches):
        piano.notes += [pretty_midi.Note(80, p, i * beats, (i + 1) * beats) for p in chord]
    pm.instruments.append(piano)
    return pm


def test_set_profiles_put_each_model_beside_the_human_excerpts():
    human = [_chords([[60, 64, 67]] * 4), _chords([[62, 65, 69]] * 4)]  # 12 notes in 1 bar
    noise = [_chords([[61]] * 8, beats=0.5)]  # single C#s: 8 notes, one at a time
    profiles = {p.label: p for p in set_profiles(human, {"noise": noise, "none": []}, bars=1)}
    assert list(profiles) == ["human", "noise"]
    assert profiles["human"].notes_per_bar == 12 and profiles["noise"].notes_per_bar == 8
    assert profiles["human"].polyphony == pytest.approx(3.0)
    assert profiles["noise"].polyphony == pytest.approx(1.0)
    assert profiles["human"].pitch_range == 7 and profiles["noise"].pitch_range == 0
    assert profiles["human"].pitch_class_distance == 0.0
    assert profiles["noise"].pitch_class_distance == pytest.approx(1.0)
