"""The Woods et al. headphone screen: levels, phase and answers made on the server."""

import io

import numpy as np
import pytest
import soundfile

from surveys import headphone


def _segments(audio: np.ndarray) -> list[np.ndarray]:
    n = int(headphone.TONE_SECONDS * headphone.SAMPLE_RATE)
    step = n + int(headphone.GAP_SECONDS * headphone.SAMPLE_RATE)
    return [audio[i * step : i * step + n] for i in range(3)]


def test_one_tone_is_6_db_quieter_and_one_is_in_antiphase():
    layout = headphone.Layout(quiet=2, antiphase=3)
    tones = _segments(headphone.triplet(layout))
    rms = [np.sqrt(np.mean(t[:, 0] ** 2)) for t in tones]
    assert 20 * np.log10(rms[1] / rms[0]) == pytest.approx(-6.0, abs=0.01)
    assert rms[2] == pytest.approx(rms[0])
    assert np.allclose(tones[2][:, 0], -tones[2][:, 1])
    assert np.allclose(tones[0][:, 0], tones[0][:, 1])
    assert np.allclose(tones[1][:, 0], tones[1][:, 1])


def test_layouts_are_reproducible_and_vary():
    layouts = headphone.draw_layouts(seed=42, n_trials=30)
    assert layouts == headphone.draw_layouts(seed=42, n_trials=30)
    assert all(layout.quiet != layout.antiphase for layout in layouts)
    assert {layout.quiet for layout in layouts} == {1, 2, 3}


def test_scoring_and_bad_responses():
    layout = headphone.Layout(quiet=1, antiphase=2)
    assert headphone.is_correct(layout, 1)
    assert not headphone.is_correct(layout, 2)
    with pytest.raises(ValueError, match="1, 2 or 3"):
        headphone.is_correct(layout, 4)
    assert headphone.passed(5) and not headphone.passed(4)
    with pytest.raises(ValueError, match="distinct"):
        headphone.triplet(headphone.Layout(quiet=1, antiphase=1))


def test_mp3_is_stereo_and_keeps_the_antiphase():
    data = headphone.encode_stereo_mp3(headphone.triplet(headphone.Layout(quiet=1, antiphase=2)))
    assert not data.startswith(b"ID3")
    audio, rate = soundfile.read(io.BytesIO(data))
    assert audio.shape[1] == 2 and rate == headphone.SAMPLE_RATE
    middle = audio[int(2.0 * rate) : int(2.3 * rate)]  # inside the second (antiphase) tone
    assert np.corrcoef(middle[:, 0], middle[:, 1])[0, 1] < -0.95
