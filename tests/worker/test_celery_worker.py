"""A real Celery worker process, on the real Redis broker, runs a cpu-queue task."""

import time

import pytest
import redis
from django.conf import settings

from tests.worker.processes import start_worker, stop_worker
from worker.celery_app import CPU_QUEUE, GPU_QUEUE, app
from worker.progress import ProgressReporter, estimate_eta, read_progress
from worker.tasks import ping


@pytest.fixture
def cpu_worker():
    redis.Redis.from_url(settings.CELERY_BROKER_URL).ping()
    process = start_worker(CPU_QUEUE)
    yield process
    stop_worker(process, seconds=30)


def test_routes_send_tasks_to_the_queue_their_name_says():
    router = app.amqp.router
    assert router.route({}, "gpu.train")["queue"].name == GPU_QUEUE
    assert router.route({}, "cpu.render_piece")["queue"].name == CPU_QUEUE


def test_a_worker_process_runs_a_cpu_task_and_reports_progress(cpu_worker):
    result = ping.apply_async(kwargs={"steps": 40, "pause": 0.1})
    seen = set()
    deadline = time.time() + 90
    while not result.ready() and time.time() < deadline:
        progress = read_progress(result.id)
        if progress.state == "PROGRESS":
            seen.add(progress.done)
        time.sleep(0.05)
    assert result.get(timeout=5) == "pong"
    assert any(0 < done < 40 for done in seen), f"no progress between start and end: {seen}"
    assert read_progress(result.id).state == "SUCCESS"


def test_progress_outside_a_worker_is_silent():
    reporter = ProgressReporter(ping, total=2)
    reporter.advance()
    assert reporter.done == 1


def test_eta_extrapolates_the_rate_so_far():
    assert estimate_eta(done=5, total=20, started=100.0, now=110.0) == 30.0
    assert estimate_eta(done=0, total=20, started=100.0, now=110.0) is None
