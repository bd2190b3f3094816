"""The Parley service processes, each `python -m <service>` on a loopback port, run by a
`stack.supervise` of its own (which restarts it when it dies)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime import mesh
from runtime.settings import Settings
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


def start(settings: Settings, name: str) -> str:
    """Start service `name` under its supervisor unless it runs already; wait until SERVING.

    A supervisor that runs already is waited for, not doubled: its service may be between two
    restarts."""
    data = settings.data_dir
    target = settings.service_target(name)
    supervised = processes.running_pid(data, name) is not None
    if supervised and serving(settings, target):
        return f"already running on {target}"
    if not supervised:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PARLEY_DATA_DIR": str(data)}
        processes.start(data, name, [sys.executable, "-m", "stack.supervise", name], env=env,
                        cwd=REPO)
    processes.wait_until(lambda: serving(settings, target), "gRPC health", 60, data, name)
    what = "started" if not supervised else "restarted by its supervisor"
    return f"{what} on {target} (pid {processes.running_pid(data, name)})"


def start_all(settings: Settings) -> dict[str, str]:
    """Start every service in order; return what happened to each."""
    return {name: start(settings, name) for name in settings.process_names()}
