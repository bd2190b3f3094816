"""Realtime events through Envoy (SSE, NDJSON) and native gRPC: filters, resume (also across a
gateway restart), heartbeats, errors; and in process, the hub over every stream of the event log
(merged replay, per-stream resume and trimming, no duplicate between replay and live) and its
bounded memory for a slow subscriber."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import grpc
import httpx
import pytest
from redis.typing import EncodableT, FieldT

from gateway import subscriptions
from gateway.subscriptions import Filter, Hub, Limits
from parley.v1 import events_pb2, events_pb2_grpc, records_pb2, resources_pb2
from runtime import redis as runtime_redis
from runtime.redis import Client
from runtime.settings import Settings
from stack import processes, services
from runtime.errors import OutOfRange
from store import events
from store.event_log import EventLog
from store.keys import StoreKeys
from tests.integration import webhooks
from tests.integration.helpers import api, api_headers, api_metadata, eventually
from tests.integration.streams import Listener, sse


def _conversation(base_url: str) -> webhooks.Webhook:
    hook = webhooks.facebook(text="first")
    hook.connect(base_url)
    return hook


def _say(base_url: str, first: webhooks.Webhook, text: str) -> None:
    hook = webhooks.facebook(text=text, page=first.source_channel_id, psid=first.contact)
    assert hook.post(base_url).status_code == 200


def test_sse_shows_a_posted_webhook_as_it_happens(base_url: str) -> None:
    hook = _conversation(base_url)
    listener, client = sse(base_url, {"types": "message.created",
                                       "conversation_id": hook.conversation_id})
    try:
        assert hook.post(base_url).status_code == 200
        [frame] = listener.take(1)
        assert frame["event"] == "message.created" and frame["id"] == frame["data"]["resume_token"]
        payload = frame["data"]["payload"]
        assert payload["conversation_id"] == hook.conversation_id
        assert payload["channel_id"] == hook.channel_id
        assert payload["message"]["content"]["text"] == "first"
        assert payload["message"]["from_contact"] is True
        assert frame["data"]["timestamp"].endswith("Z")
    finally:
        client.close()


def test_heartbeats_keep_an_idle_stream_open(base_url: str) -> None:
    with api.stream("GET", f"{base_url}/events.subscribe",
                      params={"conversation_id": str(uuid.uuid4())},
                      timeout=httpx.Timeout(10, read=10)) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        seen: list[str] = []
        # A read timeout (10 s) fails the test if the heartbeats (every 1 s here) do not come.
        for line in reply.iter_lines():
            if line:
                seen.append(line)
            if seen.count(": heartbeat") == 2:
                break
        assert seen == [": connected", ": heartbeat", ": heartbeat"]


def test_ndjson_and_filters_by_conversation_and_type(base_url: str) -> None:
    mine, other = _conversation(base_url), _conversation(base_url)
    client = httpx.Client(timeout=httpx.Timeout(10, read=30), headers=api_headers())

    def lines() -> Iterator[dict[str, Any]]:
        with client.stream("POST", f"{base_url}/events.subscribe",
                           json={"conversation_id": mine.conversation_id,
                                 "types": ["message.created", "conversation.updated"]},
                           headers={"accept": "application/x-ndjson"}) as reply:
            for line in reply.iter_lines():
                if line.strip():
                    yield json.loads(line)

    listener = Listener(l for l in lines() if l["type"] != "heartbeat")
    try:
        assert other.post(base_url).status_code == 200
        assert mine.post(base_url).status_code == 200
        [created] = listener.take(1)
        assert created["type"] == "message.created"
        assert created["payload"]["conversation_id"] == mine.conversation_id
        # Tagging is a conversation change: conversation.updated, the conversation as served.
        tag = api.post(f"{base_url}/tags.create", json={"name": "vip", "color": "tag-red"}).json()
        assert api.post(f"{base_url}/conversations.tag", json={
            "conversation_id": mine.conversation_id, "tag_id": tag["id"]}).status_code == 200
        [updated] = listener.take(1)
        assert updated["type"] == "conversation.updated"
        assert updated["payload"]["id"] == mine.conversation_id
        assert updated["payload"]["channel_id"] == mine.channel_id
        assert tag["id"] in updated["payload"]["metadata"]["tags"]
        assert updated["payload"]["last_message"]["content"]["text"] == "first"
        assert listener.nothing_more()  # the metadata.updated event and the other conversation's
    finally:
        client.close()


def _grpc_events(target: str, request: events_pb2.SubscribeRequest) -> tuple[Listener, grpc.Channel]:
    channel = grpc.insecure_channel(target)
    stream = events_pb2_grpc.EventsServiceStub(channel).Subscribe(request, metadata=api_metadata())
    return Listener(e for e in stream if e.type != "heartbeat"), channel


def test_resume_replays_exactly_what_was_missed_across_a_gateway_restart(
        live_stack: Settings, base_url: str) -> None:
    hook = _conversation(base_url)
    target = f"127.0.0.1:{live_stack.http_port}"  # native gRPC through Envoy
    request = events_pb2.SubscribeRequest(types=["message.created"],
                                          conversation_id=hook.conversation_id)
    listener, channel = _grpc_events(target, request)
    assert hook.post(base_url).status_code == 200
    [seen] = listener.take(1)
    channel.close()

    _say(base_url, hook, "missed 1")
    open_stream, client = sse(base_url, {"conversation_id": hook.conversation_id,
                                         "types": "tag.updated"})
    processes.stop(live_stack.data_dir, "gateway")
    try:  # a stream the gateway ends says so, with an event (HTTP/1.1 sees no trailers)
        [ended] = open_stream.take(1)
        assert ended["event"] == "stream.error" and ended["data"]["payload"]["status"] == "UNAVAILABLE"
    finally:
        client.close()
    _say(base_url, hook, "missed 2")
    services.start(live_stack, "gateway")
    _say(base_url, hook, "missed 3")
    eventually(lambda: api.post(f"{base_url}/messages.list", json={
        "conversation_id": hook.conversation_id}).json()["pagination_data"]["total"] == 4)

    request.resume_token = seen.resume_token
    listener, channel = _grpc_events(target, request)
    try:
        replayed = listener.take(3)
        assert [e.payload["message"]["content"]["text"] for e in replayed] == [
            "missed 1", "missed 2", "missed 3"]
        # Then live, with no duplicate of what was replayed.
        _say(base_url, hook, "live")
        [live] = listener.take(1)
        assert live.payload["message"]["content"]["text"] == "live"
        assert listener.nothing_more()
    finally:
        channel.close()

    # EventSource's reconnect: the Last-Event-ID header resumes the same way.
    frames, client = sse(base_url, {"types": "message.created",
                                    "conversation_id": hook.conversation_id},
                         headers={"last-event-id": replayed[1].resume_token})
    try:
        assert [f["data"]["payload"]["message"]["content"]["text"] for f in frames.take(2)] == [
            "missed 3", "live"]
    finally:
        client.close()


@pytest.mark.parametrize("params, message", [
    ({"types": "message.exploded"}, "unknown event type"),
    ({"resume_token": "yesterday"}, "is not a resume token"),
    ({"resume_token": "g.1-0_g.2-0"}, "is not a resume token"),
    ({"resume_token": "1718000000000-0"}, "before it was partitioned"),
])
def test_bad_subscriptions_are_400(base_url: str, params: dict[str, str], message: str) -> None:
    for reply in (api.get(f"{base_url}/events.subscribe", params=params, timeout=10),
                  api.post(f"{base_url}/events.subscribe", json={
                      k: [v] if k == "types" else v for k, v in params.items()}, timeout=10)):
        assert reply.status_code == 400
        assert message in reply.json()["message"]


def _own_keys(settings: Settings, name: str) -> StoreKeys:
    return StoreKeys(dataclasses.replace(settings, namespace=f"{name}-{uuid.uuid4().hex[:8]}"))


def test_the_hub_merges_resumes_and_dedupes_over_every_stream(
        live_stack: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub of a gateway, in process, over a log of its own whose events are on several
    streams."""
    monkeypatch.setattr(subscriptions, "BATCH", 2)  # replays read streams in several rounds
    asyncio.run(_over_every_stream(live_stack))


async def _over_every_stream(settings: Settings) -> None:
    redis = runtime_redis.client(settings)
    keys = _own_keys(settings, "streams")
    log = EventLog(redis, keys)
    s0, s1, s2, g = keys.event_streams()  # the test stack has 3 partitions
    for name, stream, entry_id in (("t0", s0, "10-0"), ("t1", s2, "11-0"), ("t2", g, "12-0"),
                                   ("t3", s2, "13-0"), ("t4", s1, "14-0")):
        await _log_tag(redis, stream, name, entry_id)
    hub = Hub(log, Limits(heartbeat_s=30, buffer=100))
    reader = asyncio.create_task(hub.run())
    try:
        await asyncio.sleep(0.2)  # the hub reads from the newest events on

        async def names(stream: AsyncIterator[resources_pb2.Event], count: int) -> list[str]:
            return [_text(await asyncio.wait_for(anext(stream), 5), "name")
                    for _ in range(count)]

        # From the start: merged by entry id, each event with the position after it.
        replay = await hub.open(Filter(), "g.0-0")
        seen = [await asyncio.wait_for(anext(replay), 5) for _ in range(5)]
        assert [e.payload["name"] for e in seen] == ["t0", "t1", "t2", "t3", "t4"]
        assert [e.resume_token for e in seen] == [
            "0.10-0", "0.10-0_2.11-0", "0.10-0_2.11-0_g.12-0", "0.10-0_2.13-0_g.12-0",
            "0.10-0_1.14-0_2.13-0_g.12-0"]
        # Resuming gives exactly what came after the token.
        assert await names(await hub.open(Filter(), seen[1].resume_token), 3) == ["t2", "t3", "t4"]

        # Events logged while a replay runs come both ways (replayed, and queued live): each
        # is streamed once, in its stream's order.
        both = await hub.open(Filter(), seen[0].resume_token)
        assert await names(both, 1) == ["t1"]  # registered; stream 2 is read in part (t1, t3)
        await _log_tag(redis, s2, "t5")
        await _log_tag(redis, s2, "t6")
        await _log_tag(redis, g, "t7")
        await asyncio.sleep(0.2)  # queued live
        # Live events of different streams come in the order their readers get them; one
        # stream's keep their order (t5 before t6).
        got = await names(both, 6)
        assert got[:3] == ["t2", "t3", "t4"] and sorted(got[3:]) == ["t5", "t6", "t7"]
        assert got.index("t5") < got.index("t6")
        await _log_tag(redis, s1, "t8")
        last = await asyncio.wait_for(anext(both), 5)
        assert last.payload["name"] == "t8" and last.resume_token == await log.head()
        got = await names(replay, 4)  # live for the first one too
        assert sorted(got) == ["t5", "t6", "t7", "t8"] and got.index("t5") < got.index("t6")

        # Trimming one stream puts only the tokens before what it dropped out of range.
        await redis.xtrim(s2, maxlen=3, approximate=False)  # drops t1 (11-0)
        with pytest.raises(OutOfRange):
            await hub.open(Filter(), "g.0-0")
        with pytest.raises(OutOfRange):
            await hub.open(Filter(), "0.10-0_1.14-0_g.12-0")  # stream 2 at its start
        assert await names(await hub.open(Filter(), seen[3].resume_token), 1) == ["t4"]
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await redis.delete(*keys.event_streams())
        await redis.aclose()


def test_a_slow_subscriber_is_cut_with_an_error_event_not_the_gateway(live_stack: Settings) -> None:
    """The hub of a gateway, in process, on the test Redis: one subscriber stops reading."""
    asyncio.run(_slow_subscriber(live_stack))


async def _slow_subscriber(settings: Settings) -> None:
    redis = runtime_redis.client(settings)
    keys = _own_keys(settings, "slow")
    streams = keys.event_streams()
    hub = Hub(EventLog(redis, keys), Limits(heartbeat_s=30, buffer=5))
    reader = asyncio.create_task(hub.run())
    try:
        await _log_tag(redis, streams[0], "before")
        await asyncio.sleep(0.2)  # the hub reads from the newest event on
        slow = await hub.open(Filter(), "")
        quick = await hub.open(Filter(), "")
        first_slow, first_quick = asyncio.ensure_future(anext(slow)), asyncio.ensure_future(anext(quick))
        await asyncio.sleep(0.1)
        for i in range(20):
            await _log_tag(redis, streams[i % len(streams)], f"t{i}")
            # The quick one keeps reading.
            got = await asyncio.wait_for(first_quick if i == 0 else anext(quick), 5)
            assert got.payload["name"] == f"t{i}"
        # The slow one read one event, then none while 19 more came: cut, with a clear reason.
        assert (await first_slow).payload["name"] == "t0"
        error = await asyncio.wait_for(anext(slow), 5)
        assert error.type == "stream.error"
        assert error.payload["status"] == "RESOURCE_EXHAUSTED"
        assert "too slow" in _text(error, "message")
        with pytest.raises(StopAsyncIteration):
            await anext(slow)
        assert len(hub.subscribers) == 1  # only the quick one is left, with its bounded queue
    finally:
        reader.cancel()
        await redis.delete(*streams)
        await redis.aclose()


def _tag(name: str) -> records_pb2.TagRecord:
    return records_pb2.TagRecord(tag=resources_pb2.Tag(id=name, name=name, color="tag-red"))


async def _log_tag(redis: Client, stream: str, name: str, entry_id: str = "*") -> None:
    """Append the `tag.updated` event of tag `name` to `stream` of the event log."""
    # redis-py types XADD's fields as a dict (invariant) of its own unions: no events.Entry is one.
    await redis.xadd(stream, cast(dict[FieldT, EncodableT], events.tag(_tag(name))), id=entry_id)


def _text(event: resources_pb2.Event, field: str) -> str:
    """A text field of an event's payload."""
    value = event.payload[field]
    assert isinstance(value, str), value
    return value
