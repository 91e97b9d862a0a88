"""Progress that a running task publishes and the web side reads.

A task writes {done, total, message, started, updated, eta_seconds} into its Celery result (state
PROGRESS), which lives in Redis; any web process reads it by task id. `updated` doubles as a
heartbeat: a task that reported a moment ago is alive, whatever else seems to say otherwise.
Domain rows (TrainingRun, ...) keep their own durable status; this is the live, fine-grained part.
"""

import time
from dataclasses import asdict, dataclass

from celery import Task
from celery.result import AsyncResult

PROGRESS_STATE = "PROGRESS"


@dataclass(frozen=True)
class Progress:
    state: str
    done: int = 0
    total: int = 0
    message: str = ""
    started: float | None = None
    updated: float | None = None
    eta_seconds: float | None = None
    error: str = ""

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 0.0

    def as_dict(self) -> dict:
        return asdict(self) | {"percent": round(self.percent, 1)}


def estimate_eta(done: int, total: int, started: float, now: float) -> float | None:
    """Linear extrapolation from the rate so far; None until there is a rate to go on."""
    if done <= 0 or total <= 0 or done >= total:
        return None
    return (now - started) / done * (total - done)


class ProgressReporter:
    """Publishes the progress of one bound task; cheap enough to call every step."""

    def __init__(self, task: Task, total: int, message: str = "", min_interval: float = 0.5):
        self.task = task
        self.total = total
        self.done = 0
        self.message = message
        self.started = time.time()
        self.min_interval = min_interval
        self._last_sent = 0.0
        self._send(force=True)

    def advance(self, n: int = 1, message: str | None = None) -> None:
        self.set(self.done + n, message)

    def set(self, done: int, message: str | None = None) -> None:
        self.done = min(done, self.total) if self.total else done
        if message is not None:
            self.message = message
        self._send(force=self.done >= self.total)

    def _send(self, force: bool) -> None:
        now = time.time()
        if not force and now - self._last_sent < self.min_interval:
            return
        self._last_sent = now
        task_id = getattr(self.task.request, "id", None)
        if task_id is None:
            return
        meta = {
            "done": self.done,
            "total": self.total,
            "message": self.message,
            "started": self.started,
            "updated": now,
            "eta_seconds": estimate_eta(self.done, self.total, self.started, now),
        }
        self.task.update_state(task_id=task_id, state=PROGRESS_STATE, meta=meta)


def read_progress(task_id: str) -> Progress:
    """What a task is doing now, in words a dashboard can show."""
    result = AsyncResult(task_id)
    state = result.state
    info = result.info
    if state == PROGRESS_STATE and isinstance(info, dict):
        return Progress(
            state=state,
            done=info.get("done", 0),
            total=info.get("total", 0),
            message=info.get("message", ""),
            started=info.get("started"),
            updated=info.get("updated"),
            eta_seconds=info.get("eta_seconds"),
        )
    if state == "FAILURE":
        return Progress(state=state, error=f"{type(info).__name__}: {info}")
    if state == "SUCCESS":
        return Progress(state=state, done=1, total=1)
    return Progress(state=state)
