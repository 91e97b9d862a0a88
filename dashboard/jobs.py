"""How a background job looks on a researcher's page: queued, running (percent, ETA), done, failed.

A domain row (a training run, a generation batch) holds the durable status and the error; the
Celery result in Redis holds the live, fine-grained progress of the attempt now running. This
module merges the two into one JobView, for both the HTML pages and the JSON the page polls.
Jobs without a row of their own (corpus imports, renders) are remembered by task id in the cache.

A row can say "running" long after its worker died (power loss, SIGKILL): its message comes back
only when the broker's visibility timeout lapses, hours later. So a running row is checked
against the tasks live workers hold: missing there, a grace period after its attempt began and
with no progress reported within that period, it is "orphaned" and can be restarted; when no
worker answers at all the page says so instead. The progress heartbeat guards against a busy
worker that misses the one-second question: a slow answer must not get a live job restarted.

A row can also say "queued" with nothing behind it: its message was lost with the broker's
memory (Redis restarted without persistence, or flushed). A pending row whose task id the broker
no longer has, a grace period after it was queued, is "lost in the queue" and can be queued
again (generation.tasks.reconciling, which every worker also runs as it starts and every
JOB_RECONCILE_SECONDS while it runs).
"""

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta

from celery.result import AsyncResult
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis import RedisError

from generation.models.runs import Job, Status
from generation.tasks.queueing import QueueUnavailable
from generation.tasks.reconciling import lost_in_queue, queue_again
from worker.celery_app import app
from worker.progress import PROGRESS_STATE, Progress, read_progress
from worker.status import LiveTasks, live_tasks, queued_task_ids

RECENT_TASKS_KEY = "dashboard:recent-tasks"
RECENT_TASKS_KEPT = 20

_ROW_STATES = {
    "pending": "queued",
    "running": "running",
    "succeeded": "done",
    "failed": "failed",
    "stopped": "stopped",
}
_CELERY_STATES = {
    "PENDING": "queued",
    "RECEIVED": "queued",
    "STARTED": "running",
    PROGRESS_STATE: "running",
    "RETRY": "running",
    "SUCCESS": "done",
    "FAILURE": "failed",
    "REVOKED": "stopped",
}
ORPHANED = "orphaned"
NO_WORKER = "no-worker"
LOST_IN_QUEUE = "lost-in-queue"
# Nothing more will happen to these without the researcher: the page stops polling.
FINISHED = {"done", "failed", "stopped", ORPHANED, LOST_IN_QUEUE}
# Seconds one picture of the workers' tasks serves the pages and polls of this web process.
LIVE_TASKS_MAX_AGE = 5.0


@dataclass(frozen=True)
class JobView:
    state: str
    percent: float
    eta_seconds: float | None
    message: str = ""
    error: str = ""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def words(self) -> str:
        """The state as a sentence a researcher reads at a glance."""
        if self.state == "queued":
            return "queued, waiting for a worker"
        if self.state == "running":
            eta = f", about {format_duration(self.eta_seconds)} left" if self.eta_seconds else ""
            return f"running, {self.percent:.0f}% done{eta}"
        if self.state == "done":
            return "done"
        if self.state == "stopped":
            return "stopped"
        if self.state == ORPHANED:
            return "orphaned: its worker is gone (no live worker holds its task)"
        if self.state == LOST_IN_QUEUE:
            return (
                "lost in the queue: its message is no longer in the broker (Redis restarted or "
                "was emptied), so no worker will run it; queue it again"
            )
        if self.state == NO_WORKER:
            return (
                "no worker is running: the job was running, but no worker answers; "
                "start a gpu worker to see whether it carries on"
            )
        return f"failed: {self.error}" if self.error else "failed"

    def as_dict(self) -> dict:
        return asdict(self) | {
            "finished": self.finished,
            "words": self.words,
            "eta": format_duration(self.eta_seconds) if self.eta_seconds else "",
        }


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _live(task_id: str) -> Progress | None:
    """What the task last reported; None for no task id or an unreachable result store."""
    if not task_id:
        return None
    try:
        return read_progress(task_id)
    except (RedisError, OSError):
        return None


class _Memo:
    """One picture of the broker (the workers' tasks, or the messages it holds), shared by the
    rows of a page and the polls that follow for a few seconds: asking waits for replies."""

    def __init__(self, ask: Callable[[], object]) -> None:
        self._ask = ask
        self._lock = threading.Lock()
        self._taken = 0.0
        self._picture = None
        self._fresh = False

    def get(self):
        with self._lock:
            if not self._fresh or time.monotonic() - self._taken > LIVE_TASKS_MAX_AGE:
                self._picture = self._ask()
                self._taken = time.monotonic()
                self._fresh = True
            return self._picture

    def forget(self) -> None:
        with self._lock:
            self._fresh = False


recent_live_tasks = _Memo(live_tasks)
recent_queued_ids = _Memo(queued_task_ids)


def worker_state(row: Job, progress: Progress | None, live: LiveTasks | None = None) -> str:
    """ORPHANED or NO_WORKER for a running row whose worker cannot be found, else "".
    `progress` is what the row's task last reported (None when unknown).

    Only a row running for longer than JOB_ORPHAN_GRACE_SECONDS since its attempt began, and
    whose task has reported no progress for as long, is checked, so a job changing hands or
    busy on a worker too loaded to answer in time is never flagged; a row worked on in the
    foreground (manage.py) is never checked, as no worker holds it. An unreachable broker
    proves nothing.
    """
    if row.status != Status.RUNNING or row.in_foreground:
        return ""
    grace = timedelta(seconds=settings.JOB_ORPHAN_GRACE_SECONDS)
    if timezone.now() - row.attempt_since < grace:
        return ""
    if progress and progress.updated and time.time() - progress.updated < grace.total_seconds():
        return ""
    live = live if live is not None else recent_live_tasks.get()
    if not live.reachable:
        return ""
    if not live.answered:
        return NO_WORKER
    return "" if live.holds(row.task_id) else ORPHANED


def describe_row(row, live: LiveTasks | None = None) -> JobView:
    """A TrainingRun or GenerationBatch: the row decides the state, the live result refines it.
    `live` is the workers' tasks when the caller already has them."""
    state = _ROW_STATES.get(row.status, row.status)
    percent = 100.0 * (row.progress or 0.0)
    eta = None
    message = getattr(row, "message", "")
    if state == "queued" and _lost_in_queue(row):
        return JobView(LOST_IN_QUEUE, round(percent, 1), None, message)
    progress = _live(row.task_id) if state in {"queued", "running"} else None
    if lost := worker_state(row, progress, live):
        # The result in Redis may still say PROGRESS: the dead attempt never wrote its end.
        return JobView(lost, round(percent, 1), None, message)
    if progress is not None and progress.state == PROGRESS_STATE:
        state = "running"
        percent = progress.percent or percent
        eta = progress.eta_seconds
        message = progress.message or message
    elif progress is not None and progress.state == "STARTED":
        state = "running"
    if state == "done":
        percent = 100.0
    return JobView(state, round(percent, 1), eta, message, row.error if state == "failed" else "")


def _lost_in_queue(row: Job, queued: frozenset[str] | None = None) -> bool:
    """Whether a pending row's message is gone from the broker; the broker is asked only about
    a row past its grace period, and one that cannot be reached proves nothing."""
    if not lost_in_queue(row, frozenset()):
        return False
    queued = queued if queued is not None else recent_queued_ids.get()
    return queued is not None and lost_in_queue(row, queued)


def requeue_lost(request: HttpRequest, row: Job, what: str) -> None:
    """Queues a job lost in the queue again, and says how it went. The broker is asked afresh,
    and the job is sent once, however many clicks (or workers) ask together."""
    if not _lost_in_queue(row, queued_task_ids()):
        words = describe_row(row).words
        messages.error(
            request, f"{what} {row.pk} was not queued again: it is {words}; only a queued job "
            "whose message was lost is queued again (and a stopped or failed one resumed).",
        )  # fmt: skip
        return
    try:
        sent = queue_again(row)
    except QueueUnavailable as exc:
        messages.error(request, f"{what} {row.pk} {exc}.")
        return
    recent_queued_ids.forget()
    if sent:
        messages.success(request, f"{what} {row.pk} queued again: its message had been lost.")
    else:
        messages.error(request, f"{what} {row.pk} changed while being queued again; reload.")


def enqueued(request: HttpRequest, row: Job, send: Callable[[Job], object], what: str) -> bool:
    """Queue a row's job under a task id stored on the row first; False, with a message saying
    why, when the broker refuses it (`send` then leaves the row failed, so it can be queued
    again)."""
    try:
        send(row)
    except QueueUnavailable as exc:
        messages.error(request, f"{what} {row.pk} {exc}.")
        return False
    return True


def stop_job(request: HttpRequest, row: Job, what: str) -> None:
    """Stops a queued or running job, and says how it went. The row is failed as stopped
    first, the record every later delivery and write of the attempt respects; then the worker
    process running it is terminated (a queued message is discarded when a worker takes it).
    A broker that cannot be reached only delays the end to the attempt's next write."""
    if not row.stop():
        row.refresh_from_db(fields=["status"])
        messages.error(
            request, f"{what} {row.pk} is {row.status}; only a queued or running job stops."
        )
        return
    if row.task_id and not row.in_foreground:
        try:
            app.control.revoke(row.task_id, terminate=True, signal="SIGTERM")
        except (OperationalError, OSError):
            messages.warning(
                request, f"{what} {row.pk} stopped; the broker cannot be reached, so its "
                "worker ends it when it next saves its work rather than at once.",
            )  # fmt: skip
            return
    messages.success(request, f"{what} {row.pk} stopped.")


def requeue_orphaned(row: Job) -> str:
    """Makes a row whose worker is gone pending again, for the caller to queue a new attempt;
    returns "" or why nothing was done.

    The workers are asked afresh, not through the memo. The row is switched only if it still
    names the lost task, so a double click, or a late redelivery that took it meanwhile, wins
    over the restart. The old message, should Redis hand it out again, finds the new attempt's
    task id on the row and skips it (Job.claim).
    """
    live = live_tasks()
    if worker_state(row, _live(row.task_id), live) != ORPHANED:
        return f"it is {describe_row(row, live).words}; only a job whose worker is gone restarts"
    taken = (
        type(row)
        .objects.filter(pk=row.pk, status=Status.RUNNING, task_id=row.task_id)
        .update(status=Status.PENDING, error="", message="restarted: its worker was gone")
    )
    return "" if taken else "it changed while being restarted; reload the page"


def describe_task(task_id: str) -> JobView:
    """A job known only by its Celery task id (imports, renders)."""
    live = _live(task_id)
    if live is None:
        return JobView("failed", 0.0, None, error="the result store (Redis) cannot be reached")
    state = _CELERY_STATES.get(live.state, "queued")
    percent = 100.0 if state == "done" else live.percent
    return JobView(state, round(percent, 1), live.eta_seconds, live.message, live.error)


def task_result(task_id: str):
    """What a finished task returned (a summary dict), or None."""
    result = AsyncResult(task_id)
    return result.result if result.state == "SUCCESS" else None


def remember_task(task_id: str, label: str, link: str = "", **details) -> None:
    """Lists a row-less job on the dashboard home, newest first, for a while; details (plain
    JSON) say what a page needs to follow it."""
    entry = {"id": task_id, "label": label, "link": link, "created": time.time(), **details}
    tasks = [entry] + [t for t in recent_tasks() if t["id"] != task_id]
    cache.set(RECENT_TASKS_KEY, tasks[:RECENT_TASKS_KEPT], timeout=7 * 24 * 3600)


def recent_tasks() -> list[dict]:
    try:
        return list(cache.get(RECENT_TASKS_KEY) or [])
    except (RedisError, OSError):
        return []
