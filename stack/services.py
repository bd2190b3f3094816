"""The Parley service processes, each `python -m <service>` on a loopback port, run by a
`stack.supervise` of its own (which restarts it when it dies)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime import mesh
from runtime.settings import Endpoint, Settings
from stack import processes

REPO = Path(__file__).resolve().parent.parent


def serving(settings: Settings, target: str, timeout: float = 1.0) -> bool:
    """True when the gRPC server at `target` reports SERVING on grpc.health.v1."""
    try:
        # A private subchannel pool, so a poll is not answered from an earlier poll's backoff.
        with mesh.channel(settings, target, (("grpc.use_local_subchannel_pool", 1),)) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        return reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def component(process: str, host: str | None = None) -> str:
    """The component name (pid, log, supervision) of `process`'s replica on `host` (`make
    cluster`), or of `make up`'s one replica."""
    return process if host is None else f"{process}@{host}"


def _launch(settings: Settings, process: str, host: str | None,
            env: Mapping[str, str]) -> tuple[str, str, bool]:
    """Start the supervisor of `process` (on `host`) unless it runs; (component, its gRPC target,
    whether it was running already)."""
    data = settings.data_dir
    name = component(process, host)
    target = (settings.service_target(process) if host is None
              else Endpoint(host, settings.service_port(process)).target())
    supervised = processes.running_pid(data, name) is not None
    if not supervised:
        replica = {} if host is None else {"PARLEY_BIND_HOST": host, "PARLEY_INSTANCE": name}
        processes.start(data, name, [sys.executable, "-m", "stack.supervise", process, name],
                        env={**os.environ, **env, **replica, "PYTHONUNBUFFERED": "1",
                             "PARLEY_DATA_DIR": str(data)}, cwd=REPO)
    return name, target, supervised


def start(settings: Settings, name: str) -> str:
    """Start service `name` under its supervisor unless it runs already; wait until SERVING.

    A supervisor that runs already is waited for, not doubled: its service may be between two
    restarts."""
    return start_replicas(settings, [name], [None])[name]


def start_replicas(settings: Settings, names: Sequence[str], hosts: Sequence[str | None],
                   env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Start every process of `names` on every one of `hosts` (None: `make up`'s loopback
    address) with `env` added to this one's, all at once; wait until each is SERVING. What
    happened to each, by component."""
    launched = [_launch(settings, name, host, env or {}) for name in names for host in hosts]
    report = {}
    for name, target, supervised in launched:
        if supervised and serving(settings, target):
            report[name] = f"already running on {target}"
            continue
        processes.wait_until(partial(serving, settings, target), "gRPC health", 60,
                             settings.data_dir, name)
        what = "started" if not supervised else "restarted by its supervisor"
        report[name] = f"{what} on {target} (pid {processes.running_pid(settings.data_dir, name)})"
    return report


def start_all(settings: Settings) -> dict[str, str]:
    """Start every service in order; return what happened to each."""
    return start_replicas(settings, settings.process_names(), [None])
