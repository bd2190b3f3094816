"""The faults `make chaos` injects into the local cluster (`stack.cluster`): each a `kill -9` of
one process, and how the process comes back (started again, or by its supervisor)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass

import redis

from runtime.settings import Endpoint, Settings
from stack import cluster, kafka, processes, redis_cluster, services, stack, supervise


@dataclass(frozen=True)
class Fault:
    """One process killed, and its return."""

    name: str
    kill: Callable[[], None]
    #: Brings it back and waits until it serves (what it returns is not used).
    restore: Callable[[], object]
    #: True when it comes back by itself (its supervisor): `restore` only waits for it.
    supervised: bool = False


def _kill(settings: Settings, component: str) -> None:
    pid = processes.running_pid(settings.data_dir, component)
    if pid is None:
        raise RuntimeError(f"{component} is not running")
    os.kill(pid, signal.SIGKILL)


def broker(base: Settings) -> Fault:
    """The second Kafka node; started again (it catches up and rejoins every ISR)."""
    nodes = cluster.topology(base).kafka
    return Fault(f"kill -9 Kafka node {nodes[1].name}", lambda: _kill(base, nodes[1].name),
                 lambda: kafka.start_nodes(base, stack.CACHE_DIR, nodes))


def _primary(layout: redis_cluster.Layout) -> int:
    """The port of a primary of the cluster, the first one found."""
    for port in layout.ports:
        with redis.Redis(port=port, socket_timeout=2) as node:
            if node.info("replication")["role"] == "master":
                return port
    raise RuntimeError("the Redis Cluster has no primary")


def redis_primary(base: Settings) -> Fault:
    """A Redis primary (its replica takes over); started again, it rejoins as a replica."""
    layout = cluster.topology(base).redis
    port = _primary(layout)
    return Fault(f"kill -9 Redis primary :{port}",
                 lambda: _kill(base, redis_cluster.node_name(port)),
                 lambda: redis_cluster.start(base.data_dir, layout))


def service_replica(base: Settings, mesh: Settings, process: str, host: str) -> Fault:
    """The service process of one replica; its supervisor starts it again."""
    component = services.component(process, host)
    target = Endpoint(host, base.service_port(process)).target()

    def kill() -> None:
        pid = supervise.child_pid(base.data_dir, component)
        if not pid:
            raise RuntimeError(f"{component} has no running process")
        os.kill(pid, signal.SIGKILL)

    def restore() -> None:
        processes.wait_until(lambda: services.serving(mesh, target), "gRPC health", 60,
                             base.data_dir, component)

    return Fault(f"kill -9 {component}", kill, restore, supervised=True)


def every_fault(base: Settings, mesh: Settings) -> list[Fault]:
    """One Kafka node, one Redis primary, and one replica of each service process."""
    host = cluster.REPLICA_HOSTS[0]
    return [broker(base), redis_primary(base),
            *(service_replica(base, mesh, process, host) for process in base.process_names())]
