"""Envoy's upstreams come from the settings (`PARLEY_UPSTREAM_<PROCESS>`): addresses or DNS names,
health-checked over grpc.health.v1, retried on another endpoint. Tried on an Envoy of its own in
front of the test stack's services, with a second store endpoint where nothing listens."""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from runtime.settings import Endpoint, Settings
from stack import envoy, processes
from tests.integration.helpers import api_headers

NAME = "envoy-upstreams"


@pytest.fixture(scope="module")
def upstreams(live_stack: Settings) -> Iterator[Settings]:
    """Settings of an Envoy whose store has a dead second endpoint and whose gateway is named
    by DNS; that Envoy running."""
    settings = dataclasses.replace(
        live_stack, http_port=live_stack.http_port + 9,
        envoy_admin_port=live_stack.envoy_admin_port + 9,
        upstreams={"store": (Endpoint("127.0.0.1", live_stack.service_port("store")),
                             Endpoint("127.0.0.2", live_stack.service_port("store"))),
                   "gateway": (Endpoint("localhost", live_stack.service_port("gateway")),)})
    envoy.start(settings, NAME)
    try:
        yield settings
    finally:
        processes.stop(live_stack.data_dir, NAME)


def _hosts(settings: Settings, cluster: str) -> dict[str, str]:
    """Each host of an Envoy cluster (`address:port`) and its health flags ("" when healthy)."""
    url = f"http://127.0.0.1:{settings.envoy_admin_port}/clusters?format=json"
    with urllib.request.urlopen(url, timeout=5) as reply:
        statuses: list[dict[str, Any]] = json.load(reply)["cluster_statuses"]
    found = next(c for c in statuses if c["name"] == cluster)
    return {f'{h["address"]["socket_address"]["address"]}:{h["address"]["socket_address"]["port_value"]}':
            ",".join(k for k, v in h["health_status"].items() if v is True or v == "UNHEALTHY")
            for h in found.get("host_statuses", [])}


def test_the_rendered_config_passes_envoys_own_check(upstreams: Settings) -> None:
    assert "OK" in envoy.validate(upstreams.data_dir / NAME / "envoy.yaml")


def test_every_endpoint_is_a_host_health_checked_and_a_dead_one_is_failed(
    upstreams: Settings
) -> None:
    store_port = upstreams.service_port("store")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        hosts = _hosts(upstreams, "store")
        if "failed_active_health_check" in hosts.get(f"127.0.0.2:{store_port}", ""):
            break
        time.sleep(0.2)
    assert hosts == {f"127.0.0.1:{store_port}": "",
                     f"127.0.0.2:{store_port}": "failed_active_health_check"}
    # A DNS name is resolved by Envoy (STRICT_DNS), each of its addresses a host.
    assert list(_hosts(upstreams, "gateway")) == [f"127.0.0.1:{upstreams.service_port('gateway')}"]


def test_reads_and_writes_are_answered_though_one_endpoint_is_down(upstreams: Settings) -> None:
    base = f"http://127.0.0.1:{upstreams.http_port}"
    with httpx.Client(timeout=10, headers=api_headers()) as client:
        answers = [client.post(f"{base}/conversations.list", json={}).status_code
                   for _ in range(30)]
        answers += [client.post(f"{base}/tags.create",
                                json={"name": f"t-{uuid.uuid4().hex[:8]}", "color": "tag-blue"}).status_code
                    for _ in range(5)]
    assert answers == [200] * 35
