"""Seconds <-> beats for MIDI whose tempo may change, so grids follow the music, not the clock."""

import numpy as np
import pretty_midi


def beat_times(pm: pretty_midi.PrettyMIDI) -> np.ndarray:
    """Times (s) of every beat, extended far past the end so late notes still map to beats."""
    beats = pm.get_beats()
    if len(beats) < 2:
        tempo = pm.get_tempo_changes()[1]
        period = 60.0 / (tempo[0] if len(tempo) else 120.0)
        beats = np.array([0.0, period])
    period = beats[-1] - beats[-2]
    end = max(pm.get_end_time(), beats[-1]) + 2 * period
    tail = np.arange(beats[-1] + period, end + period, period)
    return np.concatenate([beats, tail])


def seconds_to_beats(pm: pretty_midi.PrettyMIDI, times: np.ndarray) -> np.ndarray:
    beats = beat_times(pm)
    return np.interp(times, beats, np.arange(len(beats), dtype=float))
