"""A job whose worker keeps being lost is failed after JOB_MAX_REDELIVERIES redeliveries, with
why and how to resume it, instead of going back to the queue forever."""

import pytest
from django.urls import reverse

from generation.models import TrainingRun
from generation.models.runs import Status
from generation.tasks.training import create_training_run, train_run
from generation.training import TrainConfig
from tests.dashboard.helpers import (  # noqa: F401 - fixtures
    researcher_fixture,
    small_corpus_fixture,
)
from tests.dashboard.test_jobs import TINY_CONFIG

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(small_corpus) -> TrainingRun:
    run = create_training_run(small_corpus, TrainConfig(**TINY_CONFIG), steps_per_beat=2)
    TrainingRun.objects.filter(pk=run.pk).update(task_id="the-message")
    return run


def _delivered_then_lost(run: TrainingRun) -> str:
    """One delivery of the row's message: it claims the row and starts; its worker dies."""
    reason = TrainingRun.claim(run.pk, "the-message")
    if not reason:
        TrainingRun.objects.filter(pk=run.pk).update(status=Status.RUNNING)
    return reason


def test_deliveries_are_counted_and_the_fourth_redelivery_fails_the_row(run, settings):
    assert settings.JOB_MAX_REDELIVERIES == 3
    for delivery in range(1, 5):  # the first delivery and three redeliveries run
        assert _delivered_then_lost(run) == ""
        assert TrainingRun.objects.get(pk=run.pk).deliveries == delivery
    reason = _delivered_then_lost(run)
    row = TrainingRun.objects.get(pk=run.pk)
    assert row.status == Status.FAILED and row.error == reason
    assert "lost 4 times in a row" in reason and "out-of-memory" in reason
    assert "resume it from its dashboard page" in reason
    # The message that comes back once more is acknowledged and leaves the row alone.
    assert TrainingRun.claim(run.pk, "the-message") == "already failed"


def test_the_cap_is_a_setting(run, settings):
    settings.JOB_MAX_REDELIVERIES = 0
    assert _delivered_then_lost(run) == ""
    assert "lost 1 time in a row" in _delivered_then_lost(run)


def test_a_finished_delivery_is_not_counted_as_lost(run):
    outcome = train_run.apply(args=[run.pk], task_id="the-message").get()
    assert "skipped" not in outcome
    row = TrainingRun.objects.get(pk=run.pk)
    assert row.status == Status.SUCCEEDED and row.deliveries == 1


def test_resuming_a_run_failed_this_way_counts_its_deliveries_afresh(
    client, researcher, run, settings, monkeypatch
):
    settings.JOB_MAX_REDELIVERIES = 0
    _delivered_then_lost(run)
    _delivered_then_lost(run)
    page = client.get(reverse("dashboard:run", args=[run.pk])).content.decode()
    assert "lost 1 time in a row" in page and "Resume from the last checkpoint" in page
    sent = []
    monkeypatch.setattr(train_run, "apply_async", lambda args, task_id: sent.append(task_id))
    client.post(reverse("dashboard:run-resume", args=[run.pk]))
    row = TrainingRun.objects.get(pk=run.pk)
    assert row.status == Status.PENDING and row.deliveries == 0
    assert sent == [row.task_id] and row.task_id != "the-message"
