"""A piano-roll picture of an excerpt, for researchers checking what a stimulus contains.

Drawn with matplotlib's Agg canvas on a bare Figure (no pyplot), so it is safe in worker
processes and threads and needs no display.
"""

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from generation.encoding.pianoroll import LOWEST_PITCH, ONSET, SUSTAIN

_COLOURS = ListedColormap(["white", "#7aa6d6", "#1f3f73"])  # off, held, onset


def roll_png(
    roll: np.ndarray, steps_per_beat: int, beats_per_bar: int = 4, dpi: int = 100
) -> bytes:
    """PNG bytes: pitch up, time right, onsets darker than held steps, bar lines dotted."""
    picture = np.where(roll[:, :, ONSET] > 0, 2, np.where(roll[:, :, SUSTAIN] > 0, 1, 0)).T
    sounding = np.flatnonzero(picture.any(axis=1))
    low, high = (sounding.min(), sounding.max()) if len(sounding) else (39, 48)
    low, high = max(0, low - 2), min(picture.shape[0] - 1, high + 2)
    figure = Figure(figsize=(8, 3), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.imshow(
        picture[low : high + 1],
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        cmap=_COLOURS,
        vmin=0,
        vmax=2,
        extent=(0, len(roll) / steps_per_beat, LOWEST_PITCH + low - 0.5, LOWEST_PITCH + high + 0.5),
    )
    for bar in np.arange(0, len(roll) / steps_per_beat + 1e-9, beats_per_bar):
        axes.axvline(bar, color="grey", linestyle=":", linewidth=0.8)
    axes.set_xlabel("beat")
    axes.set_ylabel("MIDI pitch")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
