"""Outbound webhooks through Envoy against a local receiver: CRUD and errors, Standard Webhooks
signing, retries with one webhook-id, type filters, unsubscribe, disabling, the delivery log,
deliveries across a restart of the gateway, and the dispatcher's intake of every stream of the
event log, a broken entry taken in without blocking."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis.typing import EncodableT, FieldT
from standardwebhooks.webhooks import Webhook as Verifier

from gateway.deliveries import DeliveryKeys
from gateway.dispatcher import Dispatcher, Policy
from parley.v1 import records_pb2, resources_pb2
from runtime import redis as runtime_redis
from runtime import timestamps, topics
from runtime.settings import Settings
from store.event_log import EventLog
from store.keys import StoreKeys
from store.reads import StoreReads
from stack import processes, services
from tests.conftest import FAKE_APIS_PORT
from tests.integration import webhooks
from tests.integration.fake_source_apis import Answer, FakeSourceApis, serving, Received
from tests.integration.helpers import eventually, post, produce

RECEIVER_PORT = FAKE_APIS_PORT - 1
KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(scope="module")
def receiver() -> Iterator[FakeSourceApis]:
    with serving(RECEIVER_PORT) as fakes:
        yield fakes


def _subscribe(base_url: str, receiver_name: str, **fields: Any) -> dict[str, Any]:
    reply = post(base_url, "/webhooks.subscribe",
                  {"url": f"http://127.0.0.1:{RECEIVER_PORT}/hooks/{receiver_name}", **fields})
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _tag(base_url: str, name: str) -> str:
    reply = post(base_url, "/tags.create", {"name": name, "color": "tag-blue"})
    assert reply.status_code == 200
    return str(reply.json()["id"])


def _tags_seen(receiver: FakeSourceApis, name: str) -> list[str]:
    return [r.json()["payload"]["name"] for r in receiver.to(name)]


def test_subscribe_read_update_unsubscribe_and_errors(base_url: str) -> None:
    name = f"crud-{uuid.uuid4().hex[:6]}"
    created = _subscribe(base_url, name, name="CRM", events=["message.created"],
                         headers={"x-crm-key": "k"})
    assert created["status"] == "Subscribed" and created["events"] == ["message.created"]
    # No key given: one is generated and shown this once.
    assert Verifier(created["generated_signature_key"])
    info = post(base_url, "/webhooks.info", {"id": created["id"]}).json()
    assert info["generated_signature_key"] == "" and info["headers"] == {"x-crm-key": "****"}
    assert created["id"] in [w["id"] for w in post(base_url, "/webhooks.list", {}).json()["data"]]
    updated = post(base_url, "/webhooks.update", {"id": created["id"], "name": "CRM 2",
                                                   "events": [], "headers": {}}).json()
    assert (updated["name"], updated["events"], updated["headers"]) == ("CRM 2", [], {})
    gone = post(base_url, "/webhooks.unsubscribe", {"id": created["id"]}).json()
    assert gone["status"] == "Unsubscribed"
    assert post(base_url, "/webhooks.info", {"id": created["id"]}).json()["status"] == "Unsubscribed"

    unknown = str(uuid.uuid4())
    for path, body in (("/webhooks.info", {"id": unknown}), ("/webhooks.update", {"id": unknown}),
                       ("/webhooks.unsubscribe", {"id": unknown}),
                       ("/webhooks.deliveries", {"webhook_id": unknown})):
        assert post(base_url, path, body).status_code == 404
    before = len(post(base_url, "/webhooks.list", {}).json()["data"])
    for bad, message in (({"url": "ftp://x"}, "http(s)"), ({"url": "http://x", "events": ["nope"]},
                         "unknown event type"), ({"url": "http://x", "signature_key": "short"},
                         "signature_key")):
        reply = post(base_url, "/webhooks.subscribe", bad)
        assert reply.status_code == 400 and message in reply.json()["message"]
    assert len(post(base_url, "/webhooks.list", {}).json()["data"]) == before  # nothing written
    assert post(base_url, "/webhooks.update", {"id": created["id"], "status": "Paused"}).status_code == 400


@pytest.mark.parametrize("url, reason", [
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[::ffff:10.0.0.1]/", "10.0.0.1 is a private address"),
    ("http://10.1.2.3/", "10.1.2.3 is a private address"),
    ("http://0x0a010203/", "10.1.2.3 is a private address"),
    ("http://[::1]:8080/", "::1 is a loopback address"),
    ("http://100.64.1.1/", "100.64.1.1 is a shared (100.64.0.0/10) address"),
])
def test_urls_reaching_inside_are_refused_and_nothing_is_written(
        base_url: str, url: str, reason: str) -> None:
    """Loopback is allowed by the tests' PARLEY_OUTBOUND_ALLOW_CIDRS (their receivers), the
    other ranges are not."""
    webhook = _subscribe(base_url, f"inside-{uuid.uuid4().hex[:6]}")
    before = post(base_url, "/webhooks.list", {}).json()["data"]
    reply = post(base_url, "/webhooks.subscribe", {"url": url})
    assert reply.status_code == 400
    assert reply.json()["message"] == f"url {url!r} is refused: {reason}"
    reply = post(base_url, "/webhooks.update", {"id": webhook["id"], "url": url, "name": "x"})
    assert reply.status_code == 400 and reason in reply.json()["message"]
    assert post(base_url, "/webhooks.list", {}).json()["data"] == before  # nothing written


async def test_a_delivery_to_a_destination_inside_is_a_refused_attempt(
        live_stack: Settings, base_url: str) -> None:
    """A webhook stored before its URL was refused (written straight to its topic, as by an
    earlier version): each delivery is checked again and fails with the reason, unsent."""
    webhook_id = f"inside-{uuid.uuid4().hex[:6]}"
    record = records_pb2.WebhookRecord(
        webhook=resources_pb2.Webhook(id=webhook_id, url="http://10.255.255.1:9901/stats",
                                      events=["tag.updated"], status="Subscribed"),
        signature_key=KEY, created_at_ms=timestamps.now_ms())
    await produce(live_stack, topics.WEBHOOKS, webhook_id, record.SerializeToString())
    eventually(lambda: post(base_url, "/webhooks.info", {"id": webhook_id}).status_code == 200)
    _tag(base_url, webhook_id)

    def failed() -> dict[str, Any] | None:
        page = post(base_url, "/webhooks.deliveries", {"webhook_id": webhook_id}).json()
        return page["data"][0] if page["data"] and page["data"][0]["status"] == "failed" else None

    delivery = eventually(failed)
    assert {(a["http_status"], a["error"]) for a in delivery["attempts"]} == {
        (0, "refused: 10.255.255.1 is a private address")}


def test_header_values_are_write_only(base_url: str, receiver: FakeSourceApis) -> None:
    """Header values (often the receiver's credentials) are masked in every answer; sending a
    masked value back keeps the real one, which deliveries carry."""
    name = f"masked-{uuid.uuid4().hex[:6]}"
    headers = {"authorization": "Bearer crm-token", "x-tenant": "acme"}
    webhook = _subscribe(base_url, name, events=["tag.updated"], signature_key=KEY,
                         headers=headers)
    masked = {"authorization": "****", "x-tenant": "****"}
    assert webhook["headers"] == masked
    assert post(base_url, "/webhooks.info", {"id": webhook["id"]}).json()["headers"] == masked
    listed = post(base_url, "/webhooks.list", {}).json()["data"]
    assert [w["headers"] for w in listed if w["id"] == webhook["id"]] == [masked]
    assert "crm-token" not in str(listed) and "acme" not in str(listed)

    # What a client read, sent back with one header changed: the masked one keeps its value.
    updated = post(base_url, "/webhooks.update", {"id": webhook["id"], "headers": {
        "authorization": "****", "x-tenant": "globex"}})
    assert updated.status_code == 200 and updated.json()["headers"] == masked
    reply = post(base_url, "/webhooks.update", {"id": webhook["id"], "headers": {
        "x-unknown": "****"}})
    assert reply.status_code == 400 and "x-unknown" in reply.json()["message"]
    _tag(base_url, f"{name}-a")
    delivered = eventually(lambda: receiver.to(name))[0]
    assert (delivered.headers["authorization"], delivered.headers["x-tenant"]) == (
        "Bearer crm-token", "globex")


def _verified(request: Received) -> Any:
    return Verifier(KEY).verify(request.body, request.headers)


def test_a_failing_receiver_gets_retries_of_one_signed_delivery(
        base_url: str, receiver: FakeSourceApis) -> None:
    name = f"retry-{uuid.uuid4().hex[:6]}"
    receiver.script(name, Answer(500), Answer(503))
    webhook = _subscribe(base_url, name, events=["message.created"], signature_key=KEY,
                         headers={"authorization": "Bearer crm-token"})
    hook = webhooks.facebook(text="deliver me")
    hook.connect(base_url)
    assert hook.post(base_url).status_code == 200

    def ours() -> list[Received] | None:
        found = [r for r in receiver.to(name)
                 if r.json()["payload"]["conversation_id"] == hook.conversation_id]
        return found if len(found) == 3 else None

    attempts = eventually(ours, timeout=20)
    assert len({r.headers["webhook-id"] for r in attempts}) == 1
    for request in attempts:
        event = _verified(request)
        assert event["type"] == "message.created"
        assert event["payload"]["message"]["content"]["text"] == "deliver me"
        assert "resume_token" not in event
        assert request.headers["authorization"] == "Bearer crm-token"

    def logged() -> dict[str, Any] | None:
        page = post(base_url, "/webhooks.deliveries", {"webhook_id": webhook["id"]}).json()
        found = [d for d in page["data"] if d["event_id"] == attempts[0].headers["webhook-id"]]
        return found[0] if found and found[0]["status"] == "delivered" else None

    delivery = eventually(logged)
    assert [a["http_status"] for a in delivery["attempts"]] == [500, 503, 204]
    assert [a["error"] for a in delivery["attempts"]] == ["HTTP 500", "HTTP 503", ""]
    assert all(a["attempted_at"].endswith("Z") and a["latency_ms"] >= 0 for a in delivery["attempts"])
    time.sleep(1)
    assert len(ours() or []) == 3  # delivered: never sent again


def test_type_filters_and_unsubscribe(base_url: str, receiver: FakeSourceApis) -> None:
    name = f"tags-{uuid.uuid4().hex[:6]}"
    webhook = _subscribe(base_url, name, events=["tag.updated"], signature_key=KEY)
    _tag(base_url, f"{name}-a")
    hook = webhooks.facebook(text="not for this webhook")
    hook.connect(base_url)
    assert hook.post(base_url).status_code == 200
    eventually(lambda: _tags_seen(receiver, name) == [f"{name}-a"])
    assert {_verified(r)["type"] for r in receiver.to(name)} == {"tag.updated"}

    post(base_url, "/webhooks.unsubscribe", {"id": webhook["id"]})
    _tag(base_url, f"{name}-b")
    time.sleep(1.5)
    assert _tags_seen(receiver, name) == [f"{name}-a"]
    page = post(base_url, "/webhooks.deliveries", {"webhook_id": webhook["id"], "page_size": 1}).json()
    assert page["pagination_data"]["total"] == 1 and page["data"][0]["status"] == "delivered"


def test_a_webhook_that_keeps_failing_is_disabled(base_url: str, receiver: FakeSourceApis) -> None:
    name = f"down-{uuid.uuid4().hex[:6]}"
    receiver.script(name, *[Answer(500)] * 100)
    webhook = _subscribe(base_url, name, events=["tag.updated"], signature_key=KEY)

    def disabled() -> dict[str, Any] | None:
        _tag(base_url, f"{name}-{time.time()}")  # keep failing (PARLEY_WEBHOOK_DISABLE_AFTER_S=3)
        info = post(base_url, "/webhooks.info", {"id": webhook["id"]}).json()
        return info if info["status"] == "Disabled" else None

    info = eventually(disabled, timeout=30)
    assert "HTTP 500" in info["status_reason"]
    page = post(base_url, "/webhooks.deliveries", {"webhook_id": webhook["id"]}).json()
    assert "failed" in {d["status"] for d in page["data"]}
    # Subscribing it again enables it.
    again = post(base_url, "/webhooks.update", {"id": webhook["id"], "status": "Subscribed"}).json()
    assert (again["status"], again["status_reason"]) == ("Subscribed", "")


def test_deliveries_survive_a_gateway_restart(live_stack: Settings, base_url: str,
                                              receiver: FakeSourceApis) -> None:
    name = f"restart-{uuid.uuid4().hex[:6]}"
    _subscribe(base_url, name, events=["tag.updated"], signature_key=KEY)
    _tag(base_url, f"{name}-before")
    eventually(lambda: _tags_seen(receiver, name) == [f"{name}-before"])
    processes.stop(live_stack.data_dir, "gateway")
    try:
        _tag(base_url, f"{name}-while-down")  # logged by the store while no dispatcher runs
    finally:
        services.start(live_stack, "gateway")
    eventually(lambda: _tags_seen(receiver, name) == [f"{name}-before", f"{name}-while-down"])
    time.sleep(1)
    assert _tags_seen(receiver, name) == [f"{name}-before", f"{name}-while-down"]


def test_no_signing_key_reaches_a_log(live_stack: Settings) -> None:
    """Given and generated signing keys (all "whsec_...") appear in no component's log."""
    logs = sorted((live_stack.data_dir / "logs").glob("*.log"))
    assert any(log.name == "gateway.log" for log in logs)
    for log in logs:
        assert b"whsec_" not in log.read_bytes(), log.name


@dataclasses.dataclass
class _Intake:
    """What a dispatcher of its own namespace did with entries on two streams of the log."""

    #: The time part of the entries' ids.
    ms: int
    rejected: list[tuple[bytes, dict[bytes, bytes]]]
    #: Per stream (name): entries delivered to the group, and those still unacknowledged.
    groups: dict[str, tuple[bytes, int]]
    #: The deliveries' event ids and types, for the webhook of the namespace.
    deliveries: dict[str, bytes | str | None]


async def _dispatch_two_streams(settings: Settings, webhook_id: str) -> _Intake:
    """Run a dispatcher of its own namespace (with one webhook) over two streams of the log: on
    the first an entry that is no event then a tag event, on the global one a tag event with the
    same entry id."""
    own = dataclasses.replace(settings, namespace=f"test-dispatch-{uuid.uuid4().hex[:8]}")
    redis = runtime_redis.client(own)
    keys, delivery_keys = StoreKeys(own), DeliveryKeys(own)
    first, last = keys.event_streams()[0], keys.event_streams()[-1]
    webhook = records_pb2.WebhookRecord(
        webhook=resources_pb2.Webhook(id=webhook_id, url="http://127.0.0.1:9/none",
                                      status="Subscribed"), signature_key=KEY)
    await redis.set(keys.entity("webhook", webhook_id), webhook.SerializeToString())
    await redis.sadd(keys.entities("webhook"), webhook_id)

    async def never_disable(webhook: records_pb2.WebhookRecord, why: str) -> None:
        raise AssertionError("no webhook to disable")

    dispatcher = Dispatcher(redis, EventLog(redis, keys), StoreReads(redis, keys), delivery_keys,
                            Policy(), never_disable)
    task = asyncio.create_task(dispatcher.run())
    event: dict[FieldT, EncodableT] = {  # as the projector logs it (store.events.entry)
        "type": "tag.updated", "event": resources_pb2.Event(type="tag.updated").SerializeToString(),
        "conversation_id": "", "channel_id": ""}
    try:
        while not await redis.exists(last):  # the groups made at "$": add after them
            await asyncio.sleep(0.05)
        ms = timestamps.now_ms()
        await redis.xadd(first, {**event, "event": b"\xff not an event"}, id=f"{ms}-0")
        await redis.xadd(first, event, id=f"{ms}-1")
        await redis.xadd(last, event, id=f"{ms}-1")
        groups: dict[str, tuple[bytes, int]] = {}
        for _ in range(100):  # until all were read and acknowledged, or the dispatcher died
            for name in (first, last):
                (group,) = await redis.xinfo_groups(name)
                groups[name] = group["last-delivered-id"], group["pending"]
            if task.done() or set(groups.values()) == {(f"{ms}-1".encode(), 0)}:
                break
            await asyncio.sleep(0.05)
        assert not task.done(), task  # the dispatcher lives on
        logged = await redis.zrange(delivery_keys.log(webhook_id), 0, -1)
        event_ids = [runtime_redis.text(member).split(":", 1)[1] for member in logged]
        types = [await redis.hget(delivery_keys.delivery(webhook_id, e), "type") for e in event_ids]
        rejected = [(runtime_redis.blob(entry_id),
                     {runtime_redis.blob(k): runtime_redis.blob(v) for k, v in (fields or {}).items()})
                    for entry_id, fields in await redis.xrange(delivery_keys.rejected()) or []]
        return _Intake(ms, rejected, groups, dict(zip(event_ids, types, strict=True)))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await redis.delete(*keys.event_streams(),
                           *[k async for k in redis.scan_iter(match=keys.namespace_pattern())])
        await redis.aclose()


def test_the_dispatcher_takes_in_every_stream_of_the_log_a_broken_entry_blocking_none(
        live_stack: Settings) -> None:
    intake = asyncio.run(_dispatch_two_streams(live_stack, "hook"))
    ms = intake.ms
    ((_, fields),) = intake.rejected
    assert fields[b"what"] == f"0.{ms}-0".encode()  # the event id: stream 0, the entry id
    assert fields[b"reason"].startswith(b"DecodeError: Error parsing message")
    # Each stream has a group of its own, all its entries taken in: none is left pending.
    assert list(intake.groups.values()) == [(f"{ms}-1".encode(), 0)] * 2
    # The same entry id on two streams is two events, with a delivery each.
    assert intake.deliveries == {f"0.{ms}-1": b"tag.updated", f"g.{ms}-1": b"tag.updated"}
