"""The demo's process supervisor: notices a child that exits, stops the rest with their signal."""

import signal
import sys
import time
from pathlib import Path

from worker.supervisor import Child, Supervisor

# Children that install their signal handlers, then touch a file to say they are ready.
# WAITER tells which signal it got by its exit code: 3 for SIGQUIT, 15 for SIGTERM.
WAITER = (
    "import pathlib, signal, sys, time\n"
    "signal.signal(signal.SIGQUIT, lambda *a: sys.exit(3))\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(15))\n"
    "pathlib.Path(sys.argv[1]).touch()\n"
    "time.sleep(60)\n"
)
QUITTER = (  # exits by itself once the others are ready
    "import pathlib, sys, time\nwhile not pathlib.Path(sys.argv[1]).exists(): time.sleep(0.01)\n"
)
STUBBORN = (
    "import pathlib, signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "pathlib.Path(sys.argv[1]).touch()\n"
    "time.sleep(60)\n"
)


def _child(name: str, script: str, ready: Path, **kwargs) -> Child:
    return Child(name, [sys.executable, "-c", script, str(ready)], **kwargs)


def _wait_for(*paths: Path) -> None:
    while not all(path.exists() for path in paths):
        time.sleep(0.01)


def test_a_child_that_exits_ends_the_wait_and_the_others_get_their_stop_signal(tmp_path):
    worker = _child("worker", WAITER, tmp_path / "worker", stop_signal=signal.SIGQUIT)
    web = _child("web", WAITER, tmp_path / "web")
    quitter = _child("quits", QUITTER, tmp_path / "web")
    supervisor = Supervisor([worker, web, quitter], env={}, cwd=tmp_path, grace_seconds=10)
    supervisor.start()
    _wait_for(tmp_path / "worker", tmp_path / "web")
    reason = supervisor.run_until_stopped(poll_seconds=0.05)
    said = []
    supervisor.stop(say=said.append)
    assert reason == "quits exited (code 0)"
    assert worker.process.returncode == 3 and web.process.returncode == 15
    assert said == ["stopping worker", "stopping web"]


def test_a_child_ignoring_its_signal_is_killed_after_the_grace_period(tmp_path):
    stubborn = _child("stubborn", STUBBORN, tmp_path / "ready")
    supervisor = Supervisor([stubborn], env={}, cwd=tmp_path, grace_seconds=0.5)
    supervisor.start()
    _wait_for(tmp_path / "ready")
    supervisor.request_stop()
    assert supervisor.run_until_stopped() == "stop requested"
    said = []
    supervisor.stop(say=said.append)
    assert stubborn.process.returncode == -signal.SIGKILL
    assert "did not stop" in said[-1]
