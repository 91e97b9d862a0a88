import json

import numpy as np
import pytest

from generation.jsb import load_jsb


def test_loads_the_benchmark_splits():
    data = load_jsb("quarter")
    assert [len(data[s]) for s in ("train", "valid", "test")] == [229, 76, 77]
    first = data["train"][0]
    assert first.shape[1] == 88 and first.dtype == np.uint8
    assert set(np.flatnonzero(first[0]) + 21) == {60, 72, 79, 88}


def test_sixteenth_resolution_reads_its_float_pitches():
    sixteenth = load_jsb("16th")
    assert len(sixteenth["train"]) == 229
    assert set(np.flatnonzero(sixteenth["test"][0][0]) + 21) == {53, 57, 60, 65}


def test_unknown_resolution_and_bad_pitch_are_refused(tmp_path):
    with pytest.raises(ValueError, match="resolution"):
        load_jsb("eighth")
    folder = tmp_path / "data" / "jsb"
    folder.mkdir(parents=True)
    bad = {"train": [[[200]]], "valid": [], "test": []}
    (folder / "jsb-chorales-quarter.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="not one of the piano"):
        load_jsb("quarter", shared_dir=tmp_path)
