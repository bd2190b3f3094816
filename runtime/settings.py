"""Configuration of a Parley install, read once from `PARLEY_*` environment variables."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
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
class Endpoint:
    """Where one replica of a service listens: an address, or a DNS name that may stand for
    several (a Kubernetes headless service), and a port."""

    host: str
    port: int

    @property
    def named(self) -> bool:
        """True when `host` is a DNS name (resolved by the caller, e.g. Envoy's STRICT_DNS)."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return True
        return False

    def target(self) -> str:
        """`host:port` as gRPC and Envoy take it (an IPv6 address in brackets)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def endpoints(variable: str, value: str) -> tuple[Endpoint, ...]:
    """The comma-separated `host:port` endpoints of setting `variable` ("10.0.0.5:20062,
    store.parley.svc:20062"); ValueError naming a bad one."""
    found = []
    for endpoint in filter(None, (part.strip() for part in value.split(","))):
        host, _, port = endpoint.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{variable}: {endpoint!r} is not host:port")
        found.append(Endpoint(host.strip("[]"), int(port)))
    return tuple(found)


def upstream_variable(process: str) -> str:
    """The setting that lists the endpoints of service process `process` (`PARLEY_UPSTREAM_STORE`,
    `PARLEY_UPSTREAM_PROJECTOR_2`)."""
    return "PARLEY_UPSTREAM_" + process.upper().replace("-", "_")


@dataclass(frozen=True)
class MeshTls:
    """PEM files of mutual TLS between the edge and the services: every service presents the
    certificate and asks its callers for one signed by the CA, and Envoy (and the health checks)
    present it in turn. The trust boundary stays the edge, however far the services listen."""

    ca_file: str
    cert_file: str
    key_file: str


def _files(env: Mapping[str, str], names: tuple[str, ...], what: str) -> list[str] | None:
    """The files of settings `names`: all of them, or None when none is set."""
    found = [env.get(name, "") for name in names]
    if not any(found):
        return None
    if not all(found):
        raise ValueError(f"{what} needs all of {', '.join(names)}")
    return found


def mesh_tls(env: Mapping[str, str]) -> MeshTls | None:
    """`PARLEY_MESH_TLS_CA`, `_CERT` and `_KEY` (all three, or none: no mutual TLS)."""
    found = _files(env, ("PARLEY_MESH_TLS_CA", "PARLEY_MESH_TLS_CERT", "PARLEY_MESH_TLS_KEY"),
                   "mutual TLS")
    return None if found is None else MeshTls(*found)


@dataclass(frozen=True)
class EdgeTls:
    """PEM files of the certificate Envoy's public listener presents: TLS ends at the edge
    (HTTP/2 and HTTP/1.1 offered), for clients that reach it without a terminating proxy."""

    cert_file: str
    key_file: str


def edge_tls(env: Mapping[str, str]) -> EdgeTls | None:
    """`PARLEY_HTTP_TLS_CERT` and `_KEY` (both, or neither: plaintext)."""
    found = _files(env, ("PARLEY_HTTP_TLS_CERT", "PARLEY_HTTP_TLS_KEY"), "TLS at the edge")
    return None if found is None else EdgeTls(*found)


#: The codecs a batching producer may compress with.
KAFKA_CODECS = ("gzip", "lz4", "snappy", "zstd")


def kafka_compression(env: Mapping[str, str]) -> str:
    """`PARLEY_KAFKA_COMPRESSION`: one of `KAFKA_CODECS`, or empty (none)."""
    codec = env.get("PARLEY_KAFKA_COMPRESSION", "").strip().lower()
    if codec and codec not in KAFKA_CODECS:
        raise ValueError(f"PARLEY_KAFKA_COMPRESSION: {codec!r} is not one of "
                         f"{', '.join(KAFKA_CODECS)}")
    return codec


#: Kafka's security protocols and SASL mechanisms, as its clients name them.
KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class KafkaSecurity:
    """How every Kafka client of the install authenticates and encrypts (the brokers' listener)."""

    #: One of `KAFKA_PROTOCOLS`.
    protocol: str = "PLAINTEXT"
    #: One of `KAFKA_SASL_MECHANISMS`, with a SASL protocol.
    sasl_mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    #: Never logged: kept out of the settings' repr.
    password: str = field(default="", repr=False)
    #: PEM file of the CA that signed the brokers' certificates (SSL protocols; empty: the
    #: system's trusted CAs).
    ca_file: str = ""

    @property
    def sasl(self) -> bool:
        """True when clients authenticate with SASL."""
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        """True when connections to the brokers are encrypted."""
        return self.protocol in ("SSL", "SASL_SSL")


def kafka_security(env: Mapping[str, str]) -> KafkaSecurity:
    """The `PARLEY_KAFKA_*` security settings; ValueError naming a bad or missing one."""
    found = KafkaSecurity(
        protocol=env.get("PARLEY_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper(),
        sasl_mechanism=env.get("PARLEY_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512").upper(),
        username=env.get("PARLEY_KAFKA_SASL_USERNAME", ""),
        password=env.get("PARLEY_KAFKA_SASL_PASSWORD", ""),
        ca_file=env.get("PARLEY_KAFKA_SSL_CA_FILE", ""),
    )
    if found.protocol not in KAFKA_PROTOCOLS:
        raise ValueError(f"PARLEY_KAFKA_SECURITY_PROTOCOL: {found.protocol!r} is not one of "
                         f"{', '.join(KAFKA_PROTOCOLS)}")
    if found.sasl and found.sasl_mechanism not in KAFKA_SASL_MECHANISMS:
        raise ValueError(f"PARLEY_KAFKA_SASL_MECHANISM: {found.sasl_mechanism!r} is not one of "
                         f"{', '.join(KAFKA_SASL_MECHANISMS)}")
    if found.sasl and not (found.username and found.password):
        raise ValueError(f"{found.protocol} needs PARLEY_KAFKA_SASL_USERNAME and "
                         "PARLEY_KAFKA_SASL_PASSWORD")
    if found.ca_file and not Path(found.ca_file).is_file():
        raise ValueError(f"PARLEY_KAFKA_SSL_CA_FILE: {found.ca_file} is not a file")
    return found


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
    #: This replica's name, unique in the install (`PARLEY_INSTANCE`, e.g. a pod's name; the
    #: local supervisor's process name by default): its consumers join their groups as static
    #: members under it, so a restart within the session keeps its partitions without a
    #: rebalance. Empty: dynamic members.
    instance: str = ""
    #: The edge's bounds of every request (see `EdgeLimits`).
    edge: EdgeLimits = field(default_factory=EdgeLimits)
    #: Networks that outbound calls to user-given URLs may reach although they are not global
    #: (on-premise webhook receivers and action endpoints; `runtime.outbound`).
    outbound_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    #: Nodes (host, port) of a Redis Cluster to use instead of `redis_url` (any reachable ones:
    #: the client finds the rest); empty means the single Redis of `redis_url`.
    redis_cluster_nodes: tuple[tuple[str, int], ...] = ()
    #: Copies of each partition of the platform's topics (`parley topics apply`).
    kafka_replication_factor: int = 1
    #: Copies that must have a record before it is acknowledged (acks=all): the topics'
    #: `min.insync.replicas`.
    kafka_min_insync_replicas: int = 1
    #: How long a batching producer (`runtime.kafka.producer`) waits for more records per request.
    kafka_linger_ms: int = 5
    #: The codec of a batching producer's requests: gzip, lz4, snappy, zstd, or "" (none). Codecs
    #: other than gzip need their Python package installed.
    kafka_compression: str = ""
    #: How the Kafka clients connect (see `KafkaSecurity`).
    kafka_security: KafkaSecurity = field(default_factory=KafkaSecurity)
    #: Mutual TLS between the edge and the services (None: plaintext, on loopback only).
    mesh_tls: MeshTls | None = None
    #: The address this process's gRPC server listens on (`0.0.0.0` or `::`: every interface).
    bind_host: str = "127.0.0.1"
    #: The address others reach this process at (default: `bind_host`, or this machine's name
    #: when that is a wildcard).
    advertise_host: str = "127.0.0.1"
    #: Endpoints of each service process (`PARLEY_UPSTREAM_<PROCESS>`), where Envoy and the health
    #: checks find its replicas; a process not listed is at `advertise_host` and its own port.
    upstreams: dict[str, tuple[Endpoint, ...]] = field(default_factory=dict)
    #: The address Envoy's public listener binds (`0.0.0.0` in a container; its admin port stays
    #: on 127.0.0.1).
    http_host: str = "127.0.0.1"
    #: TLS of Envoy's public listener (None: plaintext).
    http_tls: EdgeTls | None = None
    #: Envoy's worker threads.
    envoy_concurrency: int = 2

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

    def service_endpoints(self, name: str) -> tuple[Endpoint, ...]:
        """Where the replicas of service process `name` are: `PARLEY_UPSTREAM_<NAME>`, else this
        machine's advertised address and the process's port."""
        return self.upstreams.get(name) or (Endpoint(self.advertise_host, self.service_port(name)),)

    def service_target(self, name: str) -> str:
        """The gRPC target (host:port) of this machine's process `name`."""
        return Endpoint(self.advertise_host, self.service_port(name)).target()

    def prefixed(self, name: str) -> str:
        """`name` under this install's namespace (topics, consumer groups)."""
        return f"{self.namespace}.{name}" if self.namespace else name


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (or `env`), with the defaults of a local `make up`."""
    env = os.environ if env is None else env
    edge = EdgeLimits()
    bind_host = env.get("PARLEY_BIND_HOST", "127.0.0.1")
    return Settings(
        namespace=env.get("PARLEY_NAMESPACE", ""),
        data_dir=Path(env.get("PARLEY_DATA_DIR", ".data")).resolve(),
        kafka_bootstrap=env.get("PARLEY_KAFKA_BOOTSTRAP") or None,
        kafka_port=int(env.get("PARLEY_KAFKA_PORT", "9092")),
        redis_url=env.get("PARLEY_REDIS_URL", "redis://127.0.0.1:6379/0"),
        http_port=int(env.get("PARLEY_HTTP_PORT", "8080")),
        http_host=env.get("PARLEY_HTTP_HOST", "127.0.0.1"),
        http_tls=edge_tls(env),
        envoy_concurrency=int(env.get("PARLEY_ENVOY_CONCURRENCY", "2")),
        envoy_admin_port=int(env.get("PARLEY_ENVOY_ADMIN_PORT", "9901")),
        grpc_base_port=int(env.get("PARLEY_GRPC_BASE_PORT", "20061")),
        topic_partitions=int(env.get("PARLEY_TOPIC_PARTITIONS", "3")),
        projectors=int(env.get("PARLEY_PROJECTORS", "1")),
        process=env.get(PROCESS_ENV, ""),
        instance=env.get("PARLEY_INSTANCE") or env.get(PROCESS_ENV, ""),
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
        kafka_replication_factor=int(env.get("PARLEY_KAFKA_REPLICATION_FACTOR", "1")),
        kafka_min_insync_replicas=int(env.get("PARLEY_KAFKA_MIN_INSYNC_REPLICAS", "1")),
        kafka_linger_ms=int(env.get("PARLEY_KAFKA_LINGER_MS", "5")),
        kafka_compression=kafka_compression(env),
        kafka_security=kafka_security(env),
        mesh_tls=mesh_tls(env),
        bind_host=bind_host,
        advertise_host=env.get("PARLEY_ADVERTISE_HOST") or (
            socket.gethostname() if bind_host in WILDCARDS else bind_host),
        upstreams={name: found for name in _upstream_names(env)
                   if (found := endpoints(upstream_variable(name), env[upstream_variable(name)]))},
    )


#: Bind addresses that mean "every interface".
WILDCARDS = ("0.0.0.0", "::", "")


def _upstream_names(env: Mapping[str, str]) -> list[str]:
    """The processes named by `PARLEY_UPSTREAM_*` settings (`store`, `projector-2`)."""
    prefix = upstream_variable("")
    return [variable.removeprefix(prefix).lower().replace("_", "-") for variable in env
            if variable.startswith(prefix)]


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
    return tuple((e.host, e.port) for e in endpoints("PARLEY_REDIS_CLUSTER_NODES", nodes))
