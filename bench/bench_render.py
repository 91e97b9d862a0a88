"""Stimulus rendering speed against the bare FluidSynth command line, on 20 Bach chorales.

Ours: canonicalise + cut + render + finish (fades, BS.1770 loudness, true-peak limiter) + encode
MP3 and Ogg/Opus, in this process, the soundfont loaded once (its load counted). Baselines: the
FluidSynth command on the same excerpt MIDI files, one process per file, as a script calling
the CLI would do, each process loading the soundfont (as each of ours would, once per worker):

- the issue's plain `fluidsynth -ni -F out.wav` (44.1 kHz, chorus and reverb on: FluidSynth's
  defaults), and
- like for like, `fluidsynth -ni -r 48000 -C 0 -F out.wav`: our sample rate and our effects
  (reverb on, chorus off), so neither side is spared work the other does.

Both are measured in CPU seconds (ours: this process; the baselines: their child processes),
as seconds of audio made per CPU second. Each side runs `--repeat` times and keeps its best run,
as timeit does: other load on the machine only ever adds CPU time (cache misses, a shared core).
Ours reloads the soundfont on every repeat, so each run pays for one load.

    python bench/bench_render.py [--n 20] [--repeat 3]

Wants: ratio >= 0.8 and >= 60x real time per core.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import soundfile  # noqa: E402
from music21 import corpus  # noqa: E402

from audio.canonical import canonicalise  # noqa: E402
from audio.excerpt import ExcerptRefused, cut_excerpt  # noqa: E402
from audio.pipeline import StimulusSpec, prepare_stimulus  # noqa: E402
from audio.synth import load_soundfont, soundfont_loads  # noqa: E402
from generation.midi_files import midi_bytes, read_midi  # noqa: E402

SOUNDFONT = os.environ.get("SOUNDFONT", "/usr/share/sounds/sf2/FluidR3_GM.sf2")


def chorales(n: int, spec: StimulusSpec) -> list[tuple[bytes, bytes]]:
    """(chorale MIDI, its canonical excerpt MIDI) for the first n chorales long enough."""
    found = []
    for path in corpus.getComposer("bach"):
        if len(found) == n:
            break
        try:
            data = midi_bytes(read_midi(_score_midi(path)))
            excerpt = cut_excerpt(canonicalise(read_midi(data), spec.form), spec.excerpt)
        except (ExcerptRefused, ValueError):
            continue
        found.append((data, midi_bytes(excerpt.to_midi())))
    return found


def _score_midi(path) -> bytes:
    with tempfile.NamedTemporaryFile(suffix=".mid") as handle:
        corpus.parse(path).write("midi", fp=handle.name)
        return Path(handle.name).read_bytes()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_ours(pieces: list[tuple[bytes, bytes]], spec: StimulusSpec) -> tuple[float, float]:
    load_soundfont.cache_clear()
    start = time.process_time()
    audio = 0.0
    for full, _ in pieces:
        audio += prepare_stimulus(full, spec, SOUNDFONT, draw_roll=False).facts.duration_seconds
    return audio, time.process_time() - start


def bench_cli(
    pieces: list[tuple[bytes, bytes]], workdir: Path, options: list[str]
) -> tuple[float, float]:
    files = []
    for i, (_, excerpt) in enumerate(pieces):
        files.append(workdir / f"{i}.mid")
        files[-1].write_bytes(excerpt)
    start = children_cpu()
    for midi in files:
        wav = str(midi.with_suffix(".wav"))
        subprocess.run(
            ["fluidsynth", "-ni", *options, "-F", wav, SOUNDFONT, str(midi)],
            check=True,
            capture_output=True,
        )
    cpu = children_cpu() - start
    return sum(soundfile.info(str(m.with_suffix(".wav"))).duration for m in files), cpu


def best_of(repeat: int, run) -> tuple[float, float]:
    """(audio seconds, CPU seconds) of the run that took the least CPU."""
    return min((run() for _ in range(repeat)), key=lambda result: result[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="how many chorales (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side, best kept")
    args = parser.parse_args()
    spec = StimulusSpec()
    pieces = chorales(args.n, spec)
    print(f"{len(pieces)} chorale excerpts of {spec.excerpt.bars} bars at {spec.form.tempo:g} bpm")
    ours_audio, ours_cpu = best_of(args.repeat, lambda: bench_ours(pieces, spec))
    ours_rate = ours_audio / ours_cpu
    print(f"soundfont loads in the last run: {soundfont_loads()}")
    print(
        f"ours (render+finish+MP3+Opus, 48 kHz, best of {args.repeat}): {ours_audio:7.1f} s audio"
        f" in {ours_cpu:6.2f} CPU s"
        f" = {ours_rate:5.1f}x real time per core"
    )
    rate = spec.synth.sample_rate
    baselines = [
        ("fluidsynth -ni -F out.wav", []),
        (f"fluidsynth -ni -r {rate} -C 0 -F out.wav", ["-r", str(rate), "-C", "0"]),
    ]
    for label, options in baselines:
        with tempfile.TemporaryDirectory() as tmp:
            cli_audio, cli_cpu = best_of(
                args.repeat, partial(bench_cli, pieces, Path(tmp), options)
            )
        cli_rate = cli_audio / cli_cpu
        print(
            f"CLI `{label}` (WAV only): {cli_audio:7.1f} s audio in {cli_cpu:6.2f} CPU s"
            f" = {cli_rate:5.1f}x real time per core"
        )
        print(f"    ratio ours / this CLI: {ours_rate / cli_rate:.2f} (want >= 0.8)")
    print(f"ours per core: {ours_rate:.1f}x (want >= 60x)")


if __name__ == "__main__":
    main()
