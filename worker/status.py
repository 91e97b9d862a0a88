"""What the queues look like right now: waiting jobs per queue and the workers consuming each.

The dashboard shows this so a researcher can tell "queued because no worker listens on gpu" from
"queued behind three other runs" without opening a terminal.
"""

from dataclasses import dataclass, field

import redis
from django.conf import settings

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


def waiting_jobs(client: redis.Redis, queue: str) -> int:
    """Messages waiting in a queue; kombu keeps one Redis list per queue and priority step."""
    keys = [queue] + [key.decode() for key in client.keys(f"{queue}\x06\x16*")]
    return sum(client.llen(key) for key in keys)


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
