"""Health through Envoy, grpc.health.v1 and reflection on every service, `parley status`,
and `make up`'s idempotence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from runtime.settings import SERVICE_NAMES, Settings
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
