import numpy as np
import pretty_midi
import pytest

from generation.encoding import pianoroll, tokens
from generation.midi_files import midi_bytes, read_midi
from tests.conftest import make_midi


def grid_notes(pm, steps_per_beat=4):
    """(pitch, onset step, duration in steps) of every note, at the piece's own tempo."""
    beat = 60.0 / pm.get_tempo_changes()[1][0]
    return sorted(
        (
            n.pitch,
            round(n.start / beat * steps_per_beat),
            round((n.end - n.start) / beat * steps_per_beat),
        )
        for inst in pm.instruments
        for n in inst.notes
    )


@pytest.mark.parametrize("steps_per_beat", [4, 12])
def test_piano_roll_round_trip_keeps_pitch_onset_and_duration(chorale_like, steps_per_beat):
    roll = pianoroll.midi_to_roll(chorale_like, steps_per_beat)
    decoded = pianoroll.roll_to_midi(roll, steps_per_beat, tempo=90)
    assert grid_notes(decoded, steps_per_beat) == grid_notes(chorale_like, steps_per_beat)


def test_piano_roll_marks_onsets_and_sustains(chorale_like):
    roll = pianoroll.midi_to_roll(chorale_like)
    c5 = 72 - pianoroll.LOWEST_PITCH
    assert roll.shape == (25, 88, 2)
    assert tuple(roll[8, c5]) == (1, 0)  # the note at beat 2 starts
    assert tuple(roll[11, c5]) == (0, 1)  # ... and is held
    assert tuple(roll[12, c5]) == (1, 0)  # the repeated note starts again
    assert tuple(roll[4 * 4 + 2, 76 - 21]) == (0, 0)  # the rest before the last note


def test_roll_survives_a_midi_file_round_trip(chorale_like):
    roll = pianoroll.midi_to_roll(chorale_like)
    reread = read_midi(midi_bytes(pianoroll.roll_to_midi(roll)))
    np.testing.assert_array_equal(pianoroll.midi_to_roll(reread), roll)


def test_orphan_sustain_starts_a_note():
    roll = np.zeros((4, 88, 2), dtype=np.uint8)
    roll[1:3, 39, 1] = 1
    notes = pianoroll.roll_to_midi(roll, tempo=60).instruments[0].notes
    assert [(n.pitch, n.start, n.end) for n in notes] == [(60, 0.25, 0.75)]


def test_flatten_is_key_major_and_inverts():
    roll = np.zeros((2, 88, 2), dtype=np.uint8)
    roll[0, 3, 1] = 1
    flat = pianoroll.flatten(roll)
    assert flat.shape == (2, 176) and flat[0, 7] == 1.0
    np.testing.assert_array_equal(pianoroll.unflatten(flat), roll)


def test_notes_outside_the_piano_are_dropped():
    roll = pianoroll.midi_to_roll(make_midi([(10, 0, 1), (60, 0, 1)]))
    assert roll[:, :, 0].sum() == 1 and roll[0, 60 - 21, 0] == 1


def test_bad_roll_shape_is_refused():
    with pytest.raises(ValueError, match="shape"):
        pianoroll.roll_to_midi(np.zeros((4, 88)))


def test_tokens_follow_the_seed_format(chorale_like):
    seq = tokens.midi_to_tokens(chorale_like)
    assert seq[0] == "0.4.7"  # C major triad in normal order
    assert seq[-1] == "E5"
    assert "E-5" in tokens.midi_to_tokens(make_midi([(75, 0, 1)]))


def test_token_decode_then_encode_is_identity(chorale_like):
    seq = tokens.midi_to_tokens(chorale_like)
    assert tokens.midi_to_tokens(tokens.tokens_to_midi(seq)) == seq


def test_chords_decode_as_the_training_pieces_most_often_voiced_them(chorale_like):
    other = make_midi([(48, 0, 1), (64, 0, 1), (67, 0, 1)])
    voicings = tokens.common_voicings(map(tokens.midi_to_events, [chorale_like, other]))
    assert voicings["0.4.7"] == [48, 64, 67, 72]  # as often as the other's; the first wins
    seq = tokens.midi_to_tokens(chorale_like)
    decoded = tokens.tokens_to_midi(seq, voicings=voicings)
    assert tokens.midi_to_tokens(decoded) == seq  # the round trip still holds
    first = sorted(n.pitch for n in decoded.instruments[0].notes if n.start == 0)
    assert first == voicings[seq[0]]
    assert tokens.token_pitches("2.5.9", voicings) == [62, 65, 69]  # a chord it never had
    # A voicing the piano cannot play (rendering drops its notes) is never chosen.
    off_keyboard = [(18, t, t + 1) for t in (0, 1)] + [
        (p, t, t + 1) for p in (60, 64) for t in (0, 1)
    ]
    low = make_midi(off_keyboard + [(60, 2, 3), (64, 2, 3), (66, 2, 3)])
    assert tokens.common_voicings([tokens.midi_to_events(low)])["0.4.6"] == [60, 64, 66]


def test_each_decoded_event_lasts_until_the_next():
    notes = tokens.tokens_to_midi(["0.4.7", "2.5.9", "C4"], tempo=60).instruments[0].notes
    spans = sorted((n.start, n.end) for n in notes)
    assert spans == [(0.0, 0.5)] * 3 + [(0.5, 1.0)] * 3 + [(1.0, 1.5)]


def test_a_chord_of_one_pitch_class_survives_decode_then_encode():
    octaves = tokens.midi_to_tokens(make_midi([(48, 0, 1), (60, 0, 1), (62, 1, 2)]))
    assert octaves == ["0", "D4"]
    assert tokens.midi_to_tokens(tokens.tokens_to_midi(octaves)) == octaves
    assert tokens.transpose_token("0", 2) == "2"


@pytest.mark.parametrize("signature", [(4, 4), (3, 8), (6, 8), (12, 8), (3, 2)])
def test_the_grid_counts_quarter_notes_whatever_the_time_signature(signature):
    """Eighth notes at 120 quarters a minute, every 0.25 s, are two 16th steps apart in every
    metre; a grid of the signature's beats put them 1.33 steps apart in 6/8 and 4 in 3/8."""
    eighths = make_midi([(60 + i % 2, i / 2, i / 2 + 0.5) for i in range(12)], tempo=120)
    eighths.time_signature_changes.append(pretty_midi.TimeSignature(*signature, 0.0))
    onsets = np.flatnonzero(pianoroll.midi_to_roll(eighths, 4)[:, :, pianoroll.ONSET].any(axis=1))
    assert onsets.tolist() == list(range(0, 24, 2))


def test_single_note_tokens_keep_pitch_and_order():
    melody = make_midi([(60, 0, 1), (62, 1, 2), (63, 2, 3)])
    decoded = tokens.tokens_to_midi(tokens.midi_to_tokens(melody))
    assert [n.pitch for n in decoded.instruments[0].notes] == [60, 62, 63]


def test_vocabulary_round_trip_and_unknown_tokens():
    vocab = tokens.Vocabulary.from_sequences([["C4", "0.4.7"], ["E-5"]])
    assert vocab.decode(vocab.encode(["E-5", "C4"])) == ["E-5", "C4"]
    assert tokens.Vocabulary.from_json(vocab.to_json()).tokens == vocab.tokens
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode(["G9"])
    assert vocab.encode(["G9", "C4"], skip_unknown=True) == [vocab.index["C4"]]


def test_malformed_token_is_refused():
    with pytest.raises(ValueError, match="malformed"):
        tokens.token_pitches("X#")


def reference_spans(key_roll: np.ndarray) -> list[tuple[int, int]]:
    """A step-by-step reading of one key, as a person would decode it."""
    spans, start = [], None
    for t, (onset, held) in enumerate(key_roll):
        if onset or (held and start is None):
            if start is not None:
                spans.append((start, t))
            start = t
        elif not held and start is not None:
            spans.append((start, t))
            start = None
    if start is not None:
        spans.append((start, len(key_roll)))
    return spans


@pytest.mark.parametrize("seed", range(5))
def test_decoding_any_roll_matches_a_step_by_step_reading(seed):
    roll = (np.random.default_rng(seed).random((40, 88, 2)) < 0.2).astype(np.uint8)
    notes = pianoroll.roll_to_midi(roll, steps_per_beat=1, tempo=60).instruments[0].notes
    decoded = sorted((n.pitch - 21, round(n.start), round(n.end)) for n in notes)
    expected = sorted(
        (key, start, stop) for key in range(88) for start, stop in reference_spans(roll[:, key])
    )
    assert decoded == expected
