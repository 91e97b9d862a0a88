"""Launching from the dashboard: a training run and a generation batch, their pages, stop/resume."""

import pytest
from django.urls import reverse

from generation.models import GenerationBatch, TrainingRun
from generation.models.runs import BATCH_STOPPED, STOPPED, Status
from generation.tasks.sampling import create_generation_batch, generate_batch
from generation.tasks.training import create_training_run, train_run
from generation.training import TrainConfig
from surveys.models import Stimulus
from tests.dashboard.helpers import (  # noqa: F401 - fixtures
    TINY_RUN,
    researcher_fixture,
    small_corpus_fixture,
)
from tests.surveys.factories import make_stimuli

TINY_CONFIG = {
    "model": "roll_lstm",
    "epochs": 2,
    "batch_size": 8,
    "hidden_size": 8,
    "dense_size": 8,
    "window": 8,
    "stride": 4,
    "max_windows": 16,
    "device": "cpu",
}


@pytest.fixture
def trained_run(client, researcher, small_corpus, eager_celery) -> TrainingRun:
    response = client.post(reverse("dashboard:run-new"), TINY_RUN | {"corpus": "mini"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    return TrainingRun.objects.get()


@pytest.mark.django_db
def test_a_launched_run_trains_and_its_page_draws_the_learning_curves(client, trained_run):
    assert trained_run.status == Status.SUCCEEDED, trained_run.error
    assert trained_run.task_id
    assert len(trained_run.history) == 2
    page = client.get(reverse("dashboard:run", args=[trained_run.pk])).content.decode()
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3  # loss, F1, NLL
    assert "previous step alone" in page  # the NLL chart's second baseline
    assert f"step before alone): {trained_run.previous_step_nll:.4f}" in page
    assert "Generate from this run" in page
    progress = client.get(reverse("dashboard:run-progress", args=[trained_run.pk])).json()
    assert progress["state"] == "done" and progress["percent"] == 100.0


@pytest.mark.django_db
def test_a_bad_training_form_changes_nothing(client, researcher, small_corpus):
    response = client.post(
        reverse("dashboard:run-new"), TINY_RUN | {"corpus": "mini", "epochs": "0"}
    )
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 1" in response.content.decode()
    assert not TrainingRun.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("loss", ["focal", "bce"])
def test_a_token_run_with_a_roll_loss_is_refused_before_it_is_queued(
    client, researcher, small_corpus, loss
):
    form = TINY_RUN | {"corpus": "mini", "model": "token_lstm", "loss": loss}
    response = client.post(reverse("dashboard:run-new"), form)
    assert response.status_code == 400
    assert "the token model predicts one token a step: use loss ce" in response.content.decode()
    assert not TrainingRun.objects.exists()


@pytest.mark.django_db
def test_a_corpus_without_training_pieces_is_refused(client, researcher, small_corpus):
    small_corpus.pieces.filter(split="train").update(split="test")
    response = client.post(reverse("dashboard:run-new"), TINY_RUN | {"corpus": "mini"})
    assert response.status_code == 400
    assert "has no training pieces" in response.content.decode()
    assert not TrainingRun.objects.exists()


@pytest.mark.django_db
def test_a_batch_generates_and_each_sample_can_be_heard_and_seen(client, trained_run):
    form = {
        "run": trained_run.pk,
        "n_pieces": 3,
        "bars": 2,
        "beats_per_bar": 4,
        "seed_strategy": "random",
        "sampling_mode": "",
        "temperature": 1.0,
        "threshold": 0.5,
        "random_seed": 7,
    }
    response = client.post(reverse("dashboard:batch-new"), form)
    assert response.status_code == 302
    batch = GenerationBatch.objects.get()
    assert batch.status == Status.SUCCEEDED, batch.error
    page = client.get(reverse("dashboard:batch", args=[batch.pk])).content.decode()
    assert "Longest verbatim" in page and "flagged as copying" in page
    sample = batch.samples.exclude(piece=None).first()
    if sample is None:
        pytest.skip("the tiny untrained model sampled only silence")
    piece_page = client.get(reverse("dashboard:piece", args=[sample.piece_id])).content.decode()
    assert 'class="roll"' in piece_page
    audio = client.get(reverse("dashboard:piece-audio", args=[sample.piece_id]))
    assert audio["Content-Type"] == "audio/mpeg"
    assert len(b"".join(audio.streaming_content)) > 1000


@pytest.mark.django_db
def test_a_batch_from_a_run_without_checkpoint_is_refused(client, researcher, small_corpus):
    run = TrainingRun.objects.create(
        corpus=small_corpus, model_kind="roll_lstm", config={}, status=Status.SUCCEEDED
    )
    response = client.post(
        reverse("dashboard:batch-new"),
        {
            "run": run.pk,
            "n_pieces": 2,
            "bars": 2,
            "beats_per_bar": 4,
            "seed_strategy": "zeros",
            "temperature": 1,
            "threshold": 0.5,
            "random_seed": 0,
        },
    )
    assert response.status_code == 400
    assert "has no checkpoint yet" in response.content.decode()
    assert not GenerationBatch.objects.exists()


@pytest.mark.django_db
def test_a_stopped_run_resumes_and_finishes(client, researcher, small_corpus, eager_celery):
    config = TrainConfig(**{k: v for k, v in TINY_CONFIG.items()})
    run = create_training_run(small_corpus, config, steps_per_beat=2)
    TrainingRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, task_id="gone-task")
    client.post(reverse("dashboard:run-stop", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == Status.FAILED and run.error == STOPPED
    page = client.get(reverse("dashboard:run", args=[run.pk])).content.decode()
    assert "Resume from the last checkpoint" in page
    client.post(reverse("dashboard:run-resume", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.error
    assert [e["epoch"] for e in run.history] == [1, 2]


@pytest.mark.django_db
def test_a_stopped_batch_is_skipped_by_its_message_and_runs_again_with_the_same_seed(
    client, trained_run
):
    batch = create_generation_batch(trained_run, n_pieces=2, bars=1, random_seed=3)
    page = client.get(reverse("dashboard:batch", args=[batch.pk])).content.decode()
    assert 'value="stop"' in page and 'value="restart"' not in page
    response = client.post(reverse("dashboard:batch", args=[batch.pk]), {"action": "stop"})
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == Status.FAILED and batch.error == BATCH_STOPPED
    assert generate_batch.apply(args=[batch.pk]).get()["skipped"]
    assert not batch.samples.exists()
    page = client.get(reverse("dashboard:batch", args=[batch.pk])).content.decode()
    assert "Run again (same seed)" in page and 'value="stop"' not in page
    client.post(reverse("dashboard:batch", args=[batch.pk]), {"action": "restart"})
    batch.refresh_from_db()
    assert batch.status == Status.SUCCEEDED, batch.error
    assert batch.samples.count() == 2


@pytest.mark.django_db
def test_a_finished_batch_does_not_stop(client, trained_run):
    batch = create_generation_batch(trained_run, n_pieces=1, bars=1)
    GenerationBatch.objects.filter(pk=batch.pk).update(status=Status.SUCCEEDED)
    response = client.post(
        reverse("dashboard:batch", args=[batch.pk]), {"action": "stop"}, follow=True
    )
    assert "only a queued or running job stops" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == Status.SUCCEEDED and not batch.error


@pytest.mark.django_db
def test_a_stop_holds_when_the_broker_cannot_tell_the_worker(
    client, researcher, small_corpus, monkeypatch
):
    from kombu.exceptions import OperationalError

    from worker.celery_app import app

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(app.control, "revoke", refuse)
    run = create_training_run(small_corpus, TrainConfig(**TINY_CONFIG), steps_per_beat=2)
    TrainingRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, task_id="its-task")
    response = client.post(reverse("dashboard:run-stop", args=[run.pk]), follow=True)
    assert "the broker cannot be reached" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Status.FAILED and run.error == STOPPED
    assert train_run.apply(args=[run.pk], task_id="its-task").get()["skipped"]


@pytest.mark.django_db
def test_a_queued_job_of_a_stopped_run_does_not_train_it(client, researcher, small_corpus):
    run = create_training_run(small_corpus, TrainConfig(**TINY_CONFIG), steps_per_beat=2)
    client.post(reverse("dashboard:run-stop", args=[run.pk]))
    outcome = train_run.apply(args=[run.pk]).get()
    run.refresh_from_db()
    assert outcome["skipped"] and run.error == STOPPED and not run.history


@pytest.mark.django_db
def test_only_a_failed_run_resumes(client, researcher, small_corpus):
    run = create_training_run(small_corpus, TrainConfig(**TINY_CONFIG), steps_per_beat=2)
    response = client.post(reverse("dashboard:run-resume", args=[run.pk]), follow=True)
    assert "only a queued job whose message was lost is queued again" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Status.PENDING and not run.task_id


@pytest.mark.django_db
def test_rendering_human_test_pieces_from_the_stimuli_page(
    client, researcher, small_corpus, eager_celery
):
    response = client.post(
        reverse("dashboard:stimuli"), {"corpus": "mini", "split": "test", "n": 5, "bars": 2}
    )
    assert response.status_code == 302
    stimulus = Stimulus.objects.get()
    assert stimulus.status == Stimulus.Status.READY, stimulus.error
    assert stimulus.source_kind == Stimulus.SourceKind.HUMAN
    page = client.get(reverse("dashboard:stimuli")).content.decode()
    assert "render mini test (1 pieces, 2 bars)" in page
    assert "1 ready" in page
    audio = client.get(reverse("dashboard:stimulus-audio", args=[stimulus.pk]))
    assert audio["Content-Type"] == "audio/mpeg"


@pytest.mark.django_db
def test_a_render_form_needs_exactly_one_source(client, researcher, small_corpus):
    response = client.post(reverse("dashboard:stimuli"), {"split": "test", "bars": 8})
    assert response.status_code == 400
    assert "Choose either a generation batch or a corpus." in response.content.decode()


@pytest.mark.django_db
def test_a_run_at_its_marginal_baseline_is_called_unlearned_down_to_the_stimuli_page(
    client, researcher
):
    stimuli = make_stimuli(1, {"roll_lstm": 1})
    batch = GenerationBatch.objects.get()
    run = batch.run
    run.status, run.best_epoch, run.baseline_nll = Status.SUCCEEDED, 1, 10.0
    run.history = [{"epoch": 1, "valid_nll": 9.9, "train_nll": 9.95, "baseline_nll": 10.0}]
    run.save()
    warning = "This model has not learned from its input."
    for name, args in [("run", [run.pk]), ("batch", [batch.pk]), ("stimuli", [])]:
        page = client.get(reverse(f"dashboard:{name}", args=args)).content.decode()
        assert warning in page, name
    assert (
        "marginal baseline" in client.get(reverse("dashboard:run", args=[run.pk])).content.decode()
    )
    assert "not learned" in client.get(reverse("dashboard:runs")).content.decode()

    run.history[0]["valid_nll"] = 9.0  # 10% below the baseline: it learned
    run.save()
    assert warning not in client.get(reverse("dashboard:stimuli")).content.decode()
    assert stimuli[1].source_label == "roll_lstm"
