import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from generation import corpora, midi_files
from generation.corpora import SourcePiece, iter_bundled, iter_zip
from generation.importing import import_pieces, upload_corpus
from generation.midi_files import content_hash, midi_bytes, read_midi, top_line, tune_hash
from generation.models import Corpus, Piece
from generation.splits import split_for
from tests.conftest import make_midi

pytestmark = pytest.mark.django_db


def source(name: str, pitch: int) -> SourcePiece:
    return SourcePiece(name, name, midi_bytes(make_midi([(pitch, 0, 1), (pitch + 4, 1, 2)])))


def test_bundled_bach_import_is_idempotent_and_split_by_tune(capsys):
    call_command("import_corpus", "bach", "--limit", "4")
    corpus = Corpus.objects.get(slug="bach")
    pieces = list(corpus.pieces.all())
    assert len(pieces) == 4
    assert all(p.split == split_for(tune_hash(p.load_midi())) for p in pieces)
    assert pieces[0].load_midi().instruments  # the stored MIDI reads back
    call_command("import_corpus", "bach", "--limit", "4")
    assert corpus.pieces.count() == 4
    assert "0 new, 4 already there" in capsys.readouterr().out


def test_every_setting_of_a_tune_lands_in_one_split():
    """Two harmonisations of one melody, in different keys and rhythms, with an inner voice
    moving under a held melody note, share a split; a different melody need not."""
    tune = [67, 67, 69, 71, 71, 69, 67, 66, 64, 66, 67, 67, 66]
    one = [(p, t, t + 1) for t, p in enumerate(tune)] + [(48 + t % 5, t, t + 1) for t in range(13)]
    other = [(p + 2, 2 * t, 2 * t + 2) for t, p in enumerate(tune)]
    other += [(60 + t % 3, 2 * t + 1, 2 * t + 2) for t in range(13)]  # under the held note
    settings = [make_midi(one), make_midi(other)]
    assert content_hash(settings[0]) != content_hash(settings[1])
    assert tune_hash(settings[0]) == tune_hash(settings[1])
    assert tune_hash(make_midi([(p + (t == 5), t, t + 1) for t, p in enumerate(tune)])) != (
        tune_hash(settings[0])
    )
    corpus = upload_corpus("Settings")
    import_pieces(
        corpus, [SourcePiece(f"{i}.mid", str(i), midi_bytes(pm)) for i, pm in enumerate(settings)]
    )
    assert len({piece.split for piece in corpus.pieces.all()}) == 1


def test_the_top_line_of_performed_midi_is_its_melody():
    # Legato: each melody note overlaps the next by 10 ms; a rolled chord's notes start 5-15 ms
    # apart. Neither is a melody note held over the next, nor a new top note.
    legato = make_midi([(p, t, t + 1.02) for t, p in enumerate([72, 71, 69, 67])])
    assert top_line(legato, 4) == [72, 71, 69, 67]
    rolled = make_midi([(60, 0, 1), (64, 0.01, 1), (67, 0.02, 1), (65, 1, 2), (62, 1.03, 2)])
    assert top_line(rolled, 4) == [67, 65]
    assert tune_hash(make_midi([(60, 0, 1)])) == content_hash(make_midi([(60, 0, 1)]))


def test_bad_files_are_reported_by_name_and_the_rest_imported():
    corpus = upload_corpus("My uploads")
    sources = [
        source("good.mid", 60),
        SourcePiece("broken.mid", "broken", b"MThd this is not midi"),
        SourcePiece("empty.mid", "empty", b""),
        SourcePiece("silent.mid", "silent", midi_bytes(make_midi([]))),
        source("also-good.mid", 62),
    ]
    summary = import_pieces(corpus, sources)
    assert summary.created == 2
    assert [reason.split(":")[0] for reason in summary.skipped] == [
        "broken.mid",
        "empty.mid",
        "silent.mid",
    ]
    assert "no pitched notes" in summary.skipped[2]


def test_files_too_large_or_with_too_many_notes_are_refused_before_they_cost_much(monkeypatch):
    # pretty_midi reads about half a megabyte a second: a 50 MB file held a request for minutes,
    # and 300,000 notes made a 20 MB piece page.
    monkeypatch.setattr(midi_files, "MAX_NOTES", 3)
    monkeypatch.setattr(midi_files, "MAX_MIDI_BYTES", 400)
    dense = make_midi([(60 + i, i, i + 1) for i in range(4)])
    long = make_midi([(60 + i % 12, i, i + 1) for i in range(60)])
    summary = import_pieces(
        upload_corpus("Limits"),
        [SourcePiece("dense.mid", "dense", midi_bytes(dense)), source("fine.mid", 60)]
        + [SourcePiece("long.mid", "long", midi_bytes(long))],
    )
    assert summary.created == 1
    assert summary.skipped == [
        "dense.mid: 4 notes, more than the 3 a piece may have",
        f"long.mid: {len(midi_bytes(long))} bytes, over the 400 bytes a MIDI file may be",
    ]


def test_zip_upload_through_the_command(tmp_path, capsys):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/one.mid", source("one", 60).data)
        archive.writestr("two.mid", source("two", 65).data)
        archive.writestr("notes.txt", "not music")
    path = tmp_path / "set.zip"
    path.write_bytes(buffer.getvalue())
    call_command("import_corpus", "--files", str(path), "--name", "Zip set")
    assert Piece.objects.filter(corpus__slug="zip-set").count() == 2
    assert "2 new" in capsys.readouterr().out


def test_a_corrupt_zip_is_reported():
    [piece] = iter_zip(b"not a zip", "x.zip")
    assert piece.data is None and "not a valid zip" in piece.error


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zips_unreadable_entries_are_named_and_the_rest_imported(monkeypatch):
    # A few kilobytes of zip can unpack to gigabytes; entries are measured before reading.
    monkeypatch.setattr(corpora, "MAX_MIDI_BYTES", 5000)
    good = source("good", 60).data
    pieces = {
        piece.title: piece
        for piece in iter_zip(_zip({"good.mid": good, "huge.mid": bytes(6000)}), "set.zip")
    }
    assert pieces["good"].data == good
    assert "6 kB unpacked, over the 5 kB a MIDI file may be" in pieces["huge"].error
    assert pieces["huge"].data is None
    locked = zipfile.ZipInfo("locked.mid")
    locked.flag_bits |= 0x1
    assert "encrypted" in corpora.zip_problem(locked)


def test_a_damaged_zip_entry_is_named_not_raised():
    data = bytearray(_zip({"one.mid": source("one", 60).data}))
    data[40] ^= 0xFF  # inside the compressed data: its CRC no longer matches
    [piece] = iter_zip(bytes(data), "set.zip")
    assert piece.data is None and "damaged in the zip" in piece.error


def test_the_same_music_twice_in_one_import_is_stored_once():
    corpus = upload_corpus("dupes")
    summary = import_pieces(corpus, [source("a.mid", 60), source("b.mid", 60)])
    assert (summary.created, summary.existing) == (1, 1)


@pytest.mark.parametrize(
    "args, message",
    [
        (["nonesuch"], "unknown corpus"),
        ([], "either a bundled corpus"),
        (["bach", "--limit", "0"], "at least 1"),
        (["--files", "/no/such.mid", "--name", "x"], "no such file"),
    ],
)
def test_command_refuses_bad_arguments_and_changes_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_corpus", *args)
    assert Corpus.objects.count() == 0


def test_folk_songs_come_one_per_tune():
    pieces = list(iter_bundled("essen", limit=3))
    assert len(pieces) == 3 and all(p.data for p in pieces)
    assert pieces[0].name.endswith("#1") and pieces[1].name.endswith("#2")


def test_a_pickup_bar_is_delayed_so_bar_lines_fall_on_downbeats():
    [chorale] = iter_bundled("bach", limit=1)  # BWV 269: 3/4 with a one-beat pickup
    pm = read_midi(chorale.data)
    beat = 60.0 / pm.get_tempo_changes()[1][0]
    onsets = sorted({round(n.start / beat, 3) for i in pm.instruments for n in i.notes})
    downbeats = [round(t / beat, 3) for t in pm.get_downbeats()]
    assert onsets[0] == 2.0  # the pickup fills the end of bar 0 ...
    assert downbeats[:3] == [0.0, 3.0, 6.0] and 3.0 in onsets  # ... and bar 1 starts on time
