"""Rendering wired to the database: sources, random names, idempotence, refusals, fan-out."""

import re

import pytest
from django.core.management import call_command

from generation.midi_files import midi_bytes
from generation.models import Corpus, GeneratedPiece, GenerationBatch, Piece, TrainingRun
from surveys.models import Stimulus
from surveys.tasks.stimuli import pieces_to_render, render_piece, render_stimuli
from tests.audio.helpers import SHORT, human_like, machine_like

pytestmark = pytest.mark.django_db
PARAMS = SHORT.as_dict()
RANDOM_NAME = re.compile(r"^stimuli/[A-Za-z0-9_-]{24}\.(mp3|ogg)$")


def add_piece(corpus: Corpus, name: str, data: bytes, split: str = "test") -> Piece:
    piece = Piece(
        corpus=corpus, name=name, content_hash=name, split=split, n_notes=1, duration_seconds=1
    )
    piece.store_midi(data)
    piece.save()
    return piece


@pytest.fixture
def human_piece() -> Piece:
    bach = Corpus.objects.create(slug="bach", title="Bach chorales", source=Corpus.Source.BUNDLED)
    return add_piece(bach, "bach/bwv66.6", midi_bytes(human_like()))


@pytest.fixture
def machine_piece(human_piece) -> Piece:
    generated = Corpus.objects.create(
        slug="batch-1", title="batch 1", source=Corpus.Source.GENERATED
    )
    run = TrainingRun.objects.create(corpus=human_piece.corpus, model_kind="seq2seq", config={})
    batch = GenerationBatch.objects.create(
        run=run, corpus=generated, n_pieces=1, bars=10, seed_strategy="zeros",
        sampling_mode="threshold",
    )  # fmt: skip
    piece = add_piece(generated, "sample-0", midi_bytes(machine_like()))
    GeneratedPiece.objects.create(
        batch=batch, index=0, piece=piece, n_notes=1, longest_verbatim_steps=0,
        longest_verbatim_beats=0, ngram_steps=8, ngram_share=0, parameters={},
    )  # fmt: skip
    return piece


def test_human_and_machine_stimuli_are_recorded_with_their_source_and_match(
    human_piece, machine_piece
):
    human, machine = render_piece(human_piece.pk, PARAMS), render_piece(machine_piece.pk, PARAMS)
    assert (human.status, human.source_kind, human.source_label) == ("ready", "human", "human")
    assert (machine.status, machine.source_kind, machine.source_label) == (
        "ready", "machine", "seq2seq",
    )  # fmt: skip
    assert human.duration_seconds == machine.duration_seconds
    assert abs(human.loudness_lufs - machine.loudness_lufs) < 0.5
    assert human.audio_mp3.size == machine.audio_mp3.size
    assert human.audio_ogg.size == machine.audio_ogg.size
    assert human.facts["n_samples"] == machine.facts["n_samples"]
    assert human.roll_png.read(4) == b"\x89PNG"


def test_stored_names_are_random_and_reveal_nothing(human_piece, machine_piece):
    stimuli = [render_piece(p.pk, PARAMS) for p in (human_piece, machine_piece)]
    names = [f.name for s in stimuli for f in (s.audio_mp3, s.audio_ogg, s.roll_png)]
    assert len({n.rsplit(".", 1)[0] for n in names}) == 4  # mp3/ogg pair per stimulus, png apart
    for stimulus in stimuli:
        for field in (stimulus.audio_mp3, stimulus.audio_ogg):
            assert RANDOM_NAME.match(field.name), field.name
            for clue in ("bach", "bwv", "sample", "batch", "seq2seq", "human", "machine"):
                assert clue not in field.name.lower()
            assert stimulus.token not in field.name


def test_rendering_again_changes_nothing(human_piece):
    first = render_piece(human_piece.pk, PARAMS)
    again = render_piece(human_piece.pk, PARAMS)
    assert again.pk == first.pk and again.audio_mp3.name == first.audio_mp3.name
    assert Stimulus.objects.count() == 1


def test_other_settings_make_another_stimulus(human_piece):
    render_piece(human_piece.pk, PARAMS)
    other = render_piece(human_piece.pk, PARAMS | {"release_seconds": 0.75})
    assert other.status == "ready" and Stimulus.objects.count() == 2


def test_corrupt_midi_is_refused_with_a_clear_reason_and_no_files(human_piece):
    broken = add_piece(human_piece.corpus, "broken", b"MThd\x00\x00\x00\x06garbage")
    stimulus = render_piece(broken.pk, PARAMS)
    assert stimulus.status == "refused"
    assert "not a readable MIDI file" in stimulus.error
    assert not stimulus.audio_mp3 and not stimulus.audio_ogg


def test_too_short_piece_is_refused(human_piece):
    short = add_piece(human_piece.corpus, "short", midi_bytes(machine_like(steps=8)))
    stimulus = render_piece(short.pk, PARAMS)
    assert stimulus.status == "refused" and "too short" in stimulus.error


def test_render_command_renders_a_corpus_split_in_the_foreground(human_piece, capsys):
    add_piece(human_piece.corpus, "training piece", midi_bytes(human_like(seed=2)), "train")
    call_command("render", corpus="bach", split="test", n=32, bars=2)
    call_command("render", corpus="bach", split="test", n=32, bars=2)  # idempotent
    assert Stimulus.objects.count() == 1
    assert Stimulus.objects.get().piece == human_piece
    assert "1 ready" in capsys.readouterr().out


def test_render_command_renders_a_generation_batch(machine_piece):
    batch = GenerationBatch.objects.get()
    call_command("render", batch=batch.pk, bars=2)
    assert Stimulus.objects.get().source_kind == "machine"


@pytest.mark.parametrize("beats, share", [(8.0, 0.1), (2.0, 0.5)])
def test_copies_of_the_training_split_are_left_out_unless_asked_for(machine_piece, beats, share):
    machine_piece.generations.update(longest_verbatim_beats=beats, ngram_share=share)
    batch = GenerationBatch.objects.get()
    assert not pieces_to_render(batch.pk).exists()
    with pytest.raises(Exception, match="no pieces to render"):
        call_command("render", batch=batch.pk, bars=2)
    call_command("render", batch=batch.pk, bars=2, include_copies=True)
    assert Stimulus.objects.get().piece == machine_piece


def test_render_command_explains_bad_input(db):
    with pytest.raises(Exception, match="there is no corpus 'nope'"):
        call_command("render", corpus="nope")
    with pytest.raises(Exception, match="bad stimulus parameters"):
        call_command("render", corpus="nope", params='{"excerpt": {"bars": 0}}')


def test_batch_task_fans_out_one_task_per_piece(human_piece, machine_piece, eager_celery):
    result = render_stimuli.apply(args=([human_piece.pk, machine_piece.pk], PARAMS)).get()
    assert result["pieces"] == 2
    assert sorted(Stimulus.objects.values_list("status", flat=True)) == ["ready", "ready"]
