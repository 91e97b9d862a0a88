"""The 88-key onset/sustain piano roll of the seed's second and third models (after ToneNet).

Each time step holds, for every piano key (MIDI 21..108), a pair: (1,0) the note starts, (0,1) it is
held, (0,0) it is off. The grid is counted in beats, a beat being a quarter note whatever the
time signature (default four steps a beat: 16th notes), so tempo is normalised away; velocity is
too. Notes outside the piano's range are dropped.
"""

import numpy as np
import pretty_midi

from generation.encoding.timegrid import seconds_to_quarters

KEYS = 88
LOWEST_PITCH = 21
HIGHEST_PITCH = LOWEST_PITCH + KEYS - 1
CHANNELS = 2
ONSET, SUSTAIN = 0, 1
DEFAULT_STEPS_PER_BEAT = 4
DEFAULT_TEMPO = 100.0
DEFAULT_VELOCITY = 80


def midi_to_roll(
    pm: pretty_midi.PrettyMIDI, steps_per_beat: int = DEFAULT_STEPS_PER_BEAT
) -> np.ndarray:
    """Quantise every pitched note to the grid: an array of shape (T, 88, 2), dtype uint8."""
    notes = [
        n
        for inst in pm.instruments
        if not inst.is_drum
        for n in inst.notes
        if LOWEST_PITCH <= n.pitch <= HIGHEST_PITCH
    ]
    if not notes:
        return np.zeros((0, KEYS, CHANNELS), dtype=np.uint8)
    starts = seconds_to_quarters(pm, np.array([n.start for n in notes]))
    ends = seconds_to_quarters(pm, np.array([n.end for n in notes]))
    on = np.rint(starts * steps_per_beat).astype(int)
    off = np.maximum(np.rint(ends * steps_per_beat).astype(int), on + 1)
    roll = np.zeros((int(off.max()), KEYS, CHANNELS), dtype=np.uint8)
    for note, first, stop in sorted(zip(notes, on, off, strict=True), key=lambda x: x[1]):
        key = note.pitch - LOWEST_PITCH
        roll[first + 1 : stop, key, SUSTAIN] = 1
        roll[first, key] = (1, 0)
    return roll


def roll_to_midi(
    roll: np.ndarray,
    steps_per_beat: int = DEFAULT_STEPS_PER_BEAT,
    tempo: float = DEFAULT_TEMPO,
    velocity: int = DEFAULT_VELOCITY,
    program: int = 0,
) -> pretty_midi.PrettyMIDI:
    """Decode a (T, 88, 2) roll; a held step with nothing before it starts a note, as models do."""
    _check_roll(roll)
    step = 60.0 / tempo / steps_per_beat
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    instrument = pretty_midi.Instrument(program=program)
    keys, starts, stops = _note_spans(roll)
    for key, first, stop in zip(keys.tolist(), starts.tolist(), stops.tolist(), strict=True):
        instrument.notes.append(
            pretty_midi.Note(velocity, LOWEST_PITCH + key, first * step, stop * step)
        )
    instrument.notes.sort(key=lambda n: (n.start, n.pitch))
    pm.instruments.append(instrument)
    return pm


def _note_spans(roll: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(key, first step, stop step) of every note, found for all keys at once.

    A note starts at an onset, or at a held step after silence; it lasts until the next start
    or the first step that is neither onset nor held. Each key's row gets a final boundary so a
    search for the next boundary never runs into the next key.
    """
    onset = roll[:, :, ONSET].T.astype(bool)
    held = roll[:, :, SUSTAIN].T.astype(bool)
    sounding = onset | held
    after_sound = np.zeros_like(sounding)
    after_sound[:, 1:] = sounding[:, :-1]
    starts = onset | (held & ~after_sound)
    boundaries = np.concatenate([starts | ~sounding, np.ones((KEYS, 1), dtype=bool)], axis=1)
    width = boundaries.shape[1]
    keys, firsts = np.nonzero(starts)
    flat_boundaries = np.flatnonzero(boundaries)
    flat_starts = keys * width + firsts
    stops = flat_boundaries[np.searchsorted(flat_boundaries, flat_starts, side="right")]
    return keys, firsts, stops - keys * width


def flatten(roll: np.ndarray) -> np.ndarray:
    """(T, 88, 2) -> (T, 176) float32, key-major (feature key*2 + channel), as networks read it."""
    _check_roll(roll)
    return roll.reshape(len(roll), KEYS * CHANNELS).astype(np.float32)


def unflatten(frames: np.ndarray) -> np.ndarray:
    """(T, 176) of 0/1 values -> (T, 88, 2) uint8."""
    if frames.ndim != 2 or frames.shape[1] != KEYS * CHANNELS:
        raise ValueError(f"expected frames of shape (T, {KEYS * CHANNELS}), got {frames.shape}")
    return (frames > 0.5).astype(np.uint8).reshape(len(frames), KEYS, CHANNELS)


def transpose_frames(frames: np.ndarray, semitones: int) -> np.ndarray:
    """(T, 176) key-major frames moved `semitones` up (down when negative); notes pushed off
    the piano are dropped, as midi_to_roll drops notes outside it."""
    if frames.ndim != 2 or frames.shape[1] != KEYS * CHANNELS:
        raise ValueError(f"expected frames of shape (T, {KEYS * CHANNELS}), got {frames.shape}")
    keyed = frames.reshape(len(frames), KEYS, CHANNELS)
    moved = np.zeros_like(keyed)
    if semitones >= 0:
        moved[:, semitones:] = keyed[:, : KEYS - semitones]
    else:
        moved[:, :semitones] = keyed[:, -semitones:]
    return moved.reshape(frames.shape)


def sounding(roll: np.ndarray) -> np.ndarray:
    """(T, 88) binary: which keys sound at each step, onset or held (the JSB benchmark's view)."""
    _check_roll(roll)
    return roll.max(axis=2)


def _check_roll(roll: np.ndarray) -> None:
    if roll.ndim != 3 or roll.shape[1:] != (KEYS, CHANNELS):
        raise ValueError(f"expected a roll of shape (T, {KEYS}, {CHANNELS}), got {roll.shape}")
