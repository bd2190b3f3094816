"""The supervisor restarts a service that exits unasked, records it, and passes SIGTERM on (a
stand-in service: a module that fails once, then runs until told to stop)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from stack import supervise

REPO = Path(__file__).resolve().parent.parent.parent

FLAKY = '''
import pathlib, signal, sys, time
marker = pathlib.Path("started-once")
if not marker.exists():
    marker.write_text("")
    sys.exit(3)  # the first run dies
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    time.sleep(0.05)
'''


def _until(probe, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)
    return found


def test_a_service_that_dies_is_restarted_and_stopped_with_its_supervisor(tmp_path: Path) -> None:
    (tmp_path / "flaky.py").write_text(FLAKY)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PARLEY_DATA_DIR": str(tmp_path)}
    supervisor = subprocess.Popen([sys.executable, "-m", "stack.supervise", "flaky"], cwd=tmp_path,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        state = _until(lambda: (s := supervise.read(tmp_path, "flaky")) and s.restarts == 1
                       and s.child_pid and s)
        assert state.last_exit.endswith("exit code 3")
        child = state.child_pid
        assert Path(f"/proc/{child}").exists()  # running again

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=15) == 0
        _until(lambda: not Path(f"/proc/{child}").exists())
        final = supervise.read(tmp_path, "flaky")
        assert final is not None and final.restarts == 1  # a stop asked for is no restart
    finally:
        supervisor.kill()
        supervisor.wait()


def test_exits_are_described_by_signal_or_code() -> None:
    assert supervise.describe_exit(-9) == "killed by SIGKILL"
    assert supervise.describe_exit(1) == "exit code 1"
