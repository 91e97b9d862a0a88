"""Loader for the JSB Chorales benchmark of Boulanger-Lewandowski, Bengio and Vincent (ICML 2012).

The files list, for each time step, the sounding MIDI pitches; held and repeated notes are not
told apart, so the natural array is a binary (T, 88) roll, the input of the 2012 benchmark tables.
"""

import json
import os
from pathlib import Path

import numpy as np

from generation.encoding.pianoroll import KEYS, LOWEST_PITCH

RESOLUTIONS = {"quarter": "jsb-chorales-quarter.json", "16th": "jsb-chorales-16th.json"}
SPLITS = ("train", "valid", "test")


def default_shared_dir() -> Path:
    """SHARED_DIR from the environment, else the shared/ folder beside the repository."""
    return Path(os.environ.get("SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


def jsb_path(resolution: str, shared_dir: Path) -> Path:
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {sorted(RESOLUTIONS)}, not {resolution!r}")
    return shared_dir / "data" / "jsb" / RESOLUTIONS[resolution]


def steps_to_roll(steps: list[list[int]]) -> np.ndarray:
    roll = np.zeros((len(steps), KEYS), dtype=np.uint8)
    for t, pitches in enumerate(steps):
        for value in pitches:
            p = int(value)  # the 16th-note file writes some pitches as floats (65.0)
            if p != value or not LOWEST_PITCH <= p < LOWEST_PITCH + KEYS:
                raise ValueError(f"pitch {value} at step {t} is not one of the piano's 88 keys")
            roll[t, p - LOWEST_PITCH] = 1
    return roll


def load_jsb(resolution: str = "quarter", shared_dir: Path | None = None) -> dict[str, list]:
    """{"train": [...], "valid": [...], "test": [...]}, each piece a (T, 88) uint8 array."""
    path = jsb_path(resolution, Path(shared_dir) if shared_dir else default_shared_dir())
    if not path.exists():
        raise FileNotFoundError(f"JSB Chorales file not found at {path}; set SHARED_DIR")
    data = json.loads(path.read_text())
    missing = [s for s in SPLITS if s not in data]
    if missing:
        raise ValueError(f"{path} lacks the split(s) {missing}")
    return {split: [steps_to_roll(piece) for piece in data[split]] for split in SPLITS}
