"""Mutual TLS between the edge and the services (`PARLEY_MESH_TLS_*`): a service listening
beyond loopback answers only callers with the mesh's certificate, and Envoy reaches and
health-checks it with that certificate. Without it, a service stays on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import ssl
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from runtime import mesh
from runtime.server import grpc_server, listen
from runtime.settings import EdgeTls, Endpoint, MeshTls, Settings
from stack import envoy, mesh_tls, processes
from tests.integration.helpers import api_headers

NAME = "envoy-mesh"
#: Beyond the loopback address the local stack's services use.
HOST = "127.0.0.3"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> MeshTls:
    return mesh_tls.make(tmp_path_factory.mktemp("mesh"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def service(live_stack: Settings, tls: MeshTls) -> AsyncIterator[Settings]:
    """A service's server (grpc.health.v1 SERVING) listening as `serve` does, with mutual TLS, at
    HOST; the settings it listens with."""
    settings = dataclasses.replace(live_stack, mesh_tls=tls, bind_host=HOST)
    server = grpc_server()
    serving = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(serving, server)
    port = _free_port()
    listen(server, settings, port)
    await server.start()
    await serving.set("", health_pb2.HealthCheckResponse.SERVING)
    try:
        yield dataclasses.replace(settings, upstreams={"store": (Endpoint(HOST, port),)})
    finally:
        await server.stop(None)


async def _check(channel: grpc.aio.Channel) -> int:
    async with channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                                 timeout=3)
    return int(reply.status)


async def test_only_callers_with_the_mesh_certificate_are_answered(service: Settings,
                                                                   tls: MeshTls) -> None:
    target = service.service_endpoints("store")[0].target()
    assert await _check(mesh.aio_channel(service, target)) == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError):  # plaintext
        await _check(grpc.aio.insecure_channel(target))
    no_certificate = grpc.ssl_channel_credentials(root_certificates=Path(tls.ca_file).read_bytes())
    with pytest.raises(grpc.aio.AioRpcError):  # TLS, but not one of the mesh
        await _check(grpc.aio.secure_channel(target, no_certificate))


def test_without_mutual_tls_a_service_stays_on_loopback(live_stack: Settings, tls: MeshTls) -> None:
    for host in ("0.0.0.0", "10.0.0.5", "::"):
        with pytest.raises(ValueError, match="mutual TLS"):
            mesh.check_bind(dataclasses.replace(live_stack, bind_host=host))
        mesh.check_bind(dataclasses.replace(live_stack, bind_host=host, mesh_tls=tls))
    mesh.check_bind(dataclasses.replace(live_stack, bind_host="127.0.0.1"))


def _clusters(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return list(json.load(reply)["cluster_statuses"])


async def test_envoy_reaches_and_health_checks_a_service_over_mutual_tls(
    live_stack: Settings, service: Settings
) -> None:
    settings = dataclasses.replace(service, http_port=live_stack.http_port + 11,
                                   envoy_admin_port=live_stack.envoy_admin_port + 11)
    await asyncio.to_thread(envoy.start, settings, NAME)
    try:
        assert "OK" in envoy.validate(live_stack.data_dir / NAME / "envoy.yaml")
        endpoint = settings.service_endpoints("store")[0]
        url = f"http://127.0.0.1:{settings.envoy_admin_port}/clusters?format=json"
        deadline = time.monotonic() + 15
        while True:  # the service answers from this event loop: never block it
            store = next(c for c in (await asyncio.to_thread(_clusters, url))
                         if c["name"] == "store")
            [host] = store["host_statuses"]
            # A host is failed until its first health check passes: it passes over mutual TLS.
            if "failed_active_health_check" not in host["health_status"]:
                break
            assert time.monotonic() < deadline, host
            await asyncio.sleep(0.2)
        assert host["address"]["socket_address"] == {"address": endpoint.host,
                                                      "port_value": endpoint.port}
    finally:
        processes.stop(live_stack.data_dir, NAME)


def test_envoy_terminates_tls_at_the_edge_when_given_a_certificate(
        live_stack: Settings, tls: MeshTls) -> None:
    """`PARLEY_HTTP_TLS_CERT`/`_KEY`: the public listener speaks TLS (HTTP/1.1 and HTTP/2 by
    ALPN) with that certificate, and plaintext no more; `PARLEY_ENVOY_CONCURRENCY` its workers."""
    settings = dataclasses.replace(live_stack, http_port=live_stack.http_port + 12,
                                   envoy_admin_port=live_stack.envoy_admin_port + 12,
                                   http_tls=EdgeTls(tls.cert_file, tls.key_file),
                                   envoy_concurrency=1)
    name = "envoy-edge-tls"
    envoy.start(settings, name)
    try:
        pid = processes.running_pid(live_stack.data_dir, name)
        argv = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
        assert argv[argv.index("--concurrency") + 1] == "1"
        url = f"https://127.0.0.1:{settings.http_port}/tags.list"
        reply = httpx.post(url, json={}, headers=api_headers(),
                           verify=ssl.create_default_context(cafile=tls.ca_file), timeout=10)
        assert reply.status_code == 200, reply.text
        # HTTP/2 is offered too, which gRPC clients need.
        context = ssl.create_default_context(cafile=tls.ca_file)
        context.set_alpn_protocols(["h2", "http/1.1"])
        with socket.create_connection(("127.0.0.1", settings.http_port), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname="localhost") as secured:
            assert secured.selected_alpn_protocol() == "h2"
        with pytest.raises(httpx.HTTPError):  # plaintext is not answered
            httpx.post(url.replace("https", "http"), json={}, headers=api_headers(), timeout=5)
    finally:
        processes.stop(live_stack.data_dir, name)
