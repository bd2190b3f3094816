"""Configuration of a Parley install, read once from `PARLEY_*` environment variables.

Each variable is declared once below (`runtime.setting.Setting`: name, default, type, meaning);
`load` reads the declarations, and README's table is generated from them
(`python -m runtime.settings_table --write`). The settings of what the services do (retries,
timeouts, lifetimes) are declared in `runtime.service_settings`, each source's in its spec
(`Source.settings`, `sources/<source>.py`).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.outbound import Network
from runtime.setting import Setting, declared, read_fields

#: The service processes, in start-up order, with their offset from the gRPC base port.
SERVICE_NAMES: tuple[str, ...] = ("ingest", "store", "messaging", "gateway", "auth")
#: Which process serves which gRPC service of the API: Envoy routes by this, and the public
#: port's health of a service asks that process.
SERVICES_BY_PROCESS: dict[str, tuple[str, ...]] = {
    "ingest": ("IngestService", "SourcesService"),
    "store": (
        "MessagesService", "ConversationsService", "MetadataService", "ChannelsService",
        "TagsService", "TemplatesService", "ContactsService",
    ),
    "messaging": ("MessagingService", "SourceLookupsService"),
    "gateway": ("EventsService", "WebhooksService", "ChatPluginService", "StatusService",
                "MediaService"),
    # Envoy's external authorization (auth/), asked about every request; and the API tokens.
    "auth": ("TokensService", "UsersService"),
}
#: The process that serves each gRPC service of the API (`SERVICES_BY_PROCESS` the other way).
PROCESS_OF_SERVICE: dict[str, str] = {service: process
                                      for process, services in SERVICES_BY_PROCESS.items()
                                      for service in services}

#: The projectors (`python -m store.projector`), `projector-1` to `projector-<N>` by
#: `PARLEY_PROJECTORS`, listen on the ports after the services'.
PROJECTOR = "projector"
#: The variable that tells a replicated process which one it is (`projector-2`).
PROCESS_ENV = "PARLEY_PROCESS"
#: Bind addresses that mean "every interface".
WILDCARDS = ("0.0.0.0", "::", "")
#: The codecs a batching producer may compress with.
KAFKA_CODECS = ("gzip", "lz4", "snappy", "zstd")
#: Kafka's security protocols and SASL mechanisms, as its clients name them.
KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def module_of(process: str) -> str:
    """The module a service process runs (`python -m <module>`)."""
    return "store.projector" if process.startswith(f"{PROJECTOR}-") else process


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


def _comma_separated(raw: str) -> list[str]:
    """The non-empty items of a comma-separated setting, stripped."""
    return [part.strip() for part in raw.split(",") if part.strip()]


def endpoints(value: str) -> tuple[Endpoint, ...]:
    """Comma-separated `host:port` endpoints ("10.0.0.5:20062, store.parley.svc:20062");
    ValueError naming a bad one."""
    found = []
    for endpoint in _comma_separated(value):
        host, _, port = endpoint.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{endpoint!r} is not host:port")
        found.append(Endpoint(host.strip("[]"), int(port)))
    return tuple(found)


def cluster_nodes(nodes: str) -> tuple[tuple[str, int], ...]:
    """Comma-separated `host:port` nodes of a Redis Cluster ("10.0.0.5:7000,[fd00::5]:7000");
    ValueError naming a bad one."""
    return tuple((e.host, e.port) for e in endpoints(nodes))


def networks(cidrs: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs ("10.0.0.0/8,fd00::/8"; a bare address is its own network);
    ValueError naming a bad one."""
    return tuple(ipaddress.ip_network(cidr)
                 for cidr in _comma_separated(cidrs))


def upstream_variable(process: str) -> str:
    """The setting that lists the endpoints of service process `process` (`PARLEY_UPSTREAM_STORE`,
    `PARLEY_UPSTREAM_PROJECTOR_2`)."""
    return "PARLEY_UPSTREAM_" + process.upper().replace("-", "_")


def _codec(raw: str) -> str:
    """One of `KAFKA_CODECS` in lower case, or "" (none)."""
    codec = raw.strip().lower()
    if codec and codec not in KAFKA_CODECS:
        raise ValueError(f"{codec!r} is not one of {', '.join(KAFKA_CODECS)}")
    return codec


def cors_origins(raw: str) -> tuple[str, ...]:
    """Comma-separated origins (`scheme://host[:port]`, as browsers send them), or `*` alone;
    ValueError naming a bad one."""
    found = tuple(_comma_separated(raw))
    if "*" in found:
        if len(found) > 1:
            raise ValueError("`*` stands alone: it allows every origin")
        return found
    for origin in found:
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest:
            raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path)")
    return found


def _unless_empty(raw: str) -> str | None:
    """The text, None when it is empty (then the default applies)."""
    return raw or None


# Where things are: Envoy and the services.
HTTP_PORT = Setting("PARLEY_HTTP_PORT", 8080, int, "Envoy's public port (JSON, gRPC, webhooks)")
HTTP_HOST = Setting(
    "PARLEY_HTTP_HOST", "127.0.0.1", str,
    "the address Envoy's public listener binds (`0.0.0.0` in a container; its admin port stays "
    "on loopback)")
HTTP_TLS_CERT = Setting(
    "PARLEY_HTTP_TLS_CERT", "", str,
    "PEM certificate of Envoy's public listener (with `PARLEY_HTTP_TLS_KEY`, both or neither): "
    "TLS ends at the edge, HTTP/2 (gRPC) and HTTP/1.1 offered", shown="unset: plaintext")
HTTP_TLS_KEY = Setting("PARLEY_HTTP_TLS_KEY", "", str,
                       "PEM key of `PARLEY_HTTP_TLS_CERT`", shown="unset: plaintext")
ENVOY_CONCURRENCY = Setting("PARLEY_ENVOY_CONCURRENCY", 2, int, "Envoy's worker threads")
ENVOY_ADMIN_PORT = Setting("PARLEY_ENVOY_ADMIN_PORT", 9901, int,
                           "Envoy's admin port (127.0.0.1 only)")
GRPC_BASE_PORT = Setting(
    "PARLEY_GRPC_BASE_PORT", 20061, int,
    "ingest, store, messaging, gateway, auth listen on this port and the next four, the "
    "projectors on the ports after them (keep them below Linux's ephemeral range, 32768-60999: "
    "a port there can be held by the local end of any client connection, and a restarted "
    "service refused it)")
METRICS_PORT_OFFSET = Setting(
    "PARLEY_METRICS_PORT_OFFSET", 200, int,
    "each service process serves its Prometheus metrics at `/metrics` on its gRPC port plus this "
    "(on `PARLEY_BIND_HOST`; 0: no metrics endpoint)")
PROMETHEUS_PORT = Setting(
    "PARLEY_PROMETHEUS_PORT", 0, int,
    "`make up` also starts Prometheus (Debian's package) on this port of 127.0.0.1, scraping every "
    "process and Envoy every 5 s (0: none)")
OTLP_ENDPOINT = Setting(
    "PARLEY_OTLP_ENDPOINT", "", str,
    "OTLP/HTTP endpoint (`http://collector:4318`) the services and Envoy export trace spans to; "
    "empty: none are recorded, though a caller's `traceparent` still flows to the event stream")
BIND_HOST = Setting(
    "PARLEY_BIND_HOST", "127.0.0.1", str,
    "the address a service listens on (`0.0.0.0` or `::`: every interface; beyond loopback only "
    "with mutual TLS: see Security)")
MESH_TLS_CA = Setting(
    "PARLEY_MESH_TLS_CA", "", str,
    "PEM file of the CA of mutual TLS between Envoy and the services (with `_CERT` and `_KEY`: "
    "all three or none)")
MESH_TLS_CERT = Setting(
    "PARLEY_MESH_TLS_CERT", "", str,
    "PEM certificate every service presents, and Envoy and the health checks present in turn")
MESH_TLS_KEY = Setting("PARLEY_MESH_TLS_KEY", "", str, "PEM key of `PARLEY_MESH_TLS_CERT`")
ADVERTISE_HOST = Setting(
    "PARLEY_ADVERTISE_HOST", "", str, "the address others reach this machine's services at",
    shown="the bind address (this machine's name when that is a wildcard)")
PROCESS = Setting(
    PROCESS_ENV, "", str,
    "which service process this is when it is one of several (`projector-2`); set by the "
    "supervisor of `make up` and by the chart")
INSTANCE = Setting(
    "PARLEY_INSTANCE", "", str,
    "this replica's name, unique in the install (a pod's name): its Kafka consumers are static "
    "group members under it, so a restart keeps their partitions without a rebalance (empty: "
    "dynamic members)", shown="`PARLEY_PROCESS` (the local process name)")
UPSTREAM: Setting[tuple[Endpoint, ...]] = Setting(
    upstream_variable("<PROCESS>"), (), endpoints,
    "`host:port,host:port` of a process's replicas (`PARLEY_UPSTREAM_STORE`, "
    "`PARLEY_UPSTREAM_PROJECTOR_2`): Envoy balances over them (a DNS name, such as a Kubernetes "
    "headless service, is resolved to all its addresses), health-checks each over "
    "`grpc.health.v1` every second, ejects one whose calls fail, retries reads on another; "
    "`/health` checks each", shown="this machine's process")

# Kafka.
KAFKA_BOOTSTRAP = Setting("PARLEY_KAFKA_BOOTSTRAP", None, _unless_empty,
                          "use this Kafka instead of starting the embedded broker")
KAFKA_PORT = Setting(
    "PARLEY_KAFKA_PORT", 9092, int,
    "port of the embedded broker (its controller uses the next one, its SASL/SCRAM listener the "
    "one after)")
KAFKA_SECURITY_PROTOCOL = Setting(
    "PARLEY_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", str.upper,
    "how every Kafka client connects: `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL` (see "
    "Kafka below)")
KAFKA_SASL_MECHANISM = Setting("PARLEY_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", str.upper,
                               "`PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`, with a SASL protocol")
KAFKA_SASL_USERNAME = Setting("PARLEY_KAFKA_SASL_USERNAME", "", str,
                              "the SASL user (required with a SASL protocol)")
KAFKA_SASL_PASSWORD = Setting("PARLEY_KAFKA_SASL_PASSWORD", "", str,
                              "the SASL user's password (required with a SASL protocol; never "
                              "logged)")
KAFKA_SSL_CA_FILE = Setting("PARLEY_KAFKA_SSL_CA_FILE", "", str,
                            "PEM file of the CA that signed the brokers' certificates",
                            shown="system CAs")
KAFKA_REPLICATION_FACTOR = Setting(
    "PARLEY_KAFKA_REPLICATION_FACTOR", 1, int,
    "copies of each partition of the platform's topics (`parley topics apply`)")
KAFKA_MIN_INSYNC_REPLICAS = Setting(
    "PARLEY_KAFKA_MIN_INSYNC_REPLICAS", 1, int,
    "copies a record must reach before it is acknowledged (topics' `min.insync.replicas`)")
KAFKA_LINGER_MS = Setting(
    "PARLEY_KAFKA_LINGER_MS", 5, int,
    "how long a batching producer (the translator, a reprocess) waits for more records per "
    "request")
KAFKA_ACK_LINGER_MS = Setting(
    "PARLEY_KAFKA_ACK_LINGER_MS", 2, int,
    "how long a producer whose callers wait for each record's acknowledgement (webhooks, "
    "commands) waits for more records per request: concurrent webhooks share one request, which "
    "costs the brokers and the services less than one each (0: send at once)")
KAFKA_COMPRESSION = Setting(
    "PARLEY_KAFKA_COMPRESSION", "", _codec,
    "codec of a batching producer's requests: `gzip` (others need their Python package: `lz4`, "
    "`snappy`, `zstd`)", shown="(none)")
KAFKA_HEAP = Setting("PARLEY_KAFKA_HEAP", "-Xms128m -Xmx384m", str,
                     "JVM heap of the embedded broker")

# Redis, topics, projectors, local state.
REDIS_URL = Setting("PARLEY_REDIS_URL", "redis://127.0.0.1:6379/0", str,
                    "used when reachable, else a local `redis-server` is started on its port")
REDIS_CLUSTER_NODES: Setting[tuple[tuple[str, int], ...]] = Setting(
    "PARLEY_REDIS_CLUSTER_NODES", (), cluster_nodes,
    "`host:port,host:port,...` of a Redis Cluster to use instead of `PARLEY_REDIS_URL` (any "
    "reachable ones: the client finds the rest; see Redis Cluster below)", shown="empty")
NAMESPACE = Setting(
    "PARLEY_NAMESPACE", "", str,
    "prefix of topics, Redis keys and consumer groups (several installs, one cluster)",
    shown="empty")
TOPIC_PARTITIONS = Setting(
    "PARLEY_TOPIC_PARTITIONS", 3, int,
    "partitions of the topics the platform creates (the most projectors that can share the work)")
PROJECTORS = Setting(
    "PARLEY_PROJECTORS", 1, int,
    "projector processes `make up` starts (`projector-1` ...; their health ports follow the "
    "services')")
OLD_LAYOUT_RETIRE_S = Setting(
    "PARLEY_OLD_LAYOUT_RETIRE_S", 3600.0, float,
    "seconds an older layout's projection stays in Redis once a newer one serves (the time to "
    "upgrade its readers; see Generations)")
DATA_DIR = Setting("PARLEY_DATA_DIR", Path(".data"), Path,
                   "Kafka log, Redis data, pids, logs (`.data/logs/<component>.log`), rendered "
                   "Envoy config")
CACHE_DIR = Setting("PARLEY_CACHE_DIR", "", str,
                    "downloaded and built tools of `make up` (the Kafka broker's jars)",
                    shown="`.cache` in the repository")
LOG_LEVEL = Setting("PARLEY_LOG_LEVEL", "INFO", str, "log level of the services")
PUBLIC_URL = Setting("PARLEY_PUBLIC_URL", "", str,
                     "the URL the sources call (Twilio signs it), e.g. `https://parley.example.com`",
                     shown="`http://127.0.0.1:<PARLEY_HTTP_PORT>`")

# Media (media.upload).
MEDIA_S3_URL = Setting(
    "PARLEY_MEDIA_S3_URL", "", str,
    "S3 endpoint uploaded media is stored in (`https://s3.eu-west-1.amazonaws.com`, MinIO, "
    "SeaweedFS, ...)", shown="the object store `make up` starts (SeaweedFS, on "
    "`PARLEY_OBJECTSTORE_PORT`)")
OBJECTSTORE_PORT = Setting(
    "PARLEY_OBJECTSTORE_PORT", 8333, int,
    "S3 port of the object store `make up` starts while `PARLEY_MEDIA_S3_URL` is unset "
    "(SeaweedFS, on 127.0.0.1; its master, volume and filer take the next seven ports)")
MEDIA_BUCKET = Setting("PARLEY_MEDIA_BUCKET", "parley-media", str,
                       "the bucket media is stored in (`make up` makes it in its own store)")
MEDIA_S3_REGION = Setting("PARLEY_MEDIA_S3_REGION", "us-east-1", str,
                          "the region requests to the S3 endpoint are signed for")
MEDIA_S3_ACCESS_KEY = Setting(
    "PARLEY_MEDIA_S3_ACCESS_KEY", "", str, "access key of the S3 endpoint",
    shown="the local store's, made on its first start")
MEDIA_S3_SECRET_KEY = Setting(
    "PARLEY_MEDIA_S3_SECRET_KEY", "", str, "secret key of the S3 endpoint (never logged)",
    shown="the local store's, made on its first start")
MEDIA_PUBLIC_URL = Setting(
    "PARLEY_MEDIA_PUBLIC_URL", "", str,
    "the base URL media URLs start with: where the bucket's objects can be read by anyone "
    "(the sources fetch attachments from there)",
    shown="`PARLEY_PUBLIC_URL` + `/media` (Envoy serves the local store's objects there)")
MEDIA_MAX_BYTES = Setting("PARLEY_MEDIA_MAX_BYTES", 16_777_216, int,
                          "largest file `media.upload` takes (413 beyond)")

# Reads and outbound calls.
EVENTS_RETAINED = Setting(
    "PARLEY_EVENTS_RETAINED", 100_000, int,
    "realtime events kept for resuming (about; shared by the log's streams, one per partition "
    "and a global one)")
FILTER_EVALUATION_LIMIT = Setting(
    "PARLEY_FILTER_EVALUATION_LIMIT", 10_000, int,
    "most conversations a `conversations.list` filter may check one by one beyond its indexes "
    "(more: 400)")
OUTBOUND_ALLOW_CIDRS: Setting[tuple[Network, ...]] = Setting(
    "PARLEY_OUTBOUND_ALLOW_CIDRS", (), networks,
    "comma-separated networks (`10.0.0.0/8,fd00::/8`) that webhooks and custom sources' action "
    "endpoints may reach although they are not global; the sources' `PARLEY_<SOURCE>_API_URL` "
    "are never restricted", shown="empty")

# The edge's bounds of every request.
EDGE_MAX_BODY_BYTES = Setting(
    "PARLEY_EDGE_MAX_BODY_BYTES", 524_288, int,
    "largest request body on any path (413 beyond; a webhook's raw bytes must fit one Kafka "
    "record, 1 MiB by default)")
EDGE_REQUEST_TIMEOUT_S = Setting(
    "PARLEY_EDGE_REQUEST_TIMEOUT_S", 30.0, float,
    "time to receive a whole request, headers and body (408 beyond: slow uploads are cut; "
    "streams are not cut by it)")
EDGE_RATE_PER_TOKEN = Setting(
    "PARLEY_EDGE_RATE_PER_TOKEN", 500, int,
    "requests per second per API token, per Envoy (twice as many in a burst; 429 beyond)")
EDGE_RATE_PER_ADDRESS = Setting(
    "PARLEY_EDGE_RATE_PER_ADDRESS", 1000, int,
    "requests per second per client address on every path but the sources' webhooks, per Envoy "
    "(twice as many in a burst; 429 beyond)")
EDGE_RATE_WEBHOOKS = Setting(
    "PARLEY_EDGE_RATE_WEBHOOKS", 5000, int,
    "requests per second per address on the sources' webhook paths (a burst from Meta must never "
    "be refused)")

EDGE_CORS_ORIGINS: Setting[tuple[str, ...]] = Setting(
    "PARLEY_EDGE_CORS_ORIGINS", (), cors_origins,
    "comma-separated origins (`https://inbox.example.com`) whose web pages may call the JSON API "
    "and open the event stream (CORS; preflights answered at the edge); `*` for any origin, "
    "for development, never with credentials", shown="none")

#: The declarations of this module, in README's order.
DECLARED: tuple[Setting[Any], ...] = (
    HTTP_PORT, HTTP_HOST, HTTP_TLS_CERT, HTTP_TLS_KEY, ENVOY_CONCURRENCY, ENVOY_ADMIN_PORT,
    GRPC_BASE_PORT, METRICS_PORT_OFFSET, PROMETHEUS_PORT, OTLP_ENDPOINT, BIND_HOST, MESH_TLS_CA,
    MESH_TLS_CERT, MESH_TLS_KEY, ADVERTISE_HOST, PROCESS, INSTANCE, UPSTREAM,
    KAFKA_BOOTSTRAP, KAFKA_PORT, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM,
    KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SSL_CA_FILE, KAFKA_REPLICATION_FACTOR,
    KAFKA_MIN_INSYNC_REPLICAS, KAFKA_LINGER_MS, KAFKA_ACK_LINGER_MS, KAFKA_COMPRESSION, KAFKA_HEAP,
    REDIS_URL, REDIS_CLUSTER_NODES, NAMESPACE, TOPIC_PARTITIONS, PROJECTORS, OLD_LAYOUT_RETIRE_S,
    DATA_DIR, CACHE_DIR, LOG_LEVEL, PUBLIC_URL,
    MEDIA_S3_URL, OBJECTSTORE_PORT, MEDIA_BUCKET, MEDIA_S3_REGION, MEDIA_S3_ACCESS_KEY,
    MEDIA_S3_SECRET_KEY, MEDIA_PUBLIC_URL, MEDIA_MAX_BYTES,
    EVENTS_RETAINED, FILTER_EVALUATION_LIMIT, OUTBOUND_ALLOW_CIDRS,
    EDGE_MAX_BODY_BYTES, EDGE_REQUEST_TIMEOUT_S, EDGE_RATE_PER_TOKEN, EDGE_RATE_PER_ADDRESS,
    EDGE_RATE_WEBHOOKS, EDGE_CORS_ORIGINS,
)


@dataclass(frozen=True)
class MediaStore:
    """Where uploaded media is kept: the `PARLEY_MEDIA_*` settings."""

    #: "": the local object store of `make up`, on `objectstore_port`.
    s3_url: str = declared(MEDIA_S3_URL)
    objectstore_port: int = declared(OBJECTSTORE_PORT)
    bucket: str = declared(MEDIA_BUCKET)
    region: str = declared(MEDIA_S3_REGION)
    access_key: str = declared(MEDIA_S3_ACCESS_KEY)
    secret_key: str = field(default=MEDIA_S3_SECRET_KEY.default, repr=False)
    public_url: str = declared(MEDIA_PUBLIC_URL)
    max_bytes: int = declared(MEDIA_MAX_BYTES)

    @property
    def local(self) -> bool:
        """True when media goes to the object store the stack starts."""
        return not self.s3_url

    @property
    def endpoint(self) -> str:
        """The S3 endpoint's base URL."""
        return (self.s3_url or f"http://127.0.0.1:{self.objectstore_port}").rstrip("/")


@dataclass(frozen=True)
class EdgeLimits:
    """What Envoy allows one request (413, 408 and 429 beyond it): the `PARLEY_EDGE_*` settings."""

    max_body_bytes: int = declared(EDGE_MAX_BODY_BYTES)
    request_timeout_s: float = declared(EDGE_REQUEST_TIMEOUT_S)
    rate_per_token: int = declared(EDGE_RATE_PER_TOKEN)
    rate_per_address: int = declared(EDGE_RATE_PER_ADDRESS)
    rate_webhooks: int = declared(EDGE_RATE_WEBHOOKS)
    #: Empty: no page of another origin may call the API; `("*",)`: any may.
    cors_origins: tuple[str, ...] = declared(EDGE_CORS_ORIGINS)


@dataclass(frozen=True)
class MeshTls:
    """PEM files of mutual TLS between the edge and the services: every service presents the
    certificate and asks its callers for one signed by the CA, and Envoy (and the health checks)
    present it in turn. The trust boundary stays the edge, however far the services listen."""

    ca_file: str
    cert_file: str
    key_file: str


def _files(env: Mapping[str, str], files: tuple[Setting[str], ...], what: str) -> list[str] | None:
    """The values of file settings `files`: all of them, or None when none is set."""
    found = [setting.read(env) for setting in files]
    if not any(found):
        return None
    if not all(found):
        raise ValueError(f"{what} needs all of {', '.join(setting.env for setting in files)}")
    return found


def mesh_tls(env: Mapping[str, str]) -> MeshTls | None:
    """`PARLEY_MESH_TLS_CA`, `_CERT` and `_KEY` (all three, or none: no mutual TLS)."""
    found = _files(env, (MESH_TLS_CA, MESH_TLS_CERT, MESH_TLS_KEY), "mutual TLS")
    return None if found is None else MeshTls(*found)


@dataclass(frozen=True)
class EdgeTls:
    """PEM files of the certificate Envoy's public listener presents: TLS ends at the edge
    (HTTP/2 and HTTP/1.1 offered), for clients that reach it without a terminating proxy."""

    cert_file: str
    key_file: str


def edge_tls(env: Mapping[str, str]) -> EdgeTls | None:
    """`PARLEY_HTTP_TLS_CERT` and `_KEY` (both, or neither: plaintext)."""
    found = _files(env, (HTTP_TLS_CERT, HTTP_TLS_KEY), "TLS at the edge")
    return None if found is None else EdgeTls(*found)


@dataclass(frozen=True)
class KafkaSecurity:
    """How every Kafka client of the install authenticates and encrypts (the brokers' listener)."""

    #: One of `KAFKA_PROTOCOLS`.
    protocol: str = KAFKA_SECURITY_PROTOCOL.default
    #: One of `KAFKA_SASL_MECHANISMS`, with a SASL protocol.
    sasl_mechanism: str = KAFKA_SASL_MECHANISM.default
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
        protocol=KAFKA_SECURITY_PROTOCOL.read(env),
        sasl_mechanism=KAFKA_SASL_MECHANISM.read(env),
        username=KAFKA_SASL_USERNAME.read(env),
        password=KAFKA_SASL_PASSWORD.read(env),
        ca_file=KAFKA_SSL_CA_FILE.read(env),
    )
    # Checked together: which values are valid depends on the protocol.
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
    """Everything a service or the local stack needs to know about where things are. A field
    `declared` is the setting it names (whose declaration says what it means); `load` derives
    the others from settings."""

    namespace: str = declared(NAMESPACE)
    #: `PARLEY_DATA_DIR`, resolved: the processes' working folders differ.
    data_dir: Path = DATA_DIR.default
    #: `None`: run the embedded local broker.
    kafka_bootstrap: str | None = declared(KAFKA_BOOTSTRAP)
    kafka_port: int = declared(KAFKA_PORT)
    redis_url: str = declared(REDIS_URL)
    http_port: int = declared(HTTP_PORT)
    envoy_admin_port: int = declared(ENVOY_ADMIN_PORT)
    #: The services listen on consecutive loopback ports from here, in `SERVICE_NAMES` order.
    grpc_base_port: int = declared(GRPC_BASE_PORT)
    metrics_port_offset: int = declared(METRICS_PORT_OFFSET)
    prometheus_port: int = declared(PROMETHEUS_PORT)
    otlp_endpoint: str = declared(OTLP_ENDPOINT)
    topic_partitions: int = declared(TOPIC_PARTITIONS)
    projectors: int = declared(PROJECTORS)
    log_level: str = declared(LOG_LEVEL)
    events_retained: int = declared(EVENTS_RETAINED)
    filter_evaluation_limit: int = declared(FILTER_EVALUATION_LIMIT)
    old_layout_retire_s: float = declared(OLD_LAYOUT_RETIRE_S)
    process: str = declared(PROCESS)
    #: `PARLEY_INSTANCE`, else `PARLEY_PROCESS` (the local supervisor's process name).
    instance: str = INSTANCE.default
    edge: EdgeLimits = field(default_factory=EdgeLimits)
    media: MediaStore = field(default_factory=MediaStore)
    #: Networks outbound calls to user-given URLs may reach (`runtime.outbound`).
    outbound_allow: tuple[Network, ...] = declared(OUTBOUND_ALLOW_CIDRS)
    #: Empty: the single Redis of `redis_url`.
    redis_cluster_nodes: tuple[tuple[str, int], ...] = declared(REDIS_CLUSTER_NODES)
    kafka_replication_factor: int = declared(KAFKA_REPLICATION_FACTOR)
    kafka_min_insync_replicas: int = declared(KAFKA_MIN_INSYNC_REPLICAS)
    #: Of a batching producer (`runtime.kafka.producer`).
    kafka_linger_ms: int = declared(KAFKA_LINGER_MS)
    kafka_ack_linger_ms: int = declared(KAFKA_ACK_LINGER_MS)
    #: "" (none) or one of `KAFKA_CODECS`; codecs other than gzip need their Python package.
    kafka_compression: str = declared(KAFKA_COMPRESSION)
    kafka_security: KafkaSecurity = field(default_factory=KafkaSecurity)
    #: None: plaintext, on loopback only.
    mesh_tls: MeshTls | None = None
    bind_host: str = declared(BIND_HOST)
    #: `PARLEY_ADVERTISE_HOST`, else `bind_host`, or this machine's name when that is a wildcard.
    advertise_host: str = BIND_HOST.default
    #: `PARLEY_UPSTREAM_<PROCESS>` by process; a process not listed is at `advertise_host` and
    #: its own port.
    upstreams: dict[str, tuple[Endpoint, ...]] = field(default_factory=dict)
    http_host: str = declared(HTTP_HOST)
    #: None: plaintext.
    http_tls: EdgeTls | None = None
    envoy_concurrency: int = declared(ENVOY_CONCURRENCY)
    #: `PARLEY_PUBLIC_URL` without a trailing slash, else Envoy's local address.
    public_url: str = ""

    @property
    def media_url(self) -> str:
        """The base URL of media URLs: `PARLEY_MEDIA_PUBLIC_URL`, else `/media` of the edge."""
        return (self.media.public_url or f"{self.public_url}/media").rstrip("/")

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

    def metrics_port(self, name: str) -> int | None:
        """The port of service process `name`'s `/metrics`; None when they are off."""
        return self.service_port(name) + self.metrics_port_offset if self.metrics_port_offset else None

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


def _upstreams(env: Mapping[str, str]) -> dict[str, tuple[Endpoint, ...]]:
    """The endpoints of each process named by a `PARLEY_UPSTREAM_*` setting (`store`,
    `projector-2`), those that list any."""
    prefix = upstream_variable("")
    found: dict[str, tuple[Endpoint, ...]] = {}
    for variable in env:
        if variable.startswith(prefix):
            listed = UPSTREAM.renamed(variable).read(env)
            if listed:
                found[variable.removeprefix(prefix).lower().replace("_", "-")] = listed
    return found


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (or `env`), with the defaults of a local `make up`."""
    env = os.environ if env is None else env
    bind_host = BIND_HOST.read(env)
    return read_fields(
        Settings, env,
        data_dir=DATA_DIR.read(env).resolve(),
        instance=INSTANCE.read(env) or PROCESS.read(env),
        edge=read_fields(EdgeLimits, env),
        media=read_fields(MediaStore, env, secret_key=MEDIA_S3_SECRET_KEY.read(env)),
        kafka_security=kafka_security(env),
        mesh_tls=mesh_tls(env),
        advertise_host=ADVERTISE_HOST.read(env) or (
            socket.gethostname() if bind_host in WILDCARDS else bind_host),
        upstreams=_upstreams(env),
        http_tls=edge_tls(env),
        public_url=(PUBLIC_URL.read(env) or f"http://127.0.0.1:{HTTP_PORT.read(env)}").rstrip("/"),
    )
