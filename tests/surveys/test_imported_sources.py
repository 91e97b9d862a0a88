"""An external generator's imported pieces as a machine source: rendered by the one stimulus
path into excerpts that match the human ones, pooled and balanced by their batch, and as blind
to a participant as a built-in model's."""

import io
import zipfile

import pytest
from django.core.management import call_command
from django.test import Client

from generation.corpora import iter_zip
from generation.external import GeneratorInfo, import_generated
from generation.midi_files import midi_bytes
from generation.models import Corpus, GenerationBatch, Piece
from surveys.models import Participant, Stimulus, Study, Trial
from surveys.tasks.stimuli import pieces_to_render, render_piece
from tests.audio.helpers import SHORT, decode, human_like, machine_like
from tests.surveys.factories import FORBIDDEN_WORDS, make_attention_clips
from tests.surveys.helpers import assert_names_none, take_study

pytestmark = pytest.mark.django_db
PARAMS = SHORT.as_dict()
GENERATOR = GeneratorInfo("Zebrafinch", "v9.x", "https://example.org/zebrafinch-paper", "bach")
FILES = ("zf-first-output.mid", "zf-second-output.mid")


def human_piece(corpus: Corpus, seed: int) -> Piece:
    piece = Piece.from_midi(corpus, f"bach/bwv-{seed}", human_like(seed=seed), split="test")
    piece.store_midi(midi_bytes(human_like(seed=seed)))
    piece.save()
    return piece


@pytest.fixture(autouse=True)
def _answers_without_listening(settings):
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 60_000  # the walk answers without playing the sounds


@pytest.fixture
def rendered() -> tuple[list[Stimulus], list[Stimulus], GenerationBatch]:
    """Two held-out human excerpts and two from a zip imported as a batch, rendered alike."""
    bach = Corpus.objects.create(slug="bach", title="Bach", source=Corpus.Source.BUNDLED)
    humans = [human_piece(bach, seed) for seed in (0, 1)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for seed, name in enumerate(FILES, start=3):
            archive.writestr(f"outputs/{name}", midi_bytes(machine_like(seed=seed)))
    batch = import_generated(GENERATOR, iter_zip(buffer.getvalue(), "zebrafinch.zip"))
    human = [render_piece(p.pk, PARAMS) for p in humans]
    machine = [render_piece(p.pk, PARAMS) for p in pieces_to_render(batch.pk)]
    return human, machine, batch


def test_imported_excerpts_match_human_ones(rendered):
    human, machine, _ = rendered
    assert len(machine) == 2
    reference = human[0]
    _, reference_rate, _ = decode(reference.audio_mp3.read())
    for stimulus in [*human, *machine]:
        assert stimulus.status == "ready", stimulus.error
        assert stimulus.duration_seconds == reference.duration_seconds
        assert stimulus.facts["sample_rate"] == reference.facts["sample_rate"]
        assert stimulus.facts["n_samples"] == reference.facts["n_samples"]
        assert abs(stimulus.loudness_lufs - reference.loudness_lufs) < 0.5
        assert stimulus.audio_mp3.size == reference.audio_mp3.size
        assert stimulus.audio_ogg.size == reference.audio_ogg.size
        stimulus.audio_mp3.seek(0)
        assert decode(stimulus.audio_mp3.read())[1] == reference_rate
    assert {(s.source_kind, s.source_label) for s in machine} == {("machine", "Zebrafinch v9.x")}


def imported_study(slug: str, rendered) -> Study:
    human, machine, _ = rendered
    study = Study.objects.create(
        slug=slug,
        title="Listening study",
        consent_text="You may stop at any time.",
        trials_per_participant=4,
        attention_checks=1,
        headphone_trials=2,
        exclusion_rules={"headphone_min_correct": 0},
    )
    study.add_stimuli([*human, *machine])
    study.attention_clips.add(*make_attention_clips())
    study.open()
    return study


def test_an_imported_source_is_pooled_and_balanced_by_its_batch(rendered):
    study = imported_study("pool", rendered)
    batch = rendered[2]
    machine_items = study.items.filter(source_kind="machine")
    assert {(i.source, i.batch_id) for i in machine_items} == {("Zebrafinch v9.x", batch.pk)}
    assert {i.source_key for i in machine_items} == {f"Zebrafinch v9.x/{batch.pk}"}


def secrets_of(study: Study, batch: GenerationBatch) -> list[str]:
    """Every word that could tell an imported excerpt: the generator, its files and rows."""
    words = [*FORBIDDEN_WORDS, "zebrafinch", "v9.x", "example.org", "outputs/", *FILES]
    words.append(batch.corpus.slug)
    for stimulus in Stimulus.objects.filter(study_items__study=study).select_related("piece"):
        words += [stimulus.token, stimulus.piece.name, stimulus.piece.corpus.slug]
        for field in (stimulus.audio_mp3, stimulus.audio_ogg):
            words += [field.name, field.name.rsplit("/", 1)[-1]]
    return [w.lower() for w in words]


def test_nothing_a_participant_receives_names_an_imported_source(rendered):
    study = imported_study("blind", rendered)
    client = Client()
    seen: list = []
    take_study(client, study.slug, seen=seen)
    secrets = secrets_of(study, rendered[2])
    assert_names_none(seen, secrets)
    trials = Trial.objects.filter(participant__study=study, item__isnull=False)
    kinds = {t.item.stimulus.source_kind for t in trials}
    assert kinds == {"human", "machine"}
    for query in ("", "?f=ogg"):
        header_sets: dict[tuple, set] = {}
        for trial in trials:
            response = client.get(f"/a/{trial.audio_token}{query}")
            assert response.status_code == 200
            header_sets.setdefault(tuple(sorted(response.headers.items())), set()).add(
                trial.item.stimulus.source_kind
            )
        assert list(header_sets.values()) == [{"human", "machine"}]  # Content-Length too


def test_the_report_names_the_imported_source_by_its_generator(rendered, capsys):
    study = imported_study("report", rendered)
    for _ in range(2):
        take_study(Client(), study.slug)
    # The walk answers "a person" to every attention clip; keep everyone, as if they had passed.
    Participant.objects.filter(study=study).update(
        attention_passed=True, attention_failed=0, excluded=False, exclusion_reason=""
    )
    call_command("report", study.slug)
    out = capsys.readouterr().out
    assert "Zebrafinch v9.x" in out
