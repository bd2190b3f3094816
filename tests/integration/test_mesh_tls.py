"""Mutual TLS between the edge and the services (`PARLEY_MESH_TLS_*`): a service listening
beyond loopback answers only callers with the mesh's certificate, and Envoy reaches and
health-checks it with that certificate. Without it, a service stays on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from runtime import mesh
from runtime.server import grpc_server, listen
from runtime.settings import Endpoint, MeshTls, Settings
from stack import envoy, mesh_tls, processes

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
