"""Jobs whose worker died: who owns a row (the ownership rule), how the dashboard tells an
orphaned job from a running one, and the restart that hands the row to a new task.

Celery's inspect RPC is stubbed here; tests/worker/test_job_ownership.py asks real workers.
"""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.jobs import NO_WORKER, ORPHANED, describe_row, recent_live_tasks
from generation.models import GenerationBatch, TrainingRun
from generation.models.runs import STOPPED, Status, skip_reason
from generation.tasks.queueing import QueueUnavailable, send_to_queue
from generation.tasks.sampling import execute_generation_batch, generate_batch
from generation.tasks.training import (
    create_training_run,
    enqueue_training_run,
    execute_training_run,
    train_run,
)
from generation.training import TrainConfig
from tests.dashboard.helpers import (  # noqa: F401 - fixtures
    researcher_fixture,
    small_corpus_fixture,
)
from tests.dashboard.test_jobs import TINY_CONFIG
from worker.celery_app import app
from worker.progress import PROGRESS_STATE

LONG_AGO = timezone.now() - timedelta(hours=1)


class FakeInspect:
    """Celery's inspect RPC as live workers would answer it: {worker: [task info, ...]}."""

    def __init__(self, active: dict | None, reserved: dict | None):
        self.replies = {"active": active, "reserved": reserved}
        self.calls: list[str] = []

    def __call__(self, **options):
        return self

    def active(self):
        self.calls.append("active")
        return self.replies["active"]

    def reserved(self):
        self.calls.append("reserved")
        return self.replies["reserved"]


@pytest.fixture(autouse=True)
def _fresh_picture_of_the_workers():
    recent_live_tasks.forget()
    yield
    recent_live_tasks.forget()


@pytest.fixture
def workers(monkeypatch):
    """Sets what the workers answer: workers(active={...}, reserved={...}) or workers(None)."""

    def answer(active=None, reserved=None) -> FakeInspect:
        fake = FakeInspect(active, reserved)
        monkeypatch.setattr(app.control, "inspect", fake)
        recent_live_tasks.forget()
        return fake

    return answer


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """Messages the gpu tasks would send, kept here instead of on the shared broker; each
    records the task id the row held when its message left."""
    messages = []

    def capture(task):
        def apply_async(args, task_id, **options):
            row = (TrainingRun if task is train_run else GenerationBatch).objects.get(pk=args[0])
            messages.append({"task": task.name, "id": task_id, "row_task_id": row.task_id})

        return apply_async

    for task in (train_run, generate_batch):
        monkeypatch.setattr(task, "apply_async", capture(task))
    return messages


@pytest.fixture
def run(small_corpus) -> TrainingRun:
    return create_training_run(small_corpus, TrainConfig(**TINY_CONFIG), steps_per_beat=2)


def running(row, task_id: str = "lost-task", since=LONG_AGO):
    """The row as a worker left it: running under task_id, its attempt begun at `since`."""
    type(row).objects.filter(pk=row.pk).update(
        status=Status.RUNNING, task_id=task_id, attempt_at=since, created=since, started=since
    )
    row.refresh_from_db()
    return row


def row_state(row) -> dict:
    return type(row).objects.filter(pk=row.pk).values().get()


# The ownership rule


def test_the_task_a_row_names_runs_it_and_any_other_task_skips_it():
    assert skip_reason(Status.RUNNING, "", "new-id", "new-id") == ""
    assert skip_reason(Status.PENDING, "", "new-id", "new-id") == ""
    assert skip_reason(Status.RUNNING, "", "new-id", "old-id") == "taken over by task new-id"
    assert skip_reason(Status.PENDING, "", "", "any-id") == ""  # queued without storing an id


def test_a_finished_or_stopped_row_is_never_run_by_a_message():
    assert skip_reason(Status.SUCCEEDED, "", "t", "t") == "already succeeded"
    assert skip_reason(Status.FAILED, "boom", "t", "t") == "already failed"
    assert skip_reason(Status.FAILED, STOPPED, "t", "t") == "stopped by the researcher"


@pytest.mark.django_db
def test_a_stale_message_of_a_restarted_run_leaves_the_row_untouched(run):
    running(run, task_id="new-attempt")
    before = row_state(run)
    outcome = train_run.apply(args=[run.pk], task_id="old-attempt").get()
    assert outcome["skipped"] == "taken over by task new-attempt"
    assert row_state(run) == before


@pytest.mark.django_db
def test_a_stale_message_of_a_restarted_batch_leaves_the_row_untouched(run):
    batch = GenerationBatch.objects.create(
        run=run, n_pieces=2, bars=1, seed_strategy="zeros", sampling_mode="threshold"
    )
    running(batch, task_id="new-attempt")
    before = row_state(batch)
    outcome = generate_batch.apply(args=[batch.pk], task_id="old-attempt").get()
    assert outcome["skipped"] == "taken over by task new-attempt"
    assert row_state(batch) == before


@pytest.mark.django_db
@pytest.mark.parametrize("epoch", [1, TINY_CONFIG["epochs"]])  # the last: before test scoring
def test_an_attempt_whose_run_is_restarted_meanwhile_stops_and_leaves_the_row_alone(run, epoch):
    running(run, task_id="first-attempt")
    run.refresh_from_db()

    def restarted_after_the_epoch(metrics: dict) -> None:
        if metrics["epoch"] == epoch:
            TrainingRun.objects.filter(pk=run.pk).update(
                status=Status.PENDING, task_id="second-attempt", message="restarted"
            )

    execute_training_run(run, on_epoch=restarted_after_the_epoch)
    after = row_state(run)
    assert after["task_id"] == "second-attempt" and after["status"] == Status.PENDING
    assert after["message"] == "restarted" and len(after["history"]) == epoch
    assert after["best_epoch"] is None and after["test_metrics"] == {}


@pytest.mark.django_db
def test_an_attempt_that_fails_records_why_on_its_row_and_raises(run):
    running(run, task_id="only-attempt")
    run.refresh_from_db()

    def fails(metrics: dict) -> None:
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        execute_training_run(run, on_epoch=fails)
    after = row_state(run)
    assert (after["status"], after["message"]) == (Status.FAILED, "failed")
    assert after["error"] == "RuntimeError: the disk is full"
    assert after["task_id"] == "only-attempt"


@pytest.mark.django_db
def test_an_attempt_stopped_by_the_researcher_does_not_undo_the_stop(run):
    running(run, task_id="only-attempt")
    run.refresh_from_db()

    def stopped_after_the_first_epoch(metrics: dict) -> None:
        # what the dashboard's stop does before the worker's process is terminated
        TrainingRun.objects.filter(pk=run.pk).update(
            status=Status.FAILED, error=STOPPED, message="stopped"
        )

    execute_training_run(run, on_epoch=stopped_after_the_first_epoch)
    after = row_state(run)
    assert (after["status"], after["error"], after["message"]) == (
        Status.FAILED,
        STOPPED,
        "stopped",
    )
    assert len(after["history"]) == 1


@pytest.mark.django_db
def test_a_batch_restarted_while_its_first_attempt_samples_is_left_to_the_new_owner(run):
    train_run.apply(args=[run.pk], task_id="trained").get()
    batch = GenerationBatch.objects.create(
        run=run, n_pieces=2, bars=1, seed_strategy="zeros", sampling_mode="threshold"
    )
    running(batch, task_id="first-attempt")

    def restarted_while_sampling(done: int, total: int) -> None:
        GenerationBatch.objects.filter(pk=batch.pk).update(
            status=Status.PENDING, task_id="second-attempt", message="restarted"
        )

    execute_generation_batch(batch, on_step=restarted_while_sampling)
    after = row_state(batch)
    assert after["task_id"] == "second-attempt" and after["status"] == Status.PENDING
    assert after["message"] == "restarted" and after["corpus_id"] is None
    assert not batch.samples.exists()


@pytest.mark.django_db
def test_a_redelivery_of_the_owning_task_after_a_crash_resumes_the_run(run):
    running(run, task_id="same-attempt")
    outcome = train_run.apply(args=[run.pk], task_id="same-attempt").get()
    run.refresh_from_db()
    assert "skipped" not in outcome
    assert run.status == Status.SUCCEEDED, run.error
    assert run.task_id == "same-attempt" and run.attempt_at > LONG_AGO


@pytest.mark.django_db
def test_a_run_queued_without_a_stored_task_id_is_taken_by_its_first_delivery(run):
    assert not run.task_id
    train_run.apply(args=[run.pk], task_id="first").get()
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.error
    assert run.task_id == "first"


@pytest.mark.django_db
def test_the_task_id_is_on_the_row_before_the_message_leaves(run, sent):
    task_id = enqueue_training_run(run)
    run.refresh_from_db()
    assert sent == [{"task": "gpu.train", "id": task_id, "row_task_id": task_id}]
    assert run.task_id == task_id and run.attempt_at is not None


@pytest.mark.django_db
def test_a_refused_message_marks_the_row_failed_so_it_can_be_queued_again(run, monkeypatch):
    from kombu.exceptions import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(train_run, "apply_async", refuse)
    with pytest.raises(QueueUnavailable, match="broker cannot be reached"):
        send_to_queue(run, train_run)
    run.refresh_from_db()
    assert run.status == Status.FAILED and "could not be queued" in run.error


# Orphan detection


@pytest.mark.django_db
def test_a_running_run_no_live_worker_holds_is_orphaned(run, workers):
    running(run)
    workers(active={"gpu@box": [{"id": "other-task"}]}, reserved={"gpu@box": []})
    job = describe_row(run)
    assert job.state == ORPHANED and job.finished
    assert job.words == "orphaned: its worker is gone (no live worker holds its task)"


@pytest.mark.django_db
@pytest.mark.parametrize("held_as", ["active", "reserved"])
def test_a_run_a_live_worker_holds_is_running(run, workers, held_as):
    running(run)
    replies = {"active": {"gpu@box": []}, "reserved": {"gpu@box": []}}
    replies[held_as]["gpu@box"].append({"id": "lost-task"})
    workers(**replies)
    assert describe_row(run).state == "running"


@pytest.mark.django_db
def test_a_run_within_its_grace_period_is_not_checked(run, workers):
    running(run, since=timezone.now() - timedelta(seconds=30))
    fake = workers(active={"gpu@box": []}, reserved={"gpu@box": []})
    assert describe_row(run).state == "running"
    assert fake.calls == []


@pytest.mark.django_db
def test_a_run_that_reported_progress_lately_is_running_even_if_no_worker_lists_it(run, workers):
    running(run)
    workers(active={"gpu@box": []}, reserved={"gpu@box": []})
    meta = {"done": 3, "total": 10, "message": "epoch 1/1", "updated": time.time() - 5}
    app.backend.store_result("lost-task", meta, PROGRESS_STATE)
    assert describe_row(run).state == "running"
    meta["updated"] = time.time() - 3600
    app.backend.store_result("lost-task", meta, PROGRESS_STATE)
    assert describe_row(run).state == ORPHANED


@pytest.mark.django_db
def test_the_grace_period_is_a_setting(run, workers, settings):
    settings.JOB_ORPHAN_GRACE_SECONDS = 10
    running(run, since=timezone.now() - timedelta(seconds=30))
    workers(active={"gpu@box": []}, reserved={"gpu@box": []})
    assert describe_row(run).state == ORPHANED


@pytest.mark.django_db
def test_when_no_worker_answers_the_page_says_so_instead_of_guessing(
    client, researcher, run, workers
):
    running(run)
    workers(active=None, reserved=None)
    job = describe_row(run)
    assert job.state == NO_WORKER and not job.finished
    page = client.get(reverse("dashboard:run", args=[run.pk])).content.decode()
    assert "no worker is running" in page
    assert "Restart from last checkpoint" not in page


@pytest.mark.django_db
def test_an_unreachable_broker_proves_nothing(run, settings):
    running(run)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    assert describe_row(run).state == "running"


@pytest.mark.django_db
def test_a_run_trained_in_the_foreground_is_not_called_orphaned(run, workers):
    running(run)
    run.take_for_foreground()
    workers(active={"gpu@box": []}, reserved={"gpu@box": []})
    assert describe_row(run).state == "running"
    run.release_foreground()  # the command died (Ctrl-C) and left the row running
    TrainingRun.objects.filter(pk=run.pk).update(attempt_at=LONG_AGO)
    run.refresh_from_db()
    assert not run.task_id and describe_row(run).state == ORPHANED


# What the researcher sees and does


@pytest.mark.django_db
def test_pages_and_lists_offer_a_restart_for_an_orphaned_run(client, researcher, run, workers):
    running(run)
    workers(active={"gpu@box": []}, reserved={"gpu@box": []})
    page = client.get(reverse("dashboard:run", args=[run.pk])).content.decode()
    assert "its worker is gone" in page and "Restart from last checkpoint" in page
    assert "data-progress-url" not in page  # nothing more happens without the researcher
    listing = client.get(reverse("dashboard:runs")).content.decode()
    assert "orphaned: its worker is gone" in listing
    assert reverse("dashboard:run-resume", args=[run.pk]) in listing
    progress = client.get(reverse("dashboard:run-progress", args=[run.pk])).json()
    assert progress["state"] == ORPHANED and progress["finished"]


@pytest.mark.django_db
def test_restarting_an_orphaned_run_hands_it_to_a_new_task(client, researcher, run, workers, sent):
    running(run)
    workers(active={"gpu@box": []}, reserved={"gpu@box": []})
    response = client.post(reverse("dashboard:run-resume", args=[run.pk]), follow=True)
    assert "continues from its last checkpoint" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Status.PENDING and run.task_id != "lost-task"
    assert sent == [{"task": "gpu.train", "id": run.task_id, "row_task_id": run.task_id}]
    # the lost attempt's message, handed out again by Redis, skips; the new one trains
    assert train_run.apply(args=[run.pk], task_id="lost-task").get()["skipped"]
    train_run.apply(args=[run.pk], task_id=run.task_id).get()
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.error


@pytest.mark.django_db
def test_a_run_a_live_worker_holds_is_not_restarted(client, researcher, run, workers, sent):
    running(run)
    workers(active={"gpu@box": [{"id": "lost-task"}]}, reserved={"gpu@box": []})
    response = client.post(reverse("dashboard:run-resume", args=[run.pk]), follow=True)
    assert "was not restarted" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Status.RUNNING and run.task_id == "lost-task" and not sent


@pytest.mark.django_db
def test_restarting_needs_a_login_and_a_csrf_token(researcher, run, workers, sent):
    running(run)
    workers(active={"gpu@box": []}, reserved={"gpu@box": []})
    url = reverse("dashboard:run-resume", args=[run.pk])
    assert Client().post(url).status_code == 302  # to the login page
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(researcher)
    assert guarded.post(url).status_code == 403
    run.refresh_from_db()
    assert run.task_id == "lost-task" and not sent


@pytest.mark.django_db
def test_an_orphaned_batch_restarts_from_its_page(client, researcher, run, workers, sent):
    batch = GenerationBatch.objects.create(
        run=run, n_pieces=2, bars=1, seed_strategy="zeros", sampling_mode="threshold"
    )
    running(batch)
    workers(active={"gpu@box": []}, reserved={"gpu@box": []})
    page = client.get(reverse("dashboard:batch", args=[batch.pk])).content.decode()
    assert "Run again (same seed)" in page
    listing = client.get(reverse("dashboard:batches")).content.decode()
    assert "orphaned: its worker is gone" in listing
    url = reverse("dashboard:batch", args=[batch.pk])
    assert client.post(url, {"action": "delete"}).status_code == 400
    client.post(url, {"action": "restart"})
    batch.refresh_from_db()
    assert batch.status == Status.PENDING and batch.task_id not in ("", "lost-task")
    assert [m["id"] for m in sent] == [batch.task_id]
    assert generate_batch.apply(args=[batch.pk], task_id="lost-task").get()["skipped"]
