"""What the queues look like right now: waiting jobs per queue, the workers consuming each, and
the tasks those workers hold.

The dashboard shows this so a researcher can tell "queued because no worker listens on gpu" from
"queued behind three other runs" without opening a terminal, and a job whose worker died from
one that is still running.
"""

import json
from dataclasses import dataclass, field

import redis
from django.conf import settings
from kombu.exceptions import OperationalError

from worker.celery_app import CPU_QUEUE, GPU_QUEUE, app

QUEUES = (GPU_QUEUE, CPU_QUEUE)


@dataclass(frozen=True)
class QueueStatus:
    name: str
    waiting: int | None
    workers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BrokerStatus:
    reachable: bool
    queues: list[QueueStatus]
    error: str = ""


def _queue_keys(client: redis.Redis, queue: str) -> list[str]:
    """kombu keeps one Redis list per queue and priority step."""
    return [queue] + [key.decode() for key in client.keys(f"{queue}\x06\x16*")]


def waiting_jobs(client: redis.Redis, queue: str) -> int:
    """Messages waiting in a queue."""
    return sum(client.llen(key) for key in _queue_keys(client, queue))


# kombu's Redis transport keeps the messages handed to a worker and not yet acknowledged here.
UNACKED_KEY = "unacked"


def _message_task_id(raw: bytes) -> str | None:
    """The task id a kombu message carries (protocol 2: in its headers); None for garbage."""
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if isinstance(message, list):  # unacked entries are [message, exchange, routing key]
        message = message[0] if message else {}
    if not isinstance(message, dict):
        return None
    headers = message.get("headers") or {}
    properties = message.get("properties") or {}
    return headers.get("id") or properties.get("correlation_id")


def queued_task_ids(timeout: float = 1.0) -> frozenset[str] | None:
    """Task ids whose message is in the broker: waiting in a queue, or handed to a worker and
    not yet acknowledged (with late acknowledgement, also while it runs). None when the broker
    cannot be reached, which proves nothing about any message."""
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=timeout)
        found = set()
        for queue in QUEUES:
            for key in _queue_keys(client, queue):
                found.update(_message_task_id(raw) for raw in client.lrange(key, 0, -1))
        found.update(_message_task_id(raw) for raw in client.hvals(UNACKED_KEY))
    except (redis.RedisError, OSError):
        return None
    return frozenset(found - {None})


def workers_by_queue(timeout: float = 1.0) -> dict[str, list[str]]:
    replies = app.control.inspect(timeout=timeout).active_queues() or {}
    listening: dict[str, list[str]] = {queue: [] for queue in QUEUES}
    for worker, queues in replies.items():
        for queue in queues:
            listening.setdefault(queue["name"], []).append(worker)
    return listening


def broker_status(timeout: float = 1.0) -> BrokerStatus:
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=timeout)
        waiting = {queue: waiting_jobs(client, queue) for queue in QUEUES}
        listening = workers_by_queue(timeout)
    except (redis.RedisError, OSError) as exc:
        return BrokerStatus(
            reachable=False,
            queues=[QueueStatus(queue, None) for queue in QUEUES],
            error=f"the broker at {settings.CELERY_BROKER_URL} cannot be reached ({exc}); "
            "start Redis (bash scripts/setup) and the workers",
        )
    return BrokerStatus(
        reachable=True,
        queues=[QueueStatus(queue, waiting[queue], sorted(listening[queue])) for queue in QUEUES],
    )


@dataclass(frozen=True)
class LiveTasks:
    """The task ids that live workers are running or have taken off the queue to run next."""

    reachable: bool
    workers: frozenset[str] = frozenset()
    task_ids: frozenset[str] = frozenset()
    error: str = ""

    @property
    def answered(self) -> bool:
        """At least one worker replied: only then does a missing task id mean anything."""
        return self.reachable and bool(self.workers)

    def holds(self, task_id: str) -> bool:
        return task_id in self.task_ids


def _ids(replies: dict[str, list[dict]] | None) -> set[str]:
    return {task["id"] for tasks in (replies or {}).values() for task in tasks or ()}


def live_tasks(timeout: float = 1.0) -> LiveTasks:
    """Asks every worker for its active and reserved tasks, waiting `timeout` for replies.

    A worker's main process answers while its pool runs a job, so a live worker always replies
    (a worker started with --pool solo cannot while it works; run gpu workers with the default
    prefork pool). Reserved tasks are asked only of the workers that answered, which returns
    as soon as they all have.
    """
    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=timeout).ping()
        active = app.control.inspect(timeout=timeout).active() or {}
        workers = sorted(active)
        reserved = {}
        if workers:
            inspect = app.control.inspect(destination=workers, timeout=timeout, limit=len(workers))
            reserved = inspect.reserved() or {}
    except (redis.RedisError, OSError, OperationalError) as exc:
        return LiveTasks(
            reachable=False,
            error=f"the broker at {settings.CELERY_BROKER_URL} cannot be reached ({exc})",
        )
    return LiveTasks(
        reachable=True,
        workers=frozenset(workers) | frozenset(reserved),
        task_ids=frozenset(_ids(active) | _ids(reserved)),
    )
