"""Real Celery worker processes for the tests, on the test database, ended with the test run.

A worker outlives a killed pytest unless told otherwise, and then takes the next run's jobs from
the shared test broker against a database that no longer exists, so that run's worker tests time
out. Each worker is started under `setpriv --pdeathsig`, which has the kernel send it SIGTERM when
the test process dies; a worker ends its pool processes on SIGTERM.
"""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection


def database_url() -> str:
    """The test database, for a worker process to use too; SQLite in a file where it is one."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        if connection.is_in_memory_db():
            pytest.skip("a worker process cannot see an in-memory SQLite test database")
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def needs_postgres() -> None:
    """Skips a test whose workers lock rows alongside the test process: PostgreSQL only."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs the PostgreSQL test database")


def start_worker(queues: str, name: str = "", concurrency: int = 1, **env: str) -> subprocess.Popen:
    """A worker consuming `queues` (comma-separated) on the test database and broker, with
    `env` added to its environment (MEDIA_ROOT, storage settings, ...)."""
    argv = [sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", "-Q", queues]
    argv += ["-c", str(concurrency), "-n", name or f"test-{uuid.uuid4().hex[:8]}@%h"]
    argv += ["--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
    if shutil.which("setpriv"):
        argv = ["setpriv", "--pdeathsig", "TERM", "--", *argv]
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **env,
    }
    return subprocess.Popen(argv, env=environment, cwd=settings.BASE_DIR)


def stop_worker(process: subprocess.Popen, seconds: float = 60) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=seconds)


def pool_children(parent: int) -> list[int]:
    """A worker's pool processes: those whose parent is the worker's main process."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


def wait_for(condition, what: str, seconds: float = 240.0):
    """What `condition` returns once it is truthy, asked every 50 ms; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")
