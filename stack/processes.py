"""Start, find and stop the stack's processes by pid file, so `down` stops exactly what `up` started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class StartError(RuntimeError):
    """A component did not become ready; the message says which and where its log is."""


def pid_file(data_dir: Path, name: str) -> Path:
    """Where the pid of component `name` is kept."""
    return data_dir / "run" / f"{name}.pid"


def log_file(data_dir: Path, name: str) -> Path:
    """Where the output of component `name` goes."""
    return data_dir / "logs" / f"{name}.log"


def running_pid(data_dir: Path, name: str) -> int | None:
    """The pid of component `name` if its pid file names a live process, else None."""
    path = pid_file(data_dir, name)
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    except PermissionError:
        return None
    # A zombie (exited child not yet reaped) is not running.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return None
    return None if state == "Z" else pid


def start(
    data_dir: Path,
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `argv` detached (own session), output to its log file; record and return its pid."""
    log_path = log_file(data_dir, name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pid_file(data_dir, name).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    pid_file(data_dir, name).write_text(str(proc.pid))
    return proc.pid


def stop(data_dir: Path, name: str, timeout: float = 15.0) -> int | None:
    """Stop component `name` (SIGTERM, then SIGKILL after `timeout`); return the pid it stopped."""
    return stop_together(data_dir, [name], timeout).get(name)


def stop_together(data_dir: Path, names: Sequence[str], timeout: float = 15.0) -> dict[str, int]:
    """Stop the components `names` at once (SIGTERM to all, then SIGKILL to those still running
    after `timeout`); the pid each one that ran had, by name."""
    running = {}
    for name in names:
        pid = running_pid(data_dir, name)
        if pid is None:
            pid_file(data_dir, name).unlink(missing_ok=True)
            continue
        os.kill(pid, signal.SIGTERM)
        running[name] = pid
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(
            running_pid(data_dir, name) == pid for name, pid in running.items()):
        time.sleep(0.1)
    for name, pid in running.items():
        if running_pid(data_dir, name) == pid:
            os.kill(pid, signal.SIGKILL)
            while running_pid(data_dir, name) == pid:
                time.sleep(0.05)
        _reap(pid)
        pid_file(data_dir, name).unlink(missing_ok=True)
    return running


def _reap(pid: int, timeout: float = 10.0) -> None:
    # Wait until the process is gone from the process table. A child of ours (the tests start the
    # stack in-process) must be reaped by us; one started by an earlier `make up` is reaped by init.
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.05)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def answers_ok(url: str) -> bool:
    """True when a GET of `url` answers 200 within a second (a component's readiness page)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def wait_until(
    check: Callable[[], bool], what: str, timeout: float, data_dir: Path, name: str
) -> None:
    """Poll `check` until true; fail with the component's log tail if `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if running_pid(data_dir, name) is None:
            break
        time.sleep(0.2)
    tail = ""
    path = log_file(data_dir, name)
    if path.exists():
        tail = "\n".join(path.read_text(errors="replace").splitlines()[-15:])
    raise StartError(f"{name}: {what} not ready (log: {path})\n{tail}")
