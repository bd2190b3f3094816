"""Session fixtures: the real local stack (Kafka, Redis, services, Envoy), started by the same
code as `make up`, on ports and a data folder of its own so it never clashes with a running
`make up`. Components already running from an earlier test session are reused, and only what this
session started is stopped at its end (set PARLEY_TEST_KEEP_STACK=1 to keep it for the next run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from auth.manage import ADMIN_TOKEN_FILE
from runtime import settings as settings_module
from runtime.settings import Settings
from stack import redis_cluster as local_cluster
from stack import stack
from tests.integration.otlp_collector import Collector, collecting

REPO = Path(__file__).resolve().parent.parent
#: The tools scripts/bootstrap.sh builds (helm, gojq, grpcurl).
BIN = REPO / ".cache" / "bin"


def tool(name: str) -> str:
    """The path of `name` in .cache/bin; a failure saying how to get it when it is missing."""
    path = BIN / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: run `bash scripts/bootstrap.sh` (it builds helm, gojq "
                    "and grpcurl)")
    return str(path)

#: Added to every port of the test stack (and its folder's name), so that several checkouts can
#: run their suites at once on one machine.
PORT_OFFSET = int(os.environ.get("PARLEY_TEST_PORT_OFFSET", "0"))

#: Port of the local fakes of the sources' APIs (the messaging tests start them).
FAKE_APIS_PORT = 18099 + PORT_OFFSET
#: The port of the web app page whose origin (on 127.0.0.1; not on 127.0.0.2) may call the API.
CORS_PAGE_PORT = FAKE_APIS_PORT - 4
#: Port of the test stack's Prometheus (`make up` starts one when PARLEY_PROMETHEUS_PORT is set).
PROMETHEUS_PORT = 18071 + PORT_OFFSET
#: Port of the collector the test stack exports its spans to (integration/otlp_collector.py).
OTLP_PORT = 18070 + PORT_OFFSET

#: First port of the test Redis Cluster: its nodes take the next ports (a failover test's own
#: cluster the ten after), their cluster buses the ports 10000 above; none is in TEST_ENV.
CLUSTER_FIRST_PORT = 17000 + PORT_OFFSET

#: The test stack's own ports and folder (make up uses 8080, 9901, 20061.., 9092, 6379, .data/).
#: All below Linux's ephemeral range (32768-60999): a service port there can be taken, for a
#: while, by the local end of any client connection (a projector started late then cannot bind).
TEST_ENV = {
    "PARLEY_DATA_DIR": str(REPO / ".data" / f"test{PORT_OFFSET or ''}"),
    "PARLEY_NAMESPACE": "test",
    "PARLEY_HTTP_PORT": str(18080 + PORT_OFFSET),
    "PARLEY_ENVOY_ADMIN_PORT": str(19901 + PORT_OFFSET),
    "PARLEY_PROMETHEUS_PORT": str(PROMETHEUS_PORT),
    "PARLEY_OTLP_ENDPOINT": f"http://127.0.0.1:{OTLP_PORT}",
    "PARLEY_GRPC_BASE_PORT": str(21061 + PORT_OFFSET),
    "PARLEY_KAFKA_PORT": str(19092 + PORT_OFFSET),
    "PARLEY_OBJECTSTORE_PORT": str(18333 + PORT_OFFSET),
    # Media URLs the tests' browser reaches, and a limit the tests reach quickly.
    "PARLEY_MEDIA_PUBLIC_URL": f"http://127.0.0.1:{18080 + PORT_OFFSET}/media",
    "PARLEY_MEDIA_MAX_BYTES": "1048576",
    "PARLEY_REDIS_URL": os.environ.get("PARLEY_TEST_REDIS_URL",
                                       f"redis://127.0.0.1:{16379 + PORT_OFFSET}/0"),
    # The sources' app-level secrets, as an operator configures them (tests sign with them).
    "PARLEY_PUBLIC_URL": "https://parley.test",
    "PARLEY_FACEBOOK_APP_SECRET": "facebook-app-secret",
    "PARLEY_FACEBOOK_VERIFY_TOKEN": "facebook-verify-token",
    "PARLEY_INSTAGRAM_APP_SECRET": "instagram-app-secret",
    "PARLEY_INSTAGRAM_VERIFY_TOKEN": "instagram-verify-token",
    "PARLEY_WHATSAPP_APP_SECRET": "whatsapp-app-secret",
    "PARLEY_WHATSAPP_VERIFY_TOKEN": "whatsapp-verify-token",
    "PARLEY_TWILIO_AUTH_TOKEN": "twilio-auth-token",
    "PARLEY_VIBER_AUTH_TOKEN": "viber-auth-token",
    "PARLEY_GOOGLE_CLIENT_TOKEN": "google-client-token",
    # The sources' APIs, faked by tests/integration/fake_source_apis.py on FAKE_APIS_PORT.
    **{f"PARLEY_{name}_API_URL": f"http://127.0.0.1:{FAKE_APIS_PORT}/{name.lower()}"
       for name in ("FACEBOOK", "INSTAGRAM", "WHATSAPP", "TWILIO", "VIBER", "GOOGLE")},
    "PARLEY_TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000001",
    "PARLEY_GOOGLE_AUTH_TOKEN": "google-access-token",
    # Two projectors share the partitions, as beyond one machine (test_projectors adds a third).
    "PARLEY_PROJECTORS": "2",
    # Quick retries and limits, so the tests see them run out.
    "PARLEY_MESSAGING_ATTEMPTS": "3",
    "PARLEY_MESSAGING_BACKOFF_BASE_S": "0.1",
    "PARLEY_MESSAGING_BACKOFF_MAX_S": "0.4",
    "PARLEY_MESSAGING_TIMEOUT_S": "1",
    "PARLEY_MESSAGING_CONVERSATION_WAIT_S": "2",
    # A sender killed mid-send leaves its claim this long (tested).
    "PARLEY_MESSAGING_CLAIM_LEASE_S": "2",
    # Realtime: quick heartbeats; webhook retries and disabling in seconds, not hours.
    "PARLEY_EVENTS_HEARTBEAT_S": "1",
    # Revocations take effect within this (tested).
    "PARLEY_AUTH_CACHE_S": "0.5",
    # Known to the tests, which make expired and forged visitor tokens with it.
    "PARLEY_CHATPLUGIN_SECRET": "test-chatplugin-secret-of-32-bytes-or-more",
    "PARLEY_WEBHOOK_RETRY_S": "0.2,0.2,0.2",
    "PARLEY_WEBHOOK_TIMEOUT_S": "2",
    "PARLEY_WEBHOOK_DISABLE_AFTER_S": "3",
    # The tests' webhook receivers and action endpoints listen on loopback, as on-premise
    # receivers would on an operator's network.
    "PARLEY_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8",
    # A web app's origin (tests/integration/test_cors.py).
    "PARLEY_EDGE_CORS_ORIGINS": f"http://127.0.0.1:{CORS_PAGE_PORT}",
}


#: Set to 1 to run the test stack on a Redis Cluster of three primaries (started here, on
#: CLUSTER_FIRST_PORT and up) instead of a single Redis: `make test` runs the store, filter,
#: realtime and webhook suites so (CLUSTER_SUITE in the Makefile), on ports of their own.
ON_CLUSTER = os.environ.get("PARLEY_TEST_REDIS_CLUSTER") == "1"


@pytest.fixture(scope="session")
def otlp_collector() -> Iterator[Collector]:
    """The collector the stack exports its spans to, for the whole session."""
    with collecting(OTLP_PORT) as collector:
        yield collector


@pytest.fixture(scope="session")
def live_stack(otlp_collector: Collector) -> Iterator[Settings]:
    """The running test stack's settings; starts what is not running yet."""
    os.environ.update(TEST_ENV)
    cluster_started: list[int] = []
    if ON_CLUSTER:
        layout = local_cluster.Layout(CLUSTER_FIRST_PORT)
        cluster_started = local_cluster.start(Path(TEST_ENV["PARLEY_DATA_DIR"]), layout)
        os.environ["PARLEY_REDIS_CLUSTER_NODES"] = f"127.0.0.1:{layout.first_port}"
    settings = settings_module.load()
    before = {c.name for c in stack.status(settings) if c.pid is not None}
    stack.up(settings)
    # The admin token `up` made: the SDK, the CLI and the tests' requests (helpers.api) use it.
    os.environ["PARLEY_TOKEN"] = (settings.data_dir / ADMIN_TOKEN_FILE).read_text().strip()
    yield settings
    if os.environ.get("PARLEY_TEST_KEEP_STACK") != "1":
        started = {c.name for c in stack.status(settings) if c.pid is not None} - before
        stopped = stack.down(settings, only=started)
        # `down` leaves no process behind.
        assert [(name, pid) for name, pid in stopped if Path(f"/proc/{pid}").exists()] == []
        local_cluster.stop(settings.data_dir, cluster_started)


@pytest.fixture(scope="session")
def base_url(live_stack: Settings) -> str:
    """Envoy's public URL of the test stack."""
    return f"http://127.0.0.1:{live_stack.http_port}"


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[local_cluster.Layout]:
    """A local Redis Cluster of three primaries in the test stack's folder (stack.redis_cluster),
    reused when running; the nodes this session started are stopped at its end (unless
    PARLEY_TEST_KEEP_STACK=1)."""
    layout = local_cluster.Layout(CLUSTER_FIRST_PORT)
    data_dir = Path(TEST_ENV["PARLEY_DATA_DIR"])
    started = local_cluster.start(data_dir, layout)
    yield layout
    if os.environ.get("PARLEY_TEST_KEEP_STACK") != "1":
        local_cluster.stop(data_dir, started)
