"""FluidSynth rendering through pyfluidsynth, the soundfont loaded once per process.

Loading FluidR3_GM (141 MB) costs more CPU than rendering a whole excerpt, so a worker loads each
soundfont once and keeps it (`load_soundfont` is cached; `soundfont_loads()` counts real loads).
Each render then gets a fresh synthesizer that borrows the loaded soundfont: a reused synth keeps
reverb tails, voice state and block phase from the piece before, so the same MIDI would not give
the same samples twice. A fresh synth costs about a millisecond and makes rendering deterministic.
"""

import ctypes
import functools
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import fluidsynth
import numpy as np
import pretty_midi

_c = ctypes
_write_float = fluidsynth.cfunc(
    "fluid_synth_write_float", _c.c_int,
    ("synth", _c.c_void_p, 1), ("len", _c.c_int, 1),
    ("lout", _c.c_void_p, 1), ("loff", _c.c_int, 1), ("lincr", _c.c_int, 1),
    ("rout", _c.c_void_p, 1), ("roff", _c.c_int, 1), ("rincr", _c.c_int, 1),
)  # fmt: skip
_get_sfont_by_id = fluidsynth.cfunc(
    "fluid_synth_get_sfont_by_id", _c.c_void_p, ("synth", _c.c_void_p, 1), ("id", _c.c_int, 1)
)
_add_sfont = fluidsynth.cfunc(
    "fluid_synth_add_sfont", _c.c_int, ("synth", _c.c_void_p, 1), ("sfont", _c.c_void_p, 1)
)
_remove_sfont = fluidsynth.cfunc(
    "fluid_synth_remove_sfont", _c.c_int, ("synth", _c.c_void_p, 1), ("sfont", _c.c_void_p, 1)
)
_set_log_function = fluidsynth.cfunc(
    "fluid_set_log_function", _c.c_void_p,
    ("level", _c.c_int, 1), ("fun", _c.c_void_p, 1), ("data", _c.c_void_p, 1),
)  # fmt: skip
_FLUID_WARN = 2
_DRUM_CHANNEL = 9
_MIDI_CHANNELS = 16
_lock = threading.Lock()


class SoundfontError(RuntimeError):
    """The soundfont cannot be used; the message says which file and what to do."""


@dataclass(frozen=True)
class SynthSettings:
    """Everything about the synthesizer that shapes the sound; part of a stimulus's parameters.

    Chorus is off: on a piano it only detunes. Reverb stays on, as a room makes a piano natural.
    """

    sample_rate: int = 48000
    gain: float = 0.2
    reverb: bool = True
    chorus: bool = False
    polyphony: int = 256


@dataclass(frozen=True)
class LoadedSoundfont:
    """A soundfont held in memory by an idle owner synth, lent to render synths."""

    path: str
    owner: fluidsynth.Synth
    sfont: int


@functools.cache
def load_soundfont(path: str) -> LoadedSoundfont:
    """Load a soundfont once per process (and per path)."""
    if not Path(path).is_file():
        raise SoundfontError(
            f"soundfont not found: {path} (install Debian's fluid-soundfont-gm or set SOUNDFONT)"
        )
    owner = fluidsynth.Synth(channels=_MIDI_CHANNELS)
    sfid = owner.sfload(path)
    if sfid < 0:
        raise SoundfontError(f"FluidSynth could not load {path}: not a SoundFont 2 file?")
    return LoadedSoundfont(path=path, owner=owner, sfont=_get_sfont_by_id(owner.synth, sfid))


def soundfont_loads() -> int:
    """How many soundfonts this process has loaded from disk."""
    return load_soundfont.cache_info().misses


def render(
    pm: pretty_midi.PrettyMIDI, n_samples: int, soundfont: str | Path, settings: SynthSettings
) -> np.ndarray:
    """Exactly n_samples of mono float32 audio; notes still sounding then are simply cut."""
    loaded = load_soundfont(str(soundfont))
    events = _events(pm, settings.sample_rate, n_samples)
    stereo = np.zeros((n_samples, 2), dtype=np.float32)
    with _lock, _borrowing_synth(loaded, settings, pm) as synth:
        position = 0
        for sample, is_on, channel, pitch, velocity in events:
            _write(synth, stereo, position, sample)
            position = sample
            if is_on:
                synth.noteon(channel, pitch, velocity)
            else:
                synth.noteoff(channel, pitch)
        _write(synth, stereo, position, n_samples)
    # Left plus right, halved: the same numbers as stereo.mean(axis=1), a tenth of its time.
    mono = np.add(stereo[:, 0], stereo[:, 1])
    mono *= np.float32(0.5)
    return mono


def _events(pm: pretty_midi.PrettyMIDI, rate: int, n_samples: int) -> list[tuple]:
    """(sample, on?, channel, pitch, velocity), note-offs first at equal times, so a repeated
    note is struck again rather than cut by its own predecessor."""
    events = []
    for channel, instrument in _channels(pm):
        for note in instrument.notes:
            start = round(note.start * rate)
            if start >= n_samples:
                continue
            events.append((start, True, channel, note.pitch, note.velocity))
            events.append((min(round(note.end * rate), n_samples), False, channel, note.pitch, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def _channels(pm: pretty_midi.PrettyMIDI) -> list[tuple[int, pretty_midi.Instrument]]:
    melodic = [i for i in pm.instruments if not i.is_drum]
    free = [c for c in range(_MIDI_CHANNELS) if c != _DRUM_CHANNEL]
    if len(melodic) > len(free):
        raise ValueError(f"{len(melodic)} instruments; at most {len(free)} can be rendered")
    pairs = list(zip(free, melodic, strict=False))
    pairs += [(_DRUM_CHANNEL, i) for i in pm.instruments if i.is_drum]
    return pairs


@contextmanager
def _borrowing_synth(loaded: LoadedSoundfont, settings: SynthSettings, pm: pretty_midi.PrettyMIDI):
    synth = fluidsynth.Synth(
        gain=settings.gain,
        samplerate=settings.sample_rate,
        channels=_MIDI_CHANNELS,
        **{
            "synth.reverb.active": int(settings.reverb),
            "synth.chorus.active": int(settings.chorus),
            "synth.polyphony": settings.polyphony,
        },
    )
    sfid = _add_sfont(synth.synth, loaded.sfont)
    try:
        for channel, instrument in _channels(pm):
            bank = 128 if instrument.is_drum else 0
            synth.program_select(channel, sfid, bank, instrument.program)
        yield synth
    finally:
        # Lending back resets every channel's program, which FluidSynth logs as sixteen
        # "no preset" warnings: true and harmless, so they are muted for that one call.
        previous = _set_log_function(_FLUID_WARN, None, None)
        _remove_sfont(synth.synth, loaded.sfont)
        _set_log_function(_FLUID_WARN, previous, None)
        synth.delete()


def _write(synth: fluidsynth.Synth, out: np.ndarray, start: int, stop: int) -> None:
    """Render samples [start, stop) straight into the interleaved stereo buffer `out`."""
    if stop <= start:
        return
    base = out.ctypes.data + start * out.strides[0]
    _write_float(synth.synth, stop - start, base, 0, 2, base, 1, 2)
