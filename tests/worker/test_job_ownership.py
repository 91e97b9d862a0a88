"""Real worker processes on the real broker: the workers' tasks as the dashboard sees them, and
a restarted job's stale message skipped by the worker that receives it.

The worker listens on a queue of its own, so it takes no other test's messages, and uses the
test database, so it sees this test's rows.
"""

import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from dashboard.jobs import ORPHANED, describe_row, recent_live_tasks
from generation.models import Corpus, TrainingRun
from generation.models.runs import Status
from generation.tasks.training import train_run
from tests.worker.processes import needs_postgres, start_worker, stop_worker
from worker.progress import read_progress
from worker.status import live_tasks
from worker.tasks import ping


@pytest.fixture
def own_queue(transactional_db):
    """(queue name, worker name) of a real worker consuming only that queue."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).ping()
    queue = f"test-ownership-{uuid.uuid4().hex[:8]}"
    name = f"{queue}@host"
    needs_postgres()
    process = start_worker(queue, name)
    yield queue, name
    stop_worker(process, seconds=30)


def test_a_real_worker_skips_the_stale_message_of_a_restarted_run(own_queue):
    queue, worker = own_queue
    corpus = Corpus.objects.create(slug="own", title="own", source=Corpus.Source.UPLOAD)
    long_ago = timezone.now() - timedelta(hours=1)
    run = TrainingRun.objects.create(
        corpus=corpus, model_kind="roll_lstm", config={}, status=Status.RUNNING,
        task_id="lost-attempt", attempt_at=long_ago, started=long_ago, message="epoch 3",
    )  # fmt: skip
    TrainingRun.objects.filter(pk=run.pk).update(created=long_ago)
    run.refresh_from_db()

    # a job the worker holds shows as held; the run's lost task shows as orphaned
    busy = ping.apply_async(kwargs={"steps": 200, "pause": 0.1}, queue=queue)
    deadline = time.time() + 90
    while read_progress(busy.id).state != "PROGRESS" and time.time() < deadline:
        time.sleep(0.2)
    live = live_tasks(timeout=2.0)
    assert worker in live.workers and live.holds(busy.id)
    recent_live_tasks.forget()
    assert describe_row(run, live).state == ORPHANED
    busy.revoke(terminate=True)

    # restarted: the row now names a new task; Redis hands out the old message again
    TrainingRun.objects.filter(pk=run.pk).update(status=Status.PENDING, task_id="new-attempt")
    before = TrainingRun.objects.filter(pk=run.pk).values().get()
    stale = train_run.apply_async(args=[run.pk], task_id="lost-attempt", queue=queue)
    outcome = stale.get(timeout=90)
    assert outcome["skipped"] == "taken over by task new-attempt"
    assert TrainingRun.objects.filter(pk=run.pk).values().get() == before
