"""A local Redis Cluster of Debian's redis-server: primaries (and replicas) on consecutive loopback
ports, each node a component of its own (`redis-cluster-<port>`, by pid file), for the tests and
for trying `PARLEY_REDIS_CLUSTER_NODES`. `make up` never starts it."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import redis

from stack import processes

NAME = "redis-cluster"
#: Every hash slot of a cluster; all must be served for `cluster_state:ok`.
SLOTS = 16384
#: A primary that stops answering is failed over after this (Redis' default is 15 s).
NODE_TIMEOUT_MS = 3000
#: A node's cluster bus listens this far above its port (Redis' own default).
BUS_PORT_OFFSET = 10000
#: redis-server, then the cluster's forming, must be ready within these.
SERVER_TIMEOUT_S = 20.0
FORM_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Layout:
    """Which cluster: `primaries` primaries with `replicas` replicas each, from `first_port` on."""

    first_port: int
    primaries: int = 3
    replicas: int = 0

    @property
    def ports(self) -> range:
        """The ports of every node, primaries' and replicas'."""
        return range(self.first_port, self.first_port + self.primaries * (1 + self.replicas))

    def nodes_setting(self) -> str:
        """The value of `PARLEY_REDIS_CLUSTER_NODES` that reaches this cluster."""
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)


def node_name(port: int) -> str:
    """The component name (pid and log file) of the node on `port`."""
    return f"{NAME}-{port}"


def start(data_dir: Path, layout: Layout) -> list[int]:
    """Start the nodes not running yet, create the cluster unless they already form it, and wait
    until every node sees all slots served; return the ports of the nodes started here."""
    server = shutil.which("redis-server")
    if server is None:
        raise processes.StartError("redis-cluster: redis-server is not installed (run scripts/bootstrap.sh)")
    started = [port for port in layout.ports if _start_node(data_dir, server, port)]
    for port in layout.ports:
        processes.wait_until(partial(_answers, port), "server", SERVER_TIMEOUT_S,
                             data_dir, node_name(port))
    infos = [_info(port) for port in layout.ports]
    if all(info["cluster_known_nodes"] == "1" and info["cluster_slots_assigned"] == "0"
           for info in infos):
        _create(layout)
    elif any(info["cluster_known_nodes"] != str(len(layout.ports)) for info in infos):
        # Nodes that know another cluster: never join or reshard them silently.
        raise processes.StartError(
            f"redis-cluster: the nodes on ports {layout.ports.start}-{layout.ports.stop - 1} hold "
            f"another layout; stop them and remove {data_dir / NAME}")
    processes.wait_until(lambda: all(_ok(port, layout) for port in layout.ports), "cluster",
                         FORM_TIMEOUT_S, data_dir, node_name(layout.first_port))
    return started


def stop(data_dir: Path, ports: list[int] | None = None) -> list[tuple[str, int]]:
    """Stop the nodes on `ports` (every node started in `data_dir` when None); return
    (component, pid) of each one stopped. Their data stays: a restart gives the same cluster."""
    if ports is None:
        ports = sorted(int(path.stem.rsplit("-", 1)[1])
                       for path in (data_dir / "run").glob(f"{NAME}-*.pid"))
    stopped = [(node_name(port), processes.stop(data_dir, node_name(port))) for port in ports]
    return [(name, pid) for name, pid in stopped if pid is not None]


def _start_node(data_dir: Path, server: str, port: int) -> bool:
    """Start the node on `port` unless it runs; True when started here."""
    if processes.running_pid(data_dir, node_name(port)) is not None:
        return False
    home = data_dir / NAME / str(port)
    home.mkdir(parents=True, exist_ok=True)
    argv = [
        server, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(home),
        "--cluster-enabled", "yes", "--cluster-config-file", str(home / "nodes.conf"),
        "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
        "--cluster-port", str(port + BUS_PORT_OFFSET),
        "--appendonly", "yes", "--save", "", "--daemonize", "no", "--protected-mode", "yes",
    ]
    processes.start(data_dir, node_name(port), argv)
    return True


def _create(layout: Layout) -> None:
    """Assign the slots to the primaries and the replicas to them (`redis-cli --cluster create`)."""
    argv = ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{port}" for port in layout.ports),
            "--cluster-replicas", str(layout.replicas), "--cluster-yes"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=FORM_TIMEOUT_S)
    if done.returncode != 0:
        raise processes.StartError(f"redis-cluster: {' '.join(argv)} failed\n{done.stdout}{done.stderr}")


def _connection(port: int) -> redis.Redis:
    return redis.Redis(port=port, socket_connect_timeout=1, socket_timeout=2, decode_responses=True)


def _answers(port: int) -> bool:
    try:
        with _connection(port) as connection:
            return bool(connection.ping())
    except redis.RedisError:
        return False


def _info(port: int) -> dict[str, str]:
    """The node's `CLUSTER INFO`, field by field."""
    with _connection(port) as connection:
        return dict(connection.execute_command("CLUSTER INFO"))


def _ok(port: int, layout: Layout) -> bool:
    """True when the node on `port` knows every node and sees every slot served, and, a replica,
    has its primary's data (it could not take over otherwise)."""
    info = _info(port)
    with _connection(port) as connection:
        replication = connection.info("replication")
    synced = replication["role"] == "master" or replication.get("master_link_status") == "up"
    return (synced and info["cluster_state"] == "ok" and info["cluster_slots_ok"] == str(SLOTS)
            and info["cluster_known_nodes"] == str(len(layout.ports)))
