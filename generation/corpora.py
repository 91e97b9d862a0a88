"""Where pieces come from: music21's bundled corpus, uploaded MIDI files, and zips of them.

Every source yields SourcePiece values (a name, a title and MIDI bytes); the importer does the rest
the same way for all of them. music21 is real, public-domain data that installs with pip, so a
fresh machine can build a corpus without any download.
"""

import io
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pretty_midi
from music21 import corpus as m21corpus
from music21 import stream

from generation.midi_files import MAX_MIDI_BYTES, midi_bytes, over_the_limit, size_in_words

# What one zip may unpack to in all: a corpus of thousands of pieces, held in memory at once.
MAX_ZIP_UNPACKED = 500 * 2**20


@dataclass(frozen=True)
class SourcePiece:
    name: str
    title: str
    data: bytes | None
    error: str = ""


def _bach_chorales() -> list[str]:
    """The chorales BachBot trained on, once each (music21's iterator lists a few twice)."""
    names = m21corpus.chorales.Iterator(returnType="filename")
    return list(dict.fromkeys(names))


def _works_of(composer: str) -> Callable[[], list[str]]:
    def listing() -> list[str]:
        paths = m21corpus.getComposer(composer)
        return [str(p) for p in paths if p.suffix in {".mxl", ".xml", ".krn", ".abc"}]

    return listing


BUNDLED: dict[str, tuple[str, Callable[[], list[str]]]] = {
    "bach": ("J. S. Bach, four-part chorales (music21 corpus)", _bach_chorales),
    "essen": ("Essen folk-song collection (music21 corpus)", _works_of("essenFolksong")),
    "palestrina": ("G. P. da Palestrina, masses (music21 corpus)", _works_of("palestrina")),
}


def bundled_names() -> list[str]:
    return sorted(BUNDLED)


def describe_bundled(name: str) -> str:
    return _bundled(name)[0]


def _bundled(name: str) -> tuple[str, Callable[[], list[str]]]:
    if name not in BUNDLED:
        raise ValueError(
            f"unknown corpus {name!r}; bundled corpora are {', '.join(bundled_names())}"
        )
    return BUNDLED[name]


def iter_bundled(name: str, limit: int | None = None) -> Iterator[SourcePiece]:
    """Parse each work and write it as MIDI; a collection (an Opus) yields each of its scores."""
    produced = 0
    for work in _bundled(name)[1]():
        for piece in _parse_work(work):
            if limit is not None and produced >= limit:
                return
            produced += 1
            yield piece


def _parse_work(work: str) -> Iterator[SourcePiece]:
    label = Path(work).stem if Path(work).is_absolute() else work
    try:
        parsed = m21corpus.parse(work)
    except Exception as exc:
        yield SourcePiece(label, label, None, f"{label}: music21 could not parse it ({exc})")
        return
    scores = parsed.scores if isinstance(parsed, stream.Opus) else [parsed]
    for number, score in enumerate(scores, start=1):
        name = label if len(scores) == 1 else f"{label}#{number}"
        title = (score.metadata.title if score.metadata and score.metadata.title else "") or name
        try:
            yield SourcePiece(name, title, _score_to_midi(score))
        except Exception as exc:
            yield SourcePiece(name, title, None, f"{name}: could not write MIDI ({exc})")


def _score_to_midi(score: stream.Stream) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "piece.mid"
        score.write("midi", fp=str(path))
        data = path.read_bytes()
    pickup_gap = _pickup_gap_beats(score)
    return _delay(data, pickup_gap) if pickup_gap else data


def _pickup_gap_beats(score: stream.Stream) -> float:
    """How much of the bar a pickup (anacrusis) leaves out, in quarter notes.

    music21 writes a pickup bar at time 0 as if it were a whole bar, so every bar line in the
    MIDI file would fall that far before the true downbeats; excerpts cut "at a bar line" would
    then start mid-bar in human music only. Delaying the music by this gap realigns them.
    """
    parts = score.parts if score.parts else [score]
    measures = parts[0].getElementsByClass(stream.Measure)
    return float(measures[0].paddingLeft) if measures else 0.0


def _delay(data: bytes, beats: float) -> bytes:
    """The same MIDI with every event `beats` later and its metre still counted from time 0."""
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    tempi = pm.get_tempo_changes()[1]
    if len(tempi) != 1:
        return data  # a tempo map would need shifting too; no bundled pickup piece has one
    seconds = beats * 60.0 / tempi[0]
    for instrument in pm.instruments:
        for note in instrument.notes:
            note.start += seconds
            note.end += seconds
        for event in instrument.control_changes + instrument.pitch_bends:
            event.time += seconds
    metre = []
    for change in pm.time_signature_changes:
        same = metre and (metre[-1].numerator, metre[-1].denominator) == (
            change.numerator,
            change.denominator,
        )
        if not same:
            change.time = change.time + seconds if metre else 0.0
            metre.append(change)
    pm.time_signature_changes = metre
    for key in pm.key_signature_changes:
        key.time = key.time + seconds if key.time > 0 else 0.0
    return midi_bytes(pm)


def iter_files(paths: list[Path]) -> Iterator[SourcePiece]:
    """Local MIDI files and zips, each file named for reports of what was skipped."""
    return iter_named_files((path.name, path.read_bytes()) for path in paths)


def iter_named_files(files: Iterable[tuple[str, bytes]]) -> Iterator[SourcePiece]:
    """MIDI files and zips given as (file name, contents), wherever they were kept."""
    for name, data in files:
        if name.lower().endswith(".zip"):
            yield from iter_zip(data, name)
        else:
            yield SourcePiece(name, Path(name).stem, data)


def zip_problem(info: zipfile.ZipInfo) -> str:
    """Why a zip entry will not be read, before reading it: encrypted, or larger unpacked than
    a MIDI file may be (a few kilobytes of zip can unpack to gigabytes). "" when it may be."""
    if info.flag_bits & 0x1:
        return "encrypted (a zip with a password cannot be read)"
    if info.file_size > MAX_MIDI_BYTES:
        return f"{size_in_words(info.file_size)} unpacked, {over_the_limit(MAX_MIDI_BYTES)}"
    return ""


def iter_zip(data: bytes, label: str = "upload.zip") -> Iterator[SourcePiece]:
    """The MIDI files in a zip; an entry that cannot be read is named with why, and the rest go
    on. Past MAX_ZIP_UNPACKED bytes unpacked in all, the remaining entries are refused too."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        yield SourcePiece(label, label, None, f"{label}: not a valid zip archive")
        return
    unpacked = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.lower().endswith((".mid", ".midi")):
                continue
            name, title = f"{label}:{info.filename}", Path(info.filename).stem
            unpacked += info.file_size
            problem = zip_problem(info)
            if not problem and unpacked > MAX_ZIP_UNPACKED:
                problem = f"the zip unpacks to more than {MAX_ZIP_UNPACKED // 2**20} MB in all"
            if problem:
                yield SourcePiece(name, title, None, f"{name}: {problem}")
                continue
            try:
                yield SourcePiece(name, title, archive.read(info))
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
                yield SourcePiece(name, title, None, f"{name}: damaged in the zip ({error})")
