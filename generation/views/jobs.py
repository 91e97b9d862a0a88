"""How a background job looks on a researcher's page: queued, running (percent, ETA), done, failed.

A domain row (a training run, a generation batch) holds the durable status and the error; the
Celery result in Redis holds the live, fine-grained progress of the attempt now running. This
module merges the two into one JobView, for both the HTML pages and the JSON the page polls.
Jobs without a row of their own (corpus imports, renders) are remembered by task id in the cache.
"""

import time
from dataclasses import asdict, dataclass

from celery.result import AsyncResult
from django.core.cache import cache
from redis import RedisError

from worker.progress import PROGRESS_STATE, read_progress

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
FINISHED = {"done", "failed", "stopped"}


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


def _live(task_id: str):
    try:
        return read_progress(task_id)
    except (RedisError, OSError):
        return None


def describe_row(row) -> JobView:
    """A TrainingRun or GenerationBatch: the row decides the state, the live result refines it."""
    state = _ROW_STATES.get(row.status, row.status)
    percent = 100.0 * (row.progress or 0.0)
    eta = None
    message = getattr(row, "message", "")
    if state in {"queued", "running"} and row.task_id:
        live = _live(row.task_id)
        if live is not None and live.state == PROGRESS_STATE:
            state = "running"
            percent = live.percent or percent
            eta = live.eta_seconds
            message = live.message or message
        elif live is not None and live.state == "STARTED":
            state = "running"
    if state == "done":
        percent = 100.0
    return JobView(state, round(percent, 1), eta, message, row.error if state == "failed" else "")


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
