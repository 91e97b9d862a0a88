"""Sending a job row's task: the task id is chosen and stored on the row before the message
leaves, so no worker can start the task before the row names it as its owner (Job.claim)."""

from celery import Task
from celery.utils import uuid
from django.utils import timezone
from kombu.exceptions import OperationalError

from generation.models.runs import Job, Status


class QueueUnavailable(RuntimeError):
    """The broker refused the message; the row says so and can be resumed later."""


def send_to_queue(row: Job, task: Task, replacing: str | None = None) -> str | None:
    """Stores a fresh task id on the row, then queues `task(row.pk)` under that id.

    With `replacing`, the id is stored only if the row is still pending under that task id,
    and None is returned when it is not (another process queued it again first, or a worker
    took it): a job is sent again once, however many ask at the same moment.
    """
    task_id = uuid()
    now = timezone.now()
    rows = type(row).objects.filter(pk=row.pk)
    if replacing is not None:
        rows = rows.filter(status=Status.PENDING, task_id=replacing)
    if not rows.update(task_id=task_id, attempt_at=now, deliveries=0):
        return None
    row.task_id, row.attempt_at = task_id, now
    try:
        task.apply_async(args=[row.pk], task_id=task_id)
    except OperationalError as exc:
        error = (
            f"could not be queued: the broker cannot be reached ({exc}); "
            "start Redis and the workers, then queue it again"
        )
        type(row).objects.filter(pk=row.pk, task_id=task_id).update(
            status=Status.FAILED, error=error, message="not queued", finished=now
        )
        raise QueueUnavailable(error) from exc
    return task_id
