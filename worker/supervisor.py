"""Runs the web server and the workers as child processes, and stops them all cleanly.

Used by `manage.py demo`. Each child gets a session of its own, so a Ctrl-C in the terminal
reaches only the supervisor, which then stops the children in its own way: the web server with
SIGTERM, a Celery worker with SIGQUIT (a cold shutdown: running jobs stop at once and, being
acknowledged late, go back to the queue, to resume from their checkpoints on the next start).
A child that outlives its grace period is killed with its whole process group.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Child:
    name: str
    argv: list[str]
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self, children: list[Child], env: dict, cwd: Path, grace_seconds: float = 20.0):
        self.children = children
        self.env = env
        self.cwd = cwd
        self.grace_seconds = grace_seconds
        self._stop_requested = False

    def start(self) -> None:
        for child in self.children:
            child.process = subprocess.Popen(
                child.argv, env=self.env, cwd=self.cwd, start_new_session=True
            )

    def request_stop(self, signum=None, frame=None) -> None:
        self._stop_requested = True

    def run_until_stopped(self, poll_seconds: float = 0.5) -> str:
        """Blocks until SIGINT/SIGTERM arrives or a child exits; says which, in words."""
        previous = {
            sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            while not self._stop_requested:
                for child in self.children:
                    if not child.running:
                        code = child.process.returncode if child.process else None
                        return f"{child.name} exited (code {code})"
                time.sleep(poll_seconds)
            return "stop requested"
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self, say: Callable[[str], None] = print) -> None:
        for child in self.children:
            if child.running:
                say(f"stopping {child.name}")
                child.process.send_signal(child.stop_signal)
        deadline = time.monotonic() + self.grace_seconds
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop in {self.grace_seconds:.0f} s; killing it")
                _kill_group(child.process)


def _kill_group(process: subprocess.Popen) -> None:
    """The child, still alive, leads its own process group: kill it with its pool processes."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
