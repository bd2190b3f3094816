"""`python -m stack.supervise <process> [<component>]`: runs service process `<process>` (`python
-m <its module>`) as its child and starts it again whenever it exits unasked, after a pause that
doubles with each quick failure. `<component>` names the replica (`store@127.0.0.2` in `make
cluster`; the process name by default).

`make up` starts each service through this (its pid file names the supervisor): a service whose
worker died (`runtime.server.serve` exits then rather than linger half-alive) comes back by itself.
SIGTERM and SIGINT are passed on to the child, and the supervisor exits once the child has, so
`make down` still stops exactly what `make up` started. The restarts, the last unasked exit and
the child's pid are kept in `<data dir>/run/<component>.supervisor.json` (`make status` shows them).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType

from runtime import settings as settings_module
from runtime.settings import PROCESS_ENV, module_of
from runtime import timestamps

log = logging.getLogger("stack.supervise")

#: The first pause before a restart; it doubles after each exit that came soon after a start.
FIRST_PAUSE_S = 0.5
MAX_PAUSE_S = 30.0
#: A child that ran this long was healthy: the pause before its restart starts over.
STABLE_S = 60.0
#: How long a child has to stop after SIGTERM before it is killed (stack.processes.stop gives
#: the supervisor 15 s before killing it).
STOP_TIMEOUT_S = 10.0
_PR_SET_PDEATHSIG = 1


@dataclass
class Supervision:
    """What a supervisor records of its service."""

    restarts: int = 0
    #: When and how the child last exited unasked ("" when it never did).
    last_exit: str = ""
    #: The running child's pid (0 between an exit and its restart).
    child_pid: int = 0


def state_file(data_dir: Path, name: str) -> Path:
    """Where the supervisor of service `name` keeps its `Supervision`."""
    return data_dir / "run" / f"{name}.supervisor.json"


def read(data_dir: Path, name: str) -> Supervision | None:
    """The recorded supervision of service `name`, None when there is none."""
    try:
        return Supervision(**json.loads(state_file(data_dir, name).read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def child_pid(data_dir: Path, name: str) -> int:
    """The pid of the service process the supervisor of `name` runs now (0: none running)."""
    state = read(data_dir, name)
    return state.child_pid if state else 0


def _write(data_dir: Path, name: str, state: Supervision) -> None:
    path = state_file(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state)))
    temporary.replace(path)  # atomic: `status` never reads half a file


def describe_exit(code: int) -> str:
    """How a child ended, as `returncode` tells it."""
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def _die_with_parent() -> None:
    # Runs in the child before exec: should the supervisor itself be killed (SIGKILL leaves it no
    # time to pass anything on), the child gets SIGTERM rather than outliving it unsupervised.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """Runs one service process as a child until asked to stop."""

    def __init__(self, name: str, data_dir: Path, process: str | None = None) -> None:
        #: The component (state file, logs); the process it runs is `process` (default: the same).
        self.name = name
        self.process = process or name
        self.data_dir = data_dir
        self.child: subprocess.Popen[bytes] | None = None
        self.stop_requested_at: float | None = None

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def _wait(self, child: subprocess.Popen[bytes]) -> int:
        """The child's exit code; a child that ignores a stop request is killed after a while."""
        while True:
            try:
                return child.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                asked = self.stop_requested_at
                if asked is not None and time.monotonic() - asked > STOP_TIMEOUT_S:
                    child.kill()

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.stop_requested_at is None and time.monotonic() < deadline:
            time.sleep(0.05)

    def run(self) -> int:
        """Run and restart the service until SIGTERM/SIGINT; return the exit code to end with."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        state, pause = Supervision(), FIRST_PAUSE_S
        while self.stop_requested_at is None:
            started = time.monotonic()
            self.child = subprocess.Popen([sys.executable, "-m", module_of(self.process)],
                                          env={**os.environ, PROCESS_ENV: self.process},
                                          preexec_fn=_die_with_parent)
            if self.stop_requested_at is not None:  # asked to stop while it was being started
                self.child.terminate()
            state.child_pid = self.child.pid
            _write(self.data_dir, self.name, state)
            code = self._wait(self.child)
            if self.stop_requested_at is not None:
                break
            if time.monotonic() - started >= STABLE_S:
                pause = FIRST_PAUSE_S
            state.restarts += 1
            state.child_pid = 0  # none until the pause is over
            state.last_exit = f"{timestamps.format_ms(timestamps.now_ms())} {describe_exit(code)}"
            _write(self.data_dir, self.name, state)
            log.error("%s exited unasked (%s); restart %d in %.1f s",
                      self.name, describe_exit(code), state.restarts, pause)
            self._pause(pause)
            pause = min(pause * 2, MAX_PAUSE_S)
        return 0


def main(argv: list[str]) -> int:
    """Supervise the service process named in `argv` (and, second, the replica's component name)."""
    if len(argv) not in (1, 2):
        print("usage: python -m stack.supervise <process> [<component>]", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    process, component = argv[0], argv[-1]
    return Supervisor(component, settings_module.load().data_dir, process).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
