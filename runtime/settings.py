"""Configuration of a Parley install, read once from `PARLEY_*` environment variables."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

#: The service processes, in start-up order, with their offset from the gRPC base port.
SERVICE_NAMES: tuple[str, ...] = ("ingest", "store", "messaging", "gateway", "auth")
#: The projectors (`python -m store.projector`), `projector-1` to `projector-<N>` by
#: `PARLEY_PROJECTORS`, listen on the ports after the services'.
PROJECTOR = "projector"
#: The variable that tells a replicated process which one it is (`projector-2`).
PROCESS_ENV = "PARLEY_PROCESS"


def module_of(process: str) -> str:
    """The module a service process runs (`python -m <module>`)."""
    return "store.projector" if process.startswith(f"{PROJECTOR}-") else process


@dataclass(frozen=True)
class EdgeLimits:
    """What Envoy allows one request (413, 408 and 429 beyond it)."""

    #: Largest request body, on every path (a source's webhook too: its raw bytes must fit in one
    #: Kafka record, 1 MiB by default).
    max_body_bytes: int = 524_288
    #: Time to receive a whole request (headers and body): slow uploads are cut after it.
    request_timeout_s: float = 30.0
    #: Requests per second per API token (twice as many in a burst).
    rate_per_token: int = 500
    #: Requests per second per client address, on every path but the sources' webhooks.
    rate_per_address: int = 1000
    #: Requests per second per client address on the sources' webhook paths: a burst from Meta
    #: must never be refused.
    rate_webhooks: int = 5000


@dataclass(frozen=True)
class Settings:
    """Everything a service or the local stack needs to know about where things are."""

    #: Prefix of topics, Redis keys and consumer groups, so installs can share a Kafka and a Redis.
    namespace: str
    #: Folder of all local state (Kafka log, Redis data, pids, logs, rendered Envoy config).
    data_dir: Path
    #: Kafka bootstrap servers; `None` means "run the embedded local broker".
    kafka_bootstrap: str | None
    #: Port of the embedded local broker (its KRaft controller listens on the next port).
    kafka_port: int
    #: Redis URL; used as is when reachable, else a local redis-server is started on its port.
    redis_url: str
    #: Envoy's public port: JSON API, native gRPC and the sources' webhooks.
    http_port: int
    #: Envoy's admin port, bound to 127.0.0.1 only.
    envoy_admin_port: int
    #: The services listen on consecutive loopback ports from here, in `SERVICE_NAMES` order.
    grpc_base_port: int
    #: Partitions of every topic the platform creates.
    topic_partitions: int
    #: Projector processes (each owns a share of the partitions).
    projectors: int
    #: Log level name for the services.
    log_level: str
    #: Realtime events kept for resuming streams (about; older ones are trimmed).
    events_retained: int = 100_000
    #: Most conversations a `conversations.list` filter may check one by one (beyond its indexes).
    filter_evaluation_limit: int = 10_000
    #: Seconds an older layout's projection stays once a newer one serves (its readers' upgrade).
    old_layout_retire_s: float = 3600.0
    #: The name of this process when it is one of several replicas (`PARLEY_PROCESS`).
    process: str = ""
    #: The edge's bounds of every request (see `EdgeLimits`).
    edge: EdgeLimits = field(default_factory=EdgeLimits)
    #: Networks that outbound calls to user-given URLs may reach although they are not global
    #: (on-premise webhook receivers and action endpoints; `runtime.outbound`).
    outbound_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    #: Nodes (host, port) of a Redis Cluster to use instead of `redis_url` (any reachable ones:
    #: the client finds the rest); empty means the single Redis of `redis_url`.
    redis_cluster_nodes: tuple[tuple[str, int], ...] = ()

    @property
    def bootstrap_servers(self) -> str:
        """The Kafka bootstrap string the clients use (the embedded broker when none is set)."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.kafka_port}"

    def process_names(self) -> tuple[str, ...]:
        """Every service process of this install, in start-up order: the services, then the
        projectors."""
        return (*SERVICE_NAMES, *(f"{PROJECTOR}-{i}" for i in range(1, self.projectors + 1)))

    def service_port(self, name: str) -> int:
        """The loopback gRPC port of service process `name`."""
        if name in SERVICE_NAMES:
            return self.grpc_base_port + SERVICE_NAMES.index(name)
        return self.grpc_base_port + len(SERVICE_NAMES) - 1 + int(name.rsplit("-", 1)[1])

    def service_target(self, name: str) -> str:
        """The gRPC target (host:port) of service `name`."""
        return f"127.0.0.1:{self.service_port(name)}"

    def prefixed(self, name: str) -> str:
        """`name` under this install's namespace (topics, consumer groups)."""
        return f"{self.namespace}.{name}" if self.namespace else name


def load() -> Settings:
    """Read the settings from the environment, with the defaults of a local `make up`."""
    env = os.environ
    edge = EdgeLimits()
    return Settings(
        namespace=env.get("PARLEY_NAMESPACE", ""),
        data_dir=Path(env.get("PARLEY_DATA_DIR", ".data")).resolve(),
        kafka_bootstrap=env.get("PARLEY_KAFKA_BOOTSTRAP") or None,
        kafka_port=int(env.get("PARLEY_KAFKA_PORT", "9092")),
        redis_url=env.get("PARLEY_REDIS_URL", "redis://127.0.0.1:6379/0"),
        http_port=int(env.get("PARLEY_HTTP_PORT", "8080")),
        envoy_admin_port=int(env.get("PARLEY_ENVOY_ADMIN_PORT", "9901")),
        grpc_base_port=int(env.get("PARLEY_GRPC_BASE_PORT", "50061")),
        topic_partitions=int(env.get("PARLEY_TOPIC_PARTITIONS", "3")),
        projectors=int(env.get("PARLEY_PROJECTORS", "1")),
        process=env.get(PROCESS_ENV, ""),
        log_level=env.get("PARLEY_LOG_LEVEL", "INFO"),
        events_retained=int(env.get("PARLEY_EVENTS_RETAINED", "100000")),
        filter_evaluation_limit=int(env.get("PARLEY_FILTER_EVALUATION_LIMIT", "10000")),
        old_layout_retire_s=float(env.get("PARLEY_OLD_LAYOUT_RETIRE_S", "3600")),
        edge=EdgeLimits(
            max_body_bytes=int(env.get("PARLEY_EDGE_MAX_BODY_BYTES", edge.max_body_bytes)),
            request_timeout_s=float(env.get("PARLEY_EDGE_REQUEST_TIMEOUT_S", edge.request_timeout_s)),
            rate_per_token=int(env.get("PARLEY_EDGE_RATE_PER_TOKEN", edge.rate_per_token)),
            rate_per_address=int(env.get("PARLEY_EDGE_RATE_PER_ADDRESS", edge.rate_per_address)),
            rate_webhooks=int(env.get("PARLEY_EDGE_RATE_WEBHOOKS", edge.rate_webhooks)),
        ),
        outbound_allow=networks(env.get("PARLEY_OUTBOUND_ALLOW_CIDRS", "")),
        redis_cluster_nodes=cluster_nodes(env.get("PARLEY_REDIS_CLUSTER_NODES", "")),
    )


def networks(cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of `PARLEY_OUTBOUND_ALLOW_CIDRS`: comma-separated CIDRs ("10.0.0.0/8,
    fd00::/8"; a bare address is its own network); ValueError naming a bad one."""
    found = []
    for cidr in filter(None, (part.strip() for part in cidrs.split(","))):
        try:
            found.append(ipaddress.ip_network(cidr))
        except ValueError as exc:
            raise ValueError(f"PARLEY_OUTBOUND_ALLOW_CIDRS: {exc}") from exc
    return tuple(found)


def cluster_nodes(nodes: str) -> tuple[tuple[str, int], ...]:
    """The nodes of `PARLEY_REDIS_CLUSTER_NODES`: comma-separated `host:port` ("10.0.0.5:7000,
    [fd00::5]:7000"); ValueError naming a bad one."""
    found = []
    for node in filter(None, (part.strip() for part in nodes.split(","))):
        host, _, port = node.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"PARLEY_REDIS_CLUSTER_NODES: {node!r} is not host:port")
        found.append((host.strip("[]"), int(port)))
    return tuple(found)
