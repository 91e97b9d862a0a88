"""Jobs whose message the broker lost, found and queued again, once: when a worker starts, and
every JOB_RECONCILE_SECONDS while it runs (a broker flushed under running workers).

The database is the record of what should run; the broker only carries the messages. A job
row still pending (queued, never picked up) whose task id is in no queue and in no worker's
hands, a grace period after it was queued, lost its message with the broker's memory: a Redis
restarted without persistence, flushed, or replaced. Nothing would ever run it. It is sent
again under a new task id, stored only if the row still names the lost one, so two workers
starting at once send it once; should the old message turn up after all, it finds another
owner and is skipped (Job.claim). The dashboard shows such a row as "lost in the queue", with a
button that does the same.
"""

import logging
from datetime import timedelta

from celery import Task, bootsteps
from celery.signals import worker_ready
from django.conf import settings
from django.db import connections
from django.utils import timezone

from generation.models import GenerationBatch, TrainingRun
from generation.models.runs import Job, Status
from generation.tasks.queueing import QueueUnavailable, send_to_queue
from generation.tasks.sampling import generate_batch
from generation.tasks.training import train_run
from worker.celery_app import app
from worker.status import queued_task_ids

log = logging.getLogger(__name__)

JOBS: tuple[tuple[type[Job], Task], ...] = (
    (TrainingRun, train_run),
    (GenerationBatch, generate_batch),
)


def lost_in_queue(row: Job, queued: frozenset[str]) -> bool:
    """Whether a pending row's message is gone: `queued` holds the task ids the broker has."""
    if row.status != Status.PENDING or not row.task_id or row.in_foreground:
        return False
    grace = timedelta(seconds=settings.JOB_ORPHAN_GRACE_SECONDS)
    return timezone.now() - row.attempt_since >= grace and row.task_id not in queued


def task_of(row: Job) -> Task:
    return next(task for model, task in JOBS if isinstance(row, model))


def queue_again(row: Job) -> bool:
    """Sends a lost row's job again; False when another process already did (or a worker
    took the row meanwhile)."""
    return send_to_queue(row, task_of(row), replacing=row.task_id) is not None


def reconcile() -> list[Job]:
    """Queues again every pending job whose message the broker lost; returns those sent."""
    queued = queued_task_ids()
    if queued is None:
        return []
    sent = []
    for model, _ in JOBS:
        for row in model.objects.filter(status=Status.PENDING).exclude(task_id=""):
            if lost_in_queue(row, queued) and queue_again(row):
                sent.append(row)
    return sent


def reconcile_and_log() -> None:
    """One check, in a worker's main process; a broker that cannot be reached leaves every row
    as it is."""
    try:
        for row in reconcile():
            log.warning("%s had lost its message in the broker; queued again", row)
    except QueueUnavailable as error:
        log.warning("jobs lost in the queue could not be queued again: %s", error)
    finally:
        connections.close_all()


@worker_ready.connect(weak=False)
def reconcile_when_a_worker_starts(**_) -> None:
    reconcile_and_log()


class ReconcileWhileRunning(bootsteps.StartStopStep):
    """The check repeated on the worker's own timer, so a broker that loses its messages while
    the workers keep running is caught too, without a beat process. Every worker runs it; the
    ownership rule lets only one of them send each lost job again."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.every = settings.JOB_RECONCILE_SECONDS
        self.timer_entry = None

    def start(self, worker) -> None:
        if self.every > 0:
            self.timer_entry = worker.timer.call_repeatedly(self.every, reconcile_and_log)

    def stop(self, worker) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None


app.steps["worker"].add(ReconcileWhileRunning)
