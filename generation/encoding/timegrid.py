"""Seconds -> quarter notes, through tempo changes, so grids follow the music, not the clock.

The grids count quarter notes whatever the time signature. pretty_midi's beats follow the
signature's denominator (an eighth in 3/8, a dotted quarter in 6/8 and 12/8, a half in 3/2), so a
grid of beats would stretch or squeeze those pieces, and a sixteenth note would not land on a step.
A MIDI tempo is quarter notes per minute, so the tempo map alone places every quarter.
"""

import numpy as np
import pretty_midi

DEFAULT_TEMPO = 120.0


def seconds_to_quarters(pm: pretty_midi.PrettyMIDI, times) -> np.ndarray:
    """Quarter notes from the start of the piece at each time (s), through every tempo change;
    times past the last change run on at its tempo."""
    change_times, tempi = pm.get_tempo_changes()
    if not len(change_times):
        change_times, tempi = np.zeros(1), np.array([DEFAULT_TEMPO])
    per_second = np.asarray(tempi, dtype=float) / 60.0
    at_change = np.concatenate([[0.0], np.cumsum(np.diff(change_times) * per_second[:-1])])
    t = np.asarray(times, dtype=float)
    segment = np.clip(np.searchsorted(change_times, t, side="right") - 1, 0, None)
    return at_change[segment] + (t - change_times[segment]) * per_second[segment]
