"""External generators: MIDI files or a zip imported as a batch, all or nothing, and screened."""

import io
import zipfile
from pathlib import Path

import pretty_midi
import pytest
from django.core.management import CommandError, call_command

from generation.corpora import SourcePiece, iter_bundled
from generation.external import GeneratorInfo, ImportRefused, import_generated
from generation.importing import bundled_corpus, import_pieces
from generation.memorisation import is_memorised
from generation.midi_files import midi_bytes, read_midi
from generation.models import Corpus, ExternalGenerator, GeneratedPiece, GenerationBatch, Piece
from surveys.tasks.stimuli import pieces_to_render, source_of
from tests.audio.helpers import machine_like

pytestmark = pytest.mark.django_db
ROWS = (ExternalGenerator, GenerationBatch, GeneratedPiece, Corpus, Piece)


@pytest.fixture(scope="module")
def chorale_sources() -> list[SourcePiece]:
    return list(iter_bundled("bach", limit=4))


@pytest.fixture
def bach(chorale_sources) -> Corpus:
    corpus = bundled_corpus("bach")
    import_pieces(corpus, chorale_sources)
    return corpus


def up(data: bytes, semitones: int) -> bytes:
    pm = read_midi(data)
    for instrument in pm.instruments:
        for note in instrument.notes:
            note.pitch += semitones
    return midi_bytes(pm)


def fresh(seed: int) -> bytes:
    return midi_bytes(machine_like(steps=160, seed=seed))


def zip_file(folder: Path, files: dict[str, bytes], name: str = "deepbach.zip") -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    path = folder / name
    path.write_bytes(buffer.getvalue())
    return path


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ROWS}


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def test_a_zip_with_one_corrupt_file_is_refused_by_name_and_imports_nothing(
    bach, tmp_path, settings
):
    before, files_before = counts(), stored_files(Path(settings.MEDIA_ROOT))
    path = zip_file(
        tmp_path,
        {
            "out/one.mid": fresh(1),
            "out/broken.mid": b"MThd\x00\x00\x00\x06garbage",
            "out/two.mid": fresh(2),
        },
    )
    with pytest.raises(CommandError, match=r"deepbach.zip:out/broken.mid: not a readable MIDI"):
        call_command("import_generated", "--model", "DeepBach", "--corpus", "bach",
                     "--files", str(path))  # fmt: skip
    assert counts() == before
    assert stored_files(Path(settings.MEDIA_ROOT)) == files_before


def test_every_bad_file_is_named_and_empty_ones_too(bach):
    info = GeneratorInfo("Coconet", "", "", "bach")
    sources = [
        SourcePiece("good.mid", "good", fresh(1)),
        SourcePiece("empty.mid", "empty", b""),
        SourcePiece("silent.mid", "silent", midi_bytes(pretty_midi.PrettyMIDI())),
        SourcePiece("bad.zip", "bad.zip", None, "bad.zip: not a valid zip archive"),
    ]
    with pytest.raises(ImportRefused) as refused:
        import_generated(info, sources)
    message = str(refused.value)
    assert "3 file(s) cannot be used" in message
    for name in ("empty.mid: the file is empty", "silent.mid: ", "bad.zip: not a valid zip"):
        assert name in message
    assert "good.mid" not in message
    assert not ExternalGenerator.objects.exists()


@pytest.mark.parametrize(
    "name, corpus, files, reason",
    [
        ("human", "bach", True, "names the human excerpts or a built-in network"),
        ("seq2seq", "bach", True, "names the human excerpts or a built-in network"),
        ("  ", "bach", True, "needs a name"),
        ("DeepBach", "nope", True, "no corpus 'nope'"),
        ("DeepBach", "bach", False, "no MIDI files"),
    ],
)
def test_bad_requests_change_nothing(bach, name, corpus, files, reason):
    before = counts()
    sources = [SourcePiece("a.mid", "a", fresh(1))] if files else []
    with pytest.raises(ImportRefused, match=reason):
        import_generated(GeneratorInfo(name, "", "", corpus), sources)
    assert counts() == before


def test_a_good_zip_becomes_a_machine_source_labelled_by_its_generator(bach, tmp_path, capsys):
    path = zip_file(tmp_path, {"a.mid": fresh(1), "b.midi": fresh(2), "readme.txt": b"x"})
    call_command("import_generated", "--model", "DeepBach", "--model-version", "1.0",
                 "--description", "https://github.com/Ghadjeres/DeepBach", "--corpus", "bach",
                 "--files", str(path))  # fmt: skip
    batch = GenerationBatch.objects.get()
    assert batch.imported and batch.status == "succeeded" and batch.model_label == "DeepBach 1.0"
    assert batch.generator.corpus == bach and "github" in batch.generator.description
    assert batch.corpus.source == Corpus.Source.GENERATED
    pieces = list(pieces_to_render(batch.pk))
    assert len(pieces) == 2 and {p.split for p in pieces} == {"test"}
    assert {source_of(p) for p in pieces} == {("machine", "DeepBach 1.0")}
    assert f"batch {batch.pk}: 2 pieces from DeepBach 1.0, 0 flagged" in capsys.readouterr().out


def test_a_chorale_up_a_tone_passed_off_as_generated_is_flagged_and_kept_out(bach, chorale_sources):
    copied = chorale_sources[1]
    sources = [
        SourcePiece("copy.mid", "copy", up(copied.data, 2)),
        SourcePiece("new.mid", "new", fresh(3)),
    ]
    batch = import_generated(GeneratorInfo("Forger", "", "", "bach"), sources)
    copy, new = batch.samples.order_by("index")
    assert is_memorised(copy.longest_verbatim_beats, copy.ngram_share)
    assert copy.verbatim_transposition == -2
    assert not is_memorised(new.longest_verbatim_beats, new.ngram_share)
    assert list(pieces_to_render(batch.pk)) == [new.piece]
    assert set(pieces_to_render(batch.pk, include_copies=True)) == {copy.piece, new.piece}


def test_a_second_import_of_a_generator_adds_a_batch_and_keeps_its_corpus(bach):
    info = GeneratorInfo("Music Transformer", "2", "", "bach")
    first = import_generated(info, [SourcePiece("a.mid", "a", fresh(1))])
    second = import_generated(info, [SourcePiece("a.mid", "a", fresh(1))])
    assert first.generator == second.generator and first.corpus != second.corpus
    other = bundled_corpus("essen")
    import_pieces(other, [SourcePiece("x.mid", "x", fresh(9))])
    with pytest.raises(ImportRefused, match="imitating 'bach'"):
        import_generated(GeneratorInfo("Music Transformer", "2", "", "essen"), [])
    with pytest.raises(ImportRefused, match="already reported as 'Music Transformer 2'"):
        import_generated(GeneratorInfo("Music Transformer 2", "", "", "bach"), [])
