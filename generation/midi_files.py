"""Reading MIDI bytes safely, and the content identity of a piece.

Uploads and corpora arrive as bytes; anything that is not a readable MIDI file with at least one
pitched note is refused with a reason, so an import can report it by name and go on.
"""

import hashlib
import io

import numpy as np
import pretty_midi

# A long piano piece is a few hundred kilobytes and tens of thousands of notes. pretty_midi reads
# about half a megabyte a second, so these bound the seconds a file can hold a request (or a
# worker) and the size of everything drawn or encoded from its notes.
MAX_MIDI_BYTES = 2 * 2**20
MAX_NOTES = 100_000


class MidiError(ValueError):
    """A MIDI file that cannot be used; the message says why, in words for the researcher."""


def read_midi(data: bytes, name: str = "MIDI file") -> pretty_midi.PrettyMIDI:
    if not data:
        raise MidiError(f"{name}: the file is empty")
    if len(data) > MAX_MIDI_BYTES:
        raise MidiError(f"{name}: {size_in_words(len(data))}, {over_the_limit(MAX_MIDI_BYTES)}")
    try:
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:
        raise MidiError(f"{name}: not a readable MIDI file ({type(exc).__name__}: {exc})") from exc
    notes = count_pitched_notes(pm)
    if notes == 0:
        raise MidiError(f"{name}: the file holds no pitched notes")
    if notes > MAX_NOTES:
        raise MidiError(f"{name}: {notes:,} notes, more than the {MAX_NOTES:,} a piece may have")
    return pm


def size_in_words(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:.2f} MB"
    return f"{size / 2**10:.0f} kB" if size >= 2**10 else f"{size} bytes"


def over_the_limit(limit: int) -> str:
    return f"over the {size_in_words(limit)} a MIDI file may be"


def count_pitched_notes(pm: pretty_midi.PrettyMIDI) -> int:
    return sum(len(inst.notes) for inst in pm.instruments if not inst.is_drum)


def note_spans(pm: pretty_midi.PrettyMIDI) -> list[tuple[int, float, float]]:
    """(pitch, start, end) of every pitched note, for drawing the piano roll."""
    return [
        (note.pitch, note.start, note.end)
        for instrument in pm.instruments
        if not instrument.is_drum
        for note in instrument.notes
    ]


def midi_bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def content_hash(pm: pretty_midi.PrettyMIDI) -> str:
    """SHA-256 of the notes themselves (pitch, start, end in ms), blind to file-format details,
    so the same music imported twice, from any source, is recognised as one piece."""
    notes = sorted(
        (n.pitch, round(n.start * 1000), round(n.end * 1000))
        for inst in pm.instruments
        if not inst.is_drum
        for n in inst.notes
    )
    digest = hashlib.sha256()
    for pitch, start, end in notes:
        digest.update(f"{pitch},{start},{end};".encode())
    return digest.hexdigest()


# Intervals of a piece's top line that name its tune: enough that unrelated chorales differ (the
# bundled Bach chorales fall into 270 tunes by them), few enough that harmonisations of one tune,
# whose melodies part later by a passing note or a cadence, still agree.
TUNE_INTERVALS = 12


# Performed MIDI is not quantised: notes of one chord start a few milliseconds apart, and a legato
# melody note overlaps the next. Onsets this close are one onset, and a note that ends this soon
# after an onset is not held over it.
ONSET_MS = 30


def tune_hash(pm: pretty_midi.PrettyMIDI) -> str:
    """SHA-256 of the tune a piece sets: the first TUNE_INTERVALS intervals of its top line, in
    any key and any rhythm. Bach set many hymn tunes more than once, and a split by content alone
    put 29 of the bundled chorales' held-out pieces beside another setting of their own tune in
    a different split; a model that trained on one setting has heard the other's melody. A piece
    whose top line has no interval (one note, or one chord) is named by its content instead."""
    intervals = np.diff(top_line(pm, TUNE_INTERVALS + 1))
    if not len(intervals):
        return content_hash(pm)
    digest = hashlib.sha256()
    for interval in intervals:
        digest.update(f"{interval};".encode())
    return digest.hexdigest()


def top_line(pm: pretty_midi.PrettyMIDI, length: int) -> list[int]:
    """The first `length` pitches of the top line: at each onset its highest new note, unless a
    higher note is held over it (an inner voice moving under a held melody note)."""
    notes = sorted(
        (round(n.start * 1000), -n.pitch, round(n.end * 1000))
        for inst in pm.instruments
        if not inst.is_drum
        for n in inst.notes
    )
    line: list[int] = []
    held: list[tuple[int, int]] = []  # (end, pitch) of notes that started before this onset
    index = 0
    while index < len(notes) and len(line) < length:
        start = notes[index][0]
        onset = []
        while index < len(notes) and notes[index][0] - start <= ONSET_MS:
            onset.append(notes[index])
            index += 1
        highest = max(-pitch for _, pitch, _ in onset)
        held = [(end, pitch) for end, pitch in held if end > start + ONSET_MS]
        if all(pitch <= highest for _, pitch in held):
            line.append(highest)
        held += [(end, -pitch) for _, pitch, end in onset]
    return line
