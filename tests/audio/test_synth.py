import subprocess
import sys
import textwrap

import numpy as np
import pytest
from django.conf import settings

from audio import synth
from audio.synth import SoundfontError, SynthSettings
from tests.audio.helpers import human_like, machine_like

RATE = 48000


def test_soundfont_is_loaded_once_per_process():
    """A fresh interpreter renders three pieces and reports how often it read the soundfont."""
    script = textwrap.dedent(
        f"""
        from audio import synth
        from tests.audio.helpers import human_like, machine_like
        for pm in (human_like(), machine_like(), human_like(seed=5)):
            synth.render(pm, {RATE // 2}, {str(settings.SOUNDFONT)!r}, synth.SynthSettings())
        print(synth.soundfont_loads())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    # pyfluidsynth prints where it found the library when CI is set; the count is the last line.
    assert done.stdout.strip().splitlines()[-1] == "1"


def test_same_midi_renders_to_the_same_samples_whatever_came_before():
    pm, other = machine_like(), human_like()
    first = synth.render(pm, RATE, settings.SOUNDFONT, SynthSettings())
    synth.render(other, RATE + 17, settings.SOUNDFONT, SynthSettings())
    again = synth.render(pm, RATE, settings.SOUNDFONT, SynthSettings())
    assert np.array_equal(first, again)
    assert np.abs(first).max() > 0.001


def test_render_has_exactly_the_asked_length_and_is_mono():
    audio = synth.render(machine_like(), 12345, settings.SOUNDFONT, SynthSettings())
    assert audio.shape == (12345,) and audio.dtype == np.float32


def test_missing_soundfont_is_a_clear_error(tmp_path):
    with pytest.raises(SoundfontError, match="soundfont not found: .*set SOUNDFONT"):
        synth.render(machine_like(), 100, tmp_path / "none.sf2", SynthSettings())


def test_a_file_that_is_not_a_soundfont_is_a_clear_error(tmp_path):
    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"RIFF nonsense")
    with pytest.raises(SoundfontError, match="could not load"):
        synth.render(machine_like(), 100, fake, SynthSettings())
