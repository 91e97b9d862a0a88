"""The BachBot recipe: a pair study of held-out chorales against a machine batch, rendered by
the one stimulus path, with score feedback and the experience question; a dry run prints the
report of simulated listeners and leaves nothing behind."""

import io

import pytest
from django.core.management import CommandError, call_command

from generation.midi_files import midi_bytes
from generation.models import Corpus, GeneratedPiece, GenerationBatch, TrainingRun
from surveys.models import Participant, Stimulus, Study
from tests.audio.helpers import human_like, machine_like
from tests.surveys.test_render_stimuli import add_piece

pytestmark = pytest.mark.django_db
SMALL = ["--pairs", "2", "--bars", "2", "--headphone-trials", "0"]


@pytest.fixture
def batch() -> GenerationBatch:
    bach = Corpus.objects.create(slug="bach", title="Bach chorales", source=Corpus.Source.BUNDLED)
    for i in range(3):
        add_piece(bach, f"bach/bwv{i}", midi_bytes(human_like(seed=i)))
    add_piece(bach, "bach/trained-on", midi_bytes(human_like(seed=9)), split="train")
    generated = Corpus.objects.create(slug="gen", title="batch", source=Corpus.Source.GENERATED)
    run = TrainingRun.objects.create(corpus=bach, model_kind="bachbot_lstm", config={})
    batch = GenerationBatch.objects.create(
        run=run, corpus=generated, n_pieces=3, bars=8, seed_strategy="zeros",
        sampling_mode="threshold",
    )  # fmt: skip
    for i in range(3):
        piece = add_piece(generated, f"sample-{i}", midi_bytes(machine_like(seed=i + 1)))
        GeneratedPiece.objects.create(
            batch=batch, index=i, piece=piece, n_notes=1, longest_verbatim_steps=0,
            longest_verbatim_beats=0, ngram_steps=8, ngram_share=0, parameters={},
        )  # fmt: skip
    return batch


def test_the_recipe_makes_and_opens_a_bachbot_style_pair_study(batch):
    out = io.StringIO()
    call_command("bachbot_study", "bachbot", "--batch", str(batch.pk), *SMALL, "--open", stdout=out)
    study = Study.objects.get(slug="bachbot")
    assert study.state == "open" and study.design == "pair"
    assert (study.trials_per_participant, study.show_score, study.ask_experience) == (2, 1, 1)
    assert study.title == "Which one was composed by a person?"
    kinds = sorted(study.items.values_list("source_kind", flat=True))
    assert kinds == ["human"] * 3 + ["machine"] * 3  # the trained-on chorale is left out
    assert {clip.design for clip in study.attention_clips.all()} == {"pair"}
    assert len(set(study.stimuli.values_list("duration_seconds", flat=True))) == 1
    assert "Open at /s/bachbot/" in out.getvalue()


def test_a_dry_run_reports_simulated_listeners_and_rolls_back(batch):
    out = io.StringIO()
    call_command(
        "bachbot_study", "dry", "--batch", str(batch.pk), *SMALL,
        "--simulate", "12", "--pc", "1", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "Pair (2AFC) study dry" in text and "24 pairs analysed from 12 participants" in text
    assert "bachbot_lstm" in text and "pc 1.000" in text
    assert "BachBot's table" in text and "rolled back" in text
    assert not Study.objects.exists() and not Participant.objects.exists()
    assert Stimulus.objects.filter(status="ready").count() == 6  # the renders are kept


def test_too_few_excerpts_is_a_clear_error_that_creates_nothing(batch):
    with pytest.raises(CommandError, match="3 human excerpts are ready; 5 pairs"):
        call_command("bachbot_study", "big", "--batch", str(batch.pk), "--bars", "2")
    assert not Study.objects.exists()
