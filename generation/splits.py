"""Deterministic train/valid/test assignment from a hash of the music (of its tune, on import:
midi_files.tune_hash, so that every setting of one tune lands in one split).

The split depends on nothing but the music, so every machine, every re-import and every later
corpus version puts a piece in the same split; held-out pieces stay held out. (Pieces imported
before 2026-11-29 were split by their content hash and keep that split: moving them now would
move excerpts already used as held-out ones.)
"""

from typing import Literal

Split = Literal["train", "valid", "test"]
SPLITS: tuple[Split, ...] = ("train", "valid", "test")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


def split_for(music_hash: str, fractions: tuple[float, float, float] = DEFAULT_FRACTIONS) -> Split:
    if abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
        raise ValueError(f"split fractions must be non-negative and sum to 1, got {fractions}")
    position = int(music_hash[:15], 16) / 16**15
    if position < fractions[0]:
        return "train"
    if position < fractions[0] + fractions[1]:
        return "valid"
    return "test"
