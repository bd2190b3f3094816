"""The stack uses servers it is pointed at (PARLEY_KAFKA_BOOTSTRAP, PARLEY_REDIS_URL) instead of
starting its own; a service that dies is restarted by its supervisor."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

import httpx

from runtime.settings import Settings
from stack import kafka, processes, redis, services, stack, supervise
from tests.integration.helpers import eventually

REPO = Path(__file__).resolve().parent.parent.parent


def test_configured_servers_are_used_not_started(live_stack: Settings, tmp_path: Path) -> None:
    elsewhere = dataclasses.replace(
        live_stack, data_dir=tmp_path, kafka_bootstrap=live_stack.bootstrap_servers
    )
    assert kafka.start(elsewhere, stack.CACHE_DIR).startswith("using the Kafka at")
    assert redis.start(elsewhere).startswith("using the Redis at")
    assert not (tmp_path / "run").exists()  # no pid file: nothing was started


def _supervision(settings: Settings, name: str) -> supervise.Supervision:
    (component,) = [c for c in stack.status(settings) if c.name == name]
    assert component.pid is not None and component.supervision is not None
    return component.supervision


def _restarted(settings: Settings, name: str, killed_pid: int) -> supervise.Supervision | None:
    """The service's supervision once a child other than `killed_pid` runs and serves."""
    found = _supervision(settings, name)
    if found.child_pid in (0, killed_pid):
        return None
    return found if services.serving(settings, settings.service_target(name)) else None


def test_a_killed_service_comes_back_and_status_counts_the_restart(
    live_stack: Settings, base_url: str
) -> None:
    name, data = "ingest", live_stack.data_dir
    supervisor = processes.running_pid(data, name)
    before = _supervision(live_stack, name)
    os.kill(before.child_pid, signal.SIGKILL)

    after = eventually(partial(_restarted, live_stack, name, before.child_pid), timeout=60)
    assert after.restarts == before.restarts + 1 and after.last_exit.endswith("killed by SIGKILL")
    assert processes.running_pid(data, name) == supervisor  # the same supervisor restarted it
    eventually(lambda: httpx.get(f"{base_url}/health", timeout=10).status_code == 200)

    # `make status` shows it (wide, so the table's columns are not cut).
    shown = subprocess.run([sys.executable, "-m", "stack", "status"], cwd=REPO, text=True,
                           env={**os.environ, "COLUMNS": "300"}, capture_output=True, check=True)
    rows = [[cell.strip() for cell in line.split("│")[1:-1]]
            for line in shown.stdout.splitlines() if line.startswith("│")]
    (cells,) = [row for row in rows if row[0] == name]
    assert cells[4] == str(after.restarts) and "killed by SIGKILL" in cells[5]

    # Stopping the service (as `make down` does) leaves neither the supervisor nor the child.
    assert processes.stop(data, name) == supervisor
    assert not Path(f"/proc/{supervisor}").exists()
    assert not Path(f"/proc/{after.child_pid}").exists()
    services.start(live_stack, name)
    assert _supervision(live_stack, name).restarts == 0
