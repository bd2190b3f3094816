"""Health through Envoy, grpc.health.v1 and reflection on every service and on the public port
(grpcurl, gRPC probes), `parley status`, and `make up`'s idempotence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from runtime.settings import SERVICE_NAMES, SERVICES_BY_PROCESS, Settings
from tests.conftest import tool
from tests.integration.helpers import api
from stack import processes, services, stack



def test_health_reports_every_component_up(live_stack: Settings, base_url: str) -> None:
    reply = httpx.get(f"{base_url}/health", timeout=10)
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "ok"
    # Each service and each projector (the test stack runs two).
    assert set(body["components"]) == {"kafka", "redis", *live_stack.process_names()}
    assert {"projector-1", "projector-2"} <= set(body["components"])
    assert {c["status"] for c in body["components"].values()} == {"up"}


def test_client_config_reports_the_services(base_url: str) -> None:
    body = api.post(f"{base_url}/client.config", json={}, timeout=10).json()
    assert body["services"] == {name: {"enabled": True, "healthy": True} for name in SERVICE_NAMES}
    assert set(body["tag_config"]["colors"]) == {"tag-red", "tag-blue", "tag-green", "tag-purple"}


def test_every_service_serves_health_and_reflection(live_stack: Settings) -> None:
    for name in live_stack.process_names():
        with grpc.insecure_channel(live_stack.service_target(name)) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
            )
            listed = {s.name for s in next(replies).list_services_response.service}
            assert "grpc.health.v1.Health" in listed


def test_a_stopped_service_makes_health_503_until_it_is_back(
    live_stack: Settings, base_url: str
) -> None:
    processes.stop(live_stack.data_dir, "messaging")
    try:
        reply = httpx.get(f"{base_url}/health", timeout=10)
        assert reply.status_code == 503
        assert reply.json()["status"] == "degraded"
        assert reply.json()["components"]["messaging"]["status"] == "down"
        # Envoy's own error for a backend that is down is JSON too.
        unreachable = api.post(f"{base_url}/messages.send", json={}, timeout=10)
        assert unreachable.status_code == 503
        assert unreachable.json()["code"] == grpc.StatusCode.UNAVAILABLE.value[0]
    finally:
        services.start(live_stack, "messaging")
    after = httpx.get(f"{base_url}/health", timeout=10)
    assert after.status_code == 200, after.text


PARLEY = str(Path(sys.executable).parent / "parley")  # the command installed into the venv


def test_parley_status_cli(live_stack: Settings) -> None:
    env = {**os.environ, "PARLEY_HTTP_PORT": str(live_stack.http_port)}
    done = subprocess.run([PARLEY, "status", "--json"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "ok"
    table = subprocess.run([PARLEY, "status"], env=env, capture_output=True, text=True)
    assert table.returncode == 0 and "kafka" in table.stdout and "up" in table.stdout


def test_parley_status_fails_when_nothing_answers() -> None:
    env = {**os.environ, "PARLEY_URL": "http://127.0.0.1:1"}
    done = subprocess.run([PARLEY, "status"], env=env, capture_output=True, text=True)
    assert done.returncode == 3
    assert "cannot reach Parley" in done.stdout


def test_up_is_idempotent(live_stack: Settings) -> None:
    pids = {c.name: c.pid for c in stack.status(live_stack)}
    report = dict(stack.up(live_stack))
    assert all("already running" in report[name]
               for name in ("kafka", *live_stack.process_names(), "envoy"))
    assert {c.name: c.pid for c in stack.status(live_stack)} == pids


def _grpcurl(live_stack: Settings, *args: str, token: bool = True, data: str | None = None
             ) -> subprocess.CompletedProcess[str]:
    """grpcurl against the public port (a call's request `data` as JSON), with the test
    install's token unless `token` is False."""
    # The token from the environment (-expand-headers), never in the command line.
    auth = ["-H", "authorization: Bearer ${PARLEY_TOKEN}", "-expand-headers"] if token else []
    request = [] if data is None else ["-d", data]
    return subprocess.run([tool("grpcurl"), "-plaintext", *auth, *request,
                           f"127.0.0.1:{live_stack.http_port}", *args],
                          capture_output=True, text=True, timeout=60)


def test_grpcurl_lists_describes_and_calls_the_api_on_the_public_port(live_stack: Settings) -> None:
    listed = _grpcurl(live_stack, "list")
    assert listed.returncode == 0, listed.stderr
    api_services = {f"parley.v1.{name}" for names in SERVICES_BY_PROCESS.values() for name in names}
    assert set(listed.stdout.split()) == {*api_services, "grpc.health.v1.Health",
                                          "grpc.reflection.v1alpha.ServerReflection"}
    described = _grpcurl(live_stack, "describe", "parley.v1.TagsService")
    assert described.returncode == 0, described.stderr
    assert "rpc ListTags ( .parley.v1.ListTagsRequest )" in described.stdout
    called = _grpcurl(live_stack, "parley.v1.TagsService/ListTags", data="{}")
    assert called.returncode == 0, called.stderr
    assert isinstance(json.loads(called.stdout or "{}"), dict)
    # Reflection needs a token, as every call of the API.
    refused = _grpcurl(live_stack, "list", token=False)
    assert refused.returncode != 0 and "Unauthenticated" in refused.stderr


def _public_health(live_stack: Settings, service: str) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{live_stack.http_port}") as channel:
        return int(health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=10).status)


def test_grpc_health_on_the_public_port_needs_no_token(live_stack: Settings) -> None:
    serving = health_pb2.HealthCheckResponse.SERVING
    assert _public_health(live_stack, "") == serving
    assert _public_health(live_stack, "parley.v1.MessagesService") == serving
    with pytest.raises(grpc.RpcError) as unknown:
        _public_health(live_stack, "parley.v1.NoSuchService")
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    # grpcurl reads the service from reflection, which takes a token.
    probed = _grpcurl(live_stack, "grpc.health.v1.Health/Check")
    assert probed.returncode == 0, probed.stderr
    assert json.loads(probed.stdout) == {"status": "SERVING"}


def test_public_grpc_health_follows_a_stopped_service(live_stack: Settings) -> None:
    statuses = health_pb2.HealthCheckResponse
    with grpc.insecure_channel(f"127.0.0.1:{live_stack.http_port}") as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service="parley.v1.MessagingService"), timeout=120)
        assert next(watch).status == statuses.SERVING
        processes.stop(live_stack.data_dir, "messaging")
        try:
            assert next(watch).status == statuses.NOT_SERVING
            assert _public_health(live_stack, "") == statuses.NOT_SERVING
            assert _public_health(live_stack, "parley.v1.MessagesService") == statuses.SERVING
        finally:
            services.start(live_stack, "messaging")
        assert next(watch).status == statuses.SERVING
        watch.cancel()
