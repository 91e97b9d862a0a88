"""Small tasks that belong to no domain: liveness checks of the queues."""

import time

from celery import shared_task

from worker.progress import ProgressReporter


@shared_task(bind=True, name="cpu.ping")
def ping(self, steps: int = 3, pause: float = 0.05) -> str:
    """Proves a worker on the cpu queue runs tasks and publishes progress; used by health checks."""
    reporter = ProgressReporter(self, total=steps, message="pinging")
    for _ in range(steps):
        time.sleep(pause)
        reporter.advance(message="pong")
    return "pong"
