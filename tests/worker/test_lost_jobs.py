"""Real worker processes on the real broker: a queued job survives the broker losing its
message (a worker starting queues it again, and so does a running one on its timer), and a job
whose worker is killed on every delivery is failed after JOB_MAX_REDELIVERIES instead of being
delivered forever."""

import os
import signal
import subprocess
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from generation.models import TrainingRun
from generation.models.runs import Status
from generation.tasks.queueing import send_to_queue
from generation.tasks.training import create_training_run, train_run
from generation.training import TrainConfig
from tests.dashboard.helpers import small_corpus_fixture  # noqa: F401 - fixture
from tests.dashboard.test_jobs import TINY_CONFIG
from tests.worker.processes import (
    needs_postgres,
    pool_children,
    start_worker,
    stop_worker,
    wait_for,
)
from worker.celery_app import GPU_QUEUE, app

pytestmark = pytest.mark.django_db(transaction=True)


def _start_worker(queue: str, name: str = "", **env: str) -> subprocess.Popen:
    needs_postgres()
    return start_worker(queue, name, MEDIA_ROOT=str(settings.MEDIA_ROOT), **env)


def _row(run: TrainingRun) -> TrainingRun:
    return TrainingRun.objects.get(pk=run.pk)


def _queued_long_ago(run: TrainingRun, **fields) -> None:
    """As if the row had waited past the grace period since it was queued."""
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_ORPHAN_GRACE_SECONDS + 60)
    TrainingRun.objects.filter(pk=run.pk).update(created=long_ago, attempt_at=long_ago, **fields)


def _runs_under_a_new_id(run: TrainingRun, lost_id: str) -> None:
    """The run, whose message went as `lost_id`, is sent again and a worker runs it once."""
    done = wait_for(
        lambda: _row(run).status in (Status.SUCCEEDED, Status.FAILED) and _row(run),
        what="the run to finish",
        seconds=180,
    )
    assert done.status == Status.SUCCEEDED, done.error
    assert done.task_id != lost_id and done.deliveries == 1


@pytest.fixture
def run(small_corpus) -> TrainingRun:
    return create_training_run(small_corpus, TrainConfig(**TINY_CONFIG), steps_per_beat=2)


def test_a_job_queued_before_the_broker_lost_its_message_runs_when_a_worker_starts(run):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    lost_id = send_to_queue(run, train_run)
    assert broker.llen(GPU_QUEUE) == 1
    broker.flushdb()  # Redis restarted without its data: the message is gone, the row is not
    _queued_long_ago(run)

    worker = _start_worker(GPU_QUEUE, JOB_RECONCILE_SECONDS="0")
    try:
        _runs_under_a_new_id(run, lost_id)
    finally:
        stop_worker(worker)


def test_a_job_whose_message_is_lost_while_a_worker_runs_is_queued_again_by_that_worker(run):
    name = f"test-{uuid.uuid4().hex[:8]}@reconcile"
    worker = _start_worker(GPU_QUEUE, name=name, JOB_RECONCILE_SECONDS="1")
    try:
        wait_for(
            lambda: app.control.ping(destination=[name], timeout=0.5),
            what="the worker to start (and make its check at start)",
            seconds=120,
        )
        lost_id = f"flushed-{uuid.uuid4().hex}"
        _queued_long_ago(run, task_id=lost_id)  # its message went with a broker flush
        _runs_under_a_new_id(run, lost_id)
    finally:
        stop_worker(worker)


def test_a_job_whose_worker_is_killed_every_time_is_failed_after_the_cap(run):
    queue = f"test-lost-{uuid.uuid4().hex[:8]}"
    task_id = f"killed-{uuid.uuid4().hex}"
    TrainingRun.objects.filter(pk=run.pk).update(task_id=task_id)
    worker = _start_worker(queue, JOB_MAX_REDELIVERIES="1")
    try:
        train_run.apply_async(args=[run.pk], task_id=task_id, queue=queue)
        for delivery in (1, 2):  # the first delivery and the one redelivery allowed
            wait_for(
                lambda d=delivery: _row(run).deliveries == d and _row(run).status == Status.RUNNING,
                what=f"delivery {delivery}",
                seconds=180,
            )
            for child in pool_children(worker.pid):
                os.kill(child, signal.SIGKILL)  # as the out-of-memory killer would
        failed = wait_for(
            lambda: _row(run).status == Status.FAILED and _row(run),
            what="the run to fail",
            seconds=180,
        )
    finally:
        stop_worker(worker)
    assert "lost 2 times in a row" in failed.error and "JOB_MAX_REDELIVERIES" in failed.error
    assert failed.deliveries == 2
