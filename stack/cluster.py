"""`make cluster`: Parley as a mesh on this one machine. Three Kafka nodes (KRaft, replication
factor 3, `min.insync.replicas` 2, clients and brokers on SCRAM), a Redis Cluster of three
primaries with a replica each, two replicas of every service process on their own loopback
addresses (127.0.0.2, 127.0.0.3; mutual TLS with the edge), and Envoy balancing them on
`PARLEY_HTTP_PORT`, as `make up`'s Envoy does.

Everything is derived from the same settings as `make up` (data folder, ports), so the two share
the admin token file and cannot run at once; each component is a process of its own under a pid
file, so `cluster-down` stops exactly what `cluster` started and a fault suite can kill any one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urlparse

from runtime.settings import PROJECTOR, Settings, upstream_variable
from runtime import settings as settings_module
from stack import envoy, kafka, mesh_tls, objectstore, processes, redis_cluster, services, stack

#: The replicas' addresses: any 127/8 address works on Linux's loopback without setup.
REPLICA_HOSTS = ("127.0.0.2", "127.0.0.3")
#: The cluster's first Kafka node listens this far above `PARLEY_KAFKA_PORT` (three ports a node).
KAFKA_PORT_OFFSET = 10
#: The Redis Cluster's first node listens this far above the port of `PARLEY_REDIS_URL`.
REDIS_PORT_OFFSET = 1000


@dataclass(frozen=True)
class Member:
    """One process of the cluster."""

    #: Its component name (pid and log file).
    name: str
    #: kafka, redis, envoy, or the service process it runs (ingest, store, projector-1, ...).
    kind: str
    address: str


@dataclass(frozen=True)
class Topology:
    """Where each part of the local cluster runs."""

    kafka: tuple[kafka.Node, ...]
    redis: redis_cluster.Layout
    hosts: tuple[str, ...] = REPLICA_HOSTS


def topology(base: Settings) -> Topology:
    """The cluster of `base`'s data folder and ports."""
    redis_port = urlparse(base.redis_url).port or 6379
    return Topology(kafka.cluster_nodes(base.kafka_port + KAFKA_PORT_OFFSET),
                    redis_cluster.Layout(redis_port + REDIS_PORT_OFFSET, primaries=3, replicas=1))


def environment(base: Settings) -> dict[str, str]:
    """The settings every process of the cluster runs with, beyond `base`'s environment: Kafka
    over SCRAM with replication, the Redis Cluster, mutual TLS, and each service's replicas."""
    where = topology(base)
    tls = mesh_tls.make(base.data_dir / "mesh")
    env = {
        # Where everything is, as `base` has it, whatever the environment of the caller.
        "PARLEY_DATA_DIR": str(base.data_dir),
        "PARLEY_NAMESPACE": base.namespace,
        "PARLEY_HTTP_PORT": str(base.http_port),
        "PARLEY_ENVOY_ADMIN_PORT": str(base.envoy_admin_port),
        "PARLEY_GRPC_BASE_PORT": str(base.grpc_base_port),
        "PARLEY_PROJECTORS": str(base.projectors),
        "PARLEY_TOPIC_PARTITIONS": str(base.topic_partitions),
        "PARLEY_KAFKA_BOOTSTRAP": kafka.bootstrap(where.kafka, sasl=True),
        "PARLEY_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "PARLEY_KAFKA_SASL_MECHANISM": kafka.INTER_BROKER_MECHANISM,
        "PARLEY_KAFKA_SASL_USERNAME": kafka.SASL_USER,
        "PARLEY_KAFKA_SASL_PASSWORD": kafka.secret(kafka.sasl_password_file(base)),
        "PARLEY_KAFKA_REPLICATION_FACTOR": str(len(where.kafka)),
        "PARLEY_KAFKA_MIN_INSYNC_REPLICAS": str(len(where.kafka) - 1),
        "PARLEY_REDIS_CLUSTER_NODES": where.redis.nodes_setting(),
        "PARLEY_MESH_TLS_CA": tls.ca_file,
        "PARLEY_MESH_TLS_CERT": tls.cert_file,
        "PARLEY_MESH_TLS_KEY": tls.key_file,
    }
    for process in base.process_names():
        port = base.service_port(process)
        env[upstream_variable(process)] = ",".join(f"{host}:{port}" for host in where.hosts)
    return env


def settings(base: Settings) -> Settings:
    """The settings of the cluster's own tools (topics, admin token, health checks)."""
    return settings_module.load({**os.environ, **environment(base)})


def members(base: Settings) -> list[Member]:
    """Every process of the cluster, in start order (`down` goes in reverse)."""
    where = topology(base)
    found = [Member(node.name, "kafka", f"127.0.0.1:{node.port}") for node in where.kafka]
    found += [Member(redis_cluster.node_name(port), "redis", f"127.0.0.1:{port}")
              for port in where.redis.ports]
    found += [Member(services.component(process, host),
                     PROJECTOR if process.startswith(PROJECTOR) else process,
                     f"{host}:{base.service_port(process)}")
              for process in base.process_names() for host in where.hosts]
    if base.media.local:
        found.append(Member(objectstore.NAME, "objectstore", base.media.endpoint))
    found.append(Member(envoy.NAME, "envoy", f"127.0.0.1:{base.http_port}"))
    return found


def up(base: Settings) -> list[tuple[str, str]]:
    """Start what is not running yet and wait until all is healthy; (component, what it did)."""
    single = [name for name in stack.components(base)
              if name != envoy.NAME and processes.running_pid(base.data_dir, name) is not None]
    if single:
        raise processes.StartError(f"`make up`'s stack runs here ({', '.join(single)}): "
                                   "stop it with `make down` first")
    where = topology(base)
    report = [("kafka", kafka.start_nodes(base, stack.CACHE_DIR, where.kafka))]
    started = redis_cluster.start(base.data_dir, where.redis)
    report.append(("redis", f"started ports {started}" if started else "already running"))
    mesh = settings(base)
    report.append(("topics", stack.topics(mesh)))
    report.append((objectstore.NAME, objectstore.start(mesh, stack.CACHE_DIR)))
    report += services.start_replicas(mesh, base.process_names(), where.hosts,
                                      environment(base)).items()
    report.append((envoy.NAME, envoy.start(mesh)))
    report.append(("admin token", stack.admin_token(mesh)))
    return report


def down(base: Settings) -> list[tuple[str, int]]:
    """Stop every process of the cluster that runs: Envoy, then the services, then Redis, then
    Kafka, each kind all at once; (component, pid) of each one stopped."""
    stopped: list[tuple[str, int]] = []
    for kinds in (("envoy",), None, ("redis",), ("kafka",)):
        tier = [m.name for m in members(base) if (m.kind in kinds if kinds else
                                                   m.kind not in ("envoy", "redis", "kafka"))]
        stopped += processes.stop_together(base.data_dir, tier).items()
    return stopped


class MemberStatus(TypedDict):
    """A process of the cluster as `status` reports it (`make cluster-status` prints it as JSON)."""

    name: str
    kind: str
    pid: int | None
    address: str


def status(base: Settings) -> list[MemberStatus]:
    """Each process of the cluster: name, kind, pid (None when not running), address."""
    return [{"name": member.name, "kind": member.kind,
             "pid": processes.running_pid(base.data_dir, member.name), "address": member.address}
            for member in members(base)]


def running(base: Settings) -> bool:
    """True when any Kafka node of the cluster runs (`make up` must not start beside it)."""
    return any(processes.running_pid(base.data_dir, node.name) is not None
               for node in topology(base).kafka)
