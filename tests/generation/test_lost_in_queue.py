"""A queued job whose message the broker lost: shown as "lost in the queue" with a button to
queue it again, and queued again once, by that button or by a worker starting. The real broker
(Redis) holds the messages here; tests/worker/test_lost_jobs.py runs the real worker."""

from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from dashboard.jobs import LOST_IN_QUEUE, describe_row, recent_queued_ids
from generation.models import TrainingRun
from generation.tasks.queueing import send_to_queue
from generation.tasks.reconciling import queue_again, reconcile
from generation.tasks.training import create_training_run, train_run
from generation.training import TrainConfig
from tests.dashboard.helpers import (  # noqa: F401 - fixtures
    researcher_fixture,
    small_corpus_fixture,
)
from tests.dashboard.test_jobs import TINY_CONFIG
from worker.celery_app import GPU_QUEUE

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker():
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete(GPU_QUEUE)
    recent_queued_ids.forget()
    yield client
    client.delete(GPU_QUEUE)  # no message of these rows may reach another test's worker
    recent_queued_ids.forget()


@pytest.fixture
def queued(small_corpus, broker) -> TrainingRun:
    """A run queued a while ago, its message in the broker."""
    run = create_training_run(small_corpus, TrainConfig(**TINY_CONFIG), steps_per_beat=2)
    send_to_queue(run, train_run)
    long_ago = timezone.now() - timedelta(hours=1)
    TrainingRun.objects.filter(pk=run.pk).update(created=long_ago, attempt_at=long_ago)
    return TrainingRun.objects.get(pk=run.pk)


def _lose_the_message(broker) -> None:
    broker.delete(GPU_QUEUE)
    recent_queued_ids.forget()


def test_a_queued_run_is_queued_while_its_message_waits(queued):
    assert describe_row(queued).state == "queued"


def test_a_run_whose_message_is_gone_is_lost_in_the_queue_and_queued_again_once(
    client, researcher, queued, broker
):
    _lose_the_message(broker)
    job = describe_row(queued)
    assert job.state == LOST_IN_QUEUE and job.finished
    assert job.words.startswith("lost in the queue")
    page = client.get(reverse("dashboard:run", args=[queued.pk])).content.decode()
    assert "Queue it again" in page and "no longer in the broker" in page

    url = reverse("dashboard:run-resume", args=[queued.pk])
    first = client.post(url, follow=True).content.decode()
    second = client.post(url, follow=True).content.decode()
    assert "queued again: its message had been lost" in first
    assert "was not queued again" in second
    row = TrainingRun.objects.get(pk=queued.pk)
    assert row.task_id != queued.task_id and broker.llen(GPU_QUEUE) == 1
    assert describe_row(row).state == "queued"


def test_a_worker_starting_queues_lost_jobs_again_once(queued, broker):
    _lose_the_message(broker)
    assert reconcile() == [queued]
    assert reconcile() == []  # the new message waits; nothing is lost any more
    assert broker.llen(GPU_QUEUE) == 1
    # Two workers that read the same lost row at the same moment send it once.
    stale = TrainingRun.objects.get(pk=queued.pk)
    _lose_the_message(broker)
    TrainingRun.objects.filter(pk=stale.pk).update(attempt_at=stale.created)
    stale.refresh_from_db()
    other = TrainingRun.objects.get(pk=stale.pk)
    assert queue_again(stale) and not queue_again(other)
    assert broker.llen(GPU_QUEUE) == 1


def test_a_job_just_queued_or_a_broker_out_of_reach_is_never_called_lost(
    small_corpus, broker, settings
):
    run = create_training_run(small_corpus, TrainConfig(**TINY_CONFIG), steps_per_beat=2)
    TrainingRun.objects.filter(pk=run.pk).update(task_id="no-such-message")
    assert describe_row(TrainingRun.objects.get(pk=run.pk)).state == "queued"  # in its grace
    long_ago = timezone.now() - timedelta(hours=1)
    TrainingRun.objects.filter(pk=run.pk).update(created=long_ago, attempt_at=long_ago)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    recent_queued_ids.forget()
    assert describe_row(TrainingRun.objects.get(pk=run.pk)).state == "queued"
    assert reconcile() == []
