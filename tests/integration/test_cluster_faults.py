"""Faults on `make cluster`'s mesh (three Kafka nodes, a Redis Cluster with replicas, two replicas
of every service behind Envoy), the fast part of `make chaos`: a projector replica killed in the
middle of its batches and a sender replica killed in the middle of a send. Nothing a webhook's
2xx accepted is lost or stored twice, and nothing reaches a source twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest

from runtime import redis as runtime_redis
from runtime import settings as settings_module
from runtime.settings import Settings
from stack import cluster, processes, supervise
from tests.conftest import FAKE_APIS_PORT, PORT_OFFSET, REPO, TEST_ENV
from tests.integration import webhooks
from tests.integration.fake_source_apis import Answer, FakeSourceApis, serving
from tests.integration.helpers import eventually

pytestmark = pytest.mark.stack

#: The mesh's own folder and ports (its Kafka nodes and Redis Cluster lie above these): beside
#: the test stack, not on it.
MESH_ENV = {
    "PARLEY_DATA_DIR": str(REPO / ".data" / f"test-mesh{PORT_OFFSET or ''}"),
    "PARLEY_HTTP_PORT": str(18280 + PORT_OFFSET),
    "PARLEY_ENVOY_ADMIN_PORT": str(19921 + PORT_OFFSET),
    "PARLEY_GRPC_BASE_PORT": str(21161 + PORT_OFFSET),
    "PARLEY_KAFKA_PORT": str(19192 + PORT_OFFSET),
    "PARLEY_OBJECTSTORE_PORT": str(18433 + PORT_OFFSET),
    "PARLEY_REDIS_URL": f"redis://127.0.0.1:{16479 + PORT_OFFSET}/0",
    "PARLEY_PROJECTORS": "1",
}


@dataclass(frozen=True)
class Mesh:
    """The running mesh: its settings (as its own tools have them), URL and admin token."""

    settings: Settings
    base_url: str
    token: str

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.base_url}{path}", json=body, timeout=30,
                          headers={"authorization": f"Bearer {self.token}"})

    def child_pid(self, component: str) -> int:
        """The pid of the service process a replica's supervisor runs now."""
        return eventually(lambda: supervise.child_pid(self.settings.data_dir, component),
                          timeout=30)


def _stack(env: dict[str, str], command: str) -> None:
    subprocess.run([sys.executable, "-m", "stack", "cluster", command], env=env, cwd=REPO,
                   check=True, timeout=300, stdout=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def mesh() -> Iterator[Mesh]:
    env = {**os.environ, **TEST_ENV, **MESH_ENV}
    base = settings_module.load(env)
    _stack(env, "up")
    try:
        token = (base.data_dir / "admin.token").read_text().strip()
        yield Mesh(cluster.settings(base), f"http://127.0.0.1:{base.http_port}", token)
    finally:
        if os.environ.get("PARLEY_TEST_KEEP_STACK") != "1":
            _stack(env, "down")
            # `cluster-down` stopped every process `cluster` started.
            assert [m for m in cluster.status(base) if m["pid"] is not None] == []


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSourceApis]:
    with serving(FAKE_APIS_PORT) as fakes:
        yield fakes


def _connect(mesh: Mesh, hook: webhooks.Webhook) -> None:
    reply = mesh.post(hook.connect_path, hook.connect_body)
    assert reply.status_code == 200, reply.text


def _messages(mesh: Mesh, conversation_id: str) -> list[dict[str, Any]]:
    reply = mesh.post("/messages.list", {"conversation_id": conversation_id, "page_size": 100})
    return list(reply.json().get("data", [])) if reply.status_code == 200 else []


def _at_least(mesh: Mesh, conversation_id: str, count: int) -> list[dict[str, Any]] | None:
    """The conversation's messages once there are `count` of them."""
    found = _messages(mesh, conversation_id)
    return found if len(found) >= count else None


def test_a_projector_replica_killed_mid_batch_loses_and_doubles_nothing(mesh: Mesh) -> None:
    page = "9" + uuid.uuid4().int.__str__()[:14]
    contacts = [f"8{i:02d}{uuid.uuid4().int % 10**13:013d}" for i in range(20)]
    hooks = [webhooks.facebook(text=f"{contact} #{n}", page=page, psid=contact)
             for n in range(10) for contact in contacts]
    _connect(mesh, hooks[0])
    victim = mesh.child_pid("projector-1@127.0.0.2")

    def deliver(index: int) -> int:
        if index == len(hooks) // 3:  # a third in: one projector dies under the load
            os.kill(victim, signal.SIGKILL)
        for _ in range(20):  # a webhook not answered 2xx is sent again, as the sources do
            try:
                status = hooks[index].post(mesh.base_url).status_code
            except httpx.TransportError:
                status = 0
            if status == 200:
                return index
        raise AssertionError(f"webhook {index} was never accepted (last status {status})")

    with ThreadPoolExecutor(8) as pool:
        accepted = list(pool.map(deliver, range(len(hooks))))
    assert len(accepted) == len(hooks)
    for contact in contacts:
        conversation = webhooks.facebook(page=page, psid=contact).conversation_id
        stored = eventually(partial(_at_least, mesh, conversation, 10), timeout=60)
        # Each message once: ten texts, ten ids, and the unread count says ten.
        assert sorted(m["content"]["text"] for m in stored) == sorted(
            f"{contact} #{n}" for n in range(10))
        assert len({m["id"] for m in stored}) == 10
        info = mesh.post("/conversations.info", {"conversation_id": conversation}).json()
        assert info["metadata"]["unread_count"] == 10
    # Its supervisor brought the projector back.
    assert mesh.child_pid("projector-1@127.0.0.2") != victim


async def _claim_holder(mesh: Mesh, message_id: str) -> str:
    """The replica holding the send claim of `message_id` (claims are `<instance>/<id>:<ms>`)."""
    redis = runtime_redis.client(mesh.settings)
    try:
        async for key in redis.scan_iter(match=f"*sendclaim*{message_id}*"):
            value = await redis.get(key)
            if value and value != b"done":
                return runtime_redis.text(value).split("/", 1)[0]
    finally:
        await redis.aclose()
    return ""


async def test_a_sender_replica_killed_mid_send_sends_once(mesh: Mesh,
                                                           fake: FakeSourceApis) -> None:
    hook = webhooks.facebook(text="hello from the mesh")
    _connect(mesh, hook)
    assert hook.post(mesh.base_url).status_code == 200
    eventually(lambda: _messages(mesh, hook.conversation_id), timeout=30)
    fake.script(hook.contact, Answer(200, {}, 0.9))  # answered just inside the timeout
    sent = mesh.post("/messages.send", {"conversation_id": hook.conversation_id,
                                        "message": {"text": "in flight when its sender dies"}})
    assert sent.status_code == 200, sent.text
    message_id = sent.json()["id"]
    eventually(lambda: fake.to(hook.contact), timeout=30)
    # The source has the request and has not answered: the replica sending it dies now.
    holder = await _claim_holder(mesh, message_id)
    assert holder.startswith("messaging@"), holder
    os.kill(mesh.child_pid(holder), signal.SIGKILL)
    # Its restart (or the other replica) meets the dead sender's claim and fails the message,
    # saying why, rather than reaching the contact a second time.
    failed = eventually(lambda: next((m for m in _messages(mesh, hook.conversation_id)
                                      if m["id"] == message_id
                                      and m["delivery_state"] == "failed"), None), timeout=60)
    assert "unknown whether it was sent" in failed["metadata"]["error"]
    assert len(fake.to(hook.contact)) == 1


def test_the_cluster_runs_what_it_says(mesh: Mesh) -> None:
    members = cluster.status(settings_module.load({**os.environ, **TEST_ENV, **MESH_ENV}))
    kinds = sorted({m["kind"] for m in members})
    assert kinds == ["auth", "envoy", "gateway", "ingest", "kafka", "messaging", "objectstore",
                     "projector", "redis", "store"]
    assert all(m["pid"] is not None and processes.running_pid(
        mesh.settings.data_dir, str(m["name"])) == m["pid"] for m in members)
    assert sum(m["kind"] == "kafka" for m in members) == 3
    assert sum(m["kind"] == "redis" for m in members) == 6
    assert {m["address"].split(":")[0] for m in members if m["kind"] == "store"} == {
        "127.0.0.2", "127.0.0.3"}
    health = httpx.get(f"{mesh.base_url}/health", timeout=30,
                       headers={"authorization": f"Bearer {mesh.token}"})
    assert health.status_code == 200, health.text
    # Each replica of every service is checked, and up.
    replicas = {name: state["status"] for name, state in health.json()["components"].items()
                if " 127.0.0." in name}
    assert len(replicas) == 2 * len(mesh.settings.process_names())
    assert set(replicas.values()) == {"up"}
