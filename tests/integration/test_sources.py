"""Custom sources through Envoy: the sources API and its errors, a channel, a batch of messages and
metadata ingested (again: nothing doubles), messages sent to the source's action endpoint (signed,
delivered, failed, retried), and sources kept apart from each other's channels."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from parley.v1 import records_pb2, sources_pb2
from runtime import topics
from runtime.settings import Settings
from tests.conftest import FAKE_APIS_PORT
from tests.integration.fake_source_apis import Answer, FakeSourceApis, serving
from tests.integration.helpers import api_headers, eventually, post, produce

ACTIONS_PORT = FAKE_APIS_PORT - 2


@pytest.fixture(scope="module")
def actions() -> Iterator[FakeSourceApis]:
    with serving(ACTIONS_PORT) as fakes:
        yield fakes


def _ok(reply: Any) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _source(base_url: str, endpoint: str = "") -> dict[str, Any]:
    source_id = f"crm-{uuid.uuid4().hex[:10]}"
    created = _ok(post(base_url, "/sources.create", {
        "source_id": source_id, "action_endpoint": endpoint, "name": "CRM"}))
    assert created["source_id"] == source_id and created["token"].startswith("psrc_")
    return created


def _batch(channel: str, conversation: str, *texts: str) -> dict[str, Any]:
    return {"messages": [
        {"source_message_id": f"{conversation}-{i}", "source_conversation_id": conversation,
         "source_channel_id": channel, "source_sender_id": "contact-1", "content": {"text": text},
         "from_contact": True, "sent_at": 1_700_000_000_000 + i * 1000}
        for i, text in enumerate(texts)],
        "metadata": [{"subject": "conversation", "source_id": conversation,
                      "source_channel_id": channel,
                      "data": {"contact": {"display_name": "Margaret Hamilton"}}}]}


def _conversation_of(base_url: str, source_id: str) -> dict[str, Any]:
    found = eventually(lambda: _ok(post(base_url, "/conversations.list", {
        "filters": f"source:{source_id}"}))["data"] or None)
    assert len(found) == 1
    return dict(found[0])


def test_sources_are_created_listed_updated_and_deleted(base_url: str) -> None:
    created = _source(base_url, "https://crm.example.com/action")
    source_id, token = created["source_id"], created["token"]
    listed = _ok(post(base_url, "/sources.list", {}))["data"]
    mine = [s for s in listed if s["source_id"] == source_id]
    assert mine == [{"source_id": source_id, "action_endpoint": "https://crm.example.com/action",
                     "name": "CRM", "image_url": ""}]
    assert all("token" not in s for s in listed)
    assert post(base_url, "/sources.create", {"source_id": source_id}).status_code == 409
    updated = _ok(post(base_url, "/sources.update", {"source_id": source_id, "name": "New CRM"}))
    assert updated["name"] == "New CRM"
    assert updated["action_endpoint"] == "https://crm.example.com/action"  # absent: unchanged

    channel = _ok(post(base_url, "/sources.channels.create",
                       {"source_channel_id": "inbox-1", "name": "Inbox"}, token))
    assert post(base_url, "/sources.delete", {"source_id": source_id}).status_code == 200
    # Its token stops working, its channels are disconnected.
    assert post(base_url, "/sources.channels.list", {}, token).status_code == 401
    info = _ok(post(base_url, "/channels.info", {"channel_id": channel["id"]}))
    assert info["connected"] is False
    assert source_id not in [s["source_id"] for s in _ok(post(base_url, "/sources.list", {}))["data"]]
    assert post(base_url, "/sources.update", {"source_id": source_id, "name": "x"}).status_code == 404


def test_racing_creates_of_one_id_make_exactly_one_source(base_url: str) -> None:
    source_id = f"crm-{uuid.uuid4().hex[:10]}"

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30, headers=api_headers()) as client:
            return await asyncio.gather(*(
                client.post(f"{base_url}/sources.create", json={"source_id": source_id,
                                                                "name": f"CRM {i}"})
                for i in range(6)))

    answers = asyncio.run(race())
    assert sorted(a.status_code for a in answers) == [200] + [409] * 5, [a.text for a in answers]
    assert all("exists already" in a.json()["message"] for a in answers if a.status_code == 409)
    [won] = [a.json() for a in answers if a.status_code == 200]
    # The winner's token is the source's (no later create replaced it), and there is one source.
    assert post(base_url, "/sources.channels.list", {}, won["token"]).status_code == 200
    listed = [s for s in _ok(post(base_url, "/sources.list", {}))["data"]
              if s["source_id"] == source_id]
    assert listed == [{"source_id": source_id, "action_endpoint": "", "name": won["name"],
                       "image_url": ""}]
    # Deleted, the id is free again at once.
    _ok(post(base_url, "/sources.delete", {"source_id": source_id}))
    again = _ok(post(base_url, "/sources.create", {"source_id": source_id}))
    assert post(base_url, "/sources.channels.list", {}, again["token"]).status_code == 200


@pytest.mark.parametrize("body, message", [
    ({"source_id": "Bad Id"}, "source_id must be"),
    ({"source_id": "facebook"}, "built-in source"),
    ({"source_id": "crm-ok", "action_endpoint": "ftp://x"},
     "action_endpoint 'ftp://x' is refused: not an absolute http(s) URL"),
])
def test_bad_sources_are_400(base_url: str, body: dict[str, Any], message: str) -> None:
    reply = post(base_url, "/sources.create", body)
    assert reply.status_code == 400 and message in reply.json()["message"]


@pytest.mark.parametrize("endpoint, reason", [
    ("http://169.254.169.254/", "169.254.169.254 is a link-local address"),
    ("http://[::ffff:10.0.0.1]/", "10.0.0.1 is a private address"),
    ("http://10.1.2.3/actions", "10.1.2.3 is a private address"),
    ("https://2886729729/", "172.16.0.1 is a private address"),
])
def test_action_endpoints_reaching_inside_are_refused_and_nothing_is_written(
        base_url: str, endpoint: str, reason: str) -> None:
    created = _source(base_url, f"http://127.0.0.1:{ACTIONS_PORT}/actions/mine")
    source_id = f"crm-{uuid.uuid4().hex[:10]}"
    reply = post(base_url, "/sources.create", {"source_id": source_id, "action_endpoint": endpoint})
    assert reply.status_code == 400
    assert reply.json()["message"] == f"action_endpoint {endpoint!r} is refused: {reason}"
    reply = post(base_url, "/sources.update", {"source_id": created["source_id"],
                                               "action_endpoint": endpoint})
    assert reply.status_code == 400 and reason in reply.json()["message"]
    listed = {s["source_id"]: s for s in _ok(post(base_url, "/sources.list", {}))["data"]}
    assert source_id not in listed  # nothing written
    assert listed[created["source_id"]]["action_endpoint"] == (
        f"http://127.0.0.1:{ACTIONS_PORT}/actions/mine")


def test_source_calls_need_the_source_token(base_url: str) -> None:
    for path in ("/sources.channels.create", "/sources.channels.list", "/sources.webhook"):
        assert post(base_url, path, {}).status_code == 401
        reply = post(base_url, path, {}, token="psrc_not-a-token")
        assert reply.status_code == 401 and "not valid" in reply.json()["message"]


def test_a_batch_is_ingested_once_and_bad_batches_write_nothing(base_url: str) -> None:
    created = _source(base_url)
    source_id, token = created["source_id"], created["token"]
    channel = _ok(post(base_url, "/sources.channels.create",
                       {"source_channel_id": "inbox", "name": "Inbox",
                        "metadata": {"image_url": "https://x/i.png", "team": "support"}}, token))
    assert channel["source"] == source_id and channel["connected"] is True
    assert channel["metadata"] == {"name": "Inbox", "image_url": "https://x/i.png", "team": "support"}
    assert [c["id"] for c in _ok(post(base_url, "/sources.channels.list", {}, token))["data"]] == [
        channel["id"]]

    # Bad items: a 400 naming the item, and nothing of the batch is written.
    bad = _batch("inbox", "conv-bad", "fine", "also fine")
    del bad["messages"][1]["source_sender_id"]
    reply = post(base_url, "/sources.webhook", bad, token)
    assert reply.status_code == 400 and "messages[1]: source_sender_id" in reply.json()["message"]
    reply = post(base_url, "/sources.webhook", _batch("no-such-channel", "conv-x", "hi"), token)
    assert reply.status_code == 400 and "no-such-channel" in reply.json()["message"]

    batch = _batch("inbox", "conv-1", "hello", "anyone there?")
    batch["messages"][1]["sent_at"] = "2023-11-14T22:13:21.5Z"  # RFC 3339 works too
    assert post(base_url, "/sources.webhook", batch, token).status_code == 200
    conversation = _conversation_of(base_url, source_id)
    assert conversation["metadata"]["contact"]["display_name"] == "Margaret Hamilton"
    listed = eventually(lambda: (m := _ok(post(base_url, "/messages.list", {
        "conversation_id": conversation["id"]})))["pagination_data"]["total"] == 2 and m)
    assert [(m["content"], m["sent_at"], m["from_contact"], m["source"]) for m in listed["data"]] == [
        ({"text": "hello"}, "2023-11-14T22:13:20.000Z", True, source_id),
        ({"text": "anyone there?"}, "2023-11-14T22:13:21.500Z", True, source_id)]
    # The same batch again (and a third message): the two are not doubled.
    batch["messages"].append(_batch("inbox", "conv-1", "", "", "third")["messages"][2])
    assert post(base_url, "/sources.webhook", batch, token).status_code == 200
    eventually(lambda: _ok(post(base_url, "/messages.list", {
        "conversation_id": conversation["id"]}))["pagination_data"]["total"] == 3)
    # The bad batches' conversations were never written.
    assert len(_ok(post(base_url, "/conversations.list", {
        "filters": f"source:{source_id}"}))["data"]) == 1


def test_messages_to_a_custom_source_go_to_its_action_endpoint(base_url: str,
                                                               actions: FakeSourceApis) -> None:
    name = uuid.uuid4().hex[:8]
    created = _source(base_url, f"http://127.0.0.1:{ACTIONS_PORT}/actions/{name}")
    source_id, token = created["source_id"], created["token"]
    channel = _ok(post(base_url, "/sources.channels.create",
                       {"source_channel_id": "inbox", "name": "Inbox"}, token))
    assert post(base_url, "/sources.webhook", _batch("inbox", "conv-1", "hi"), token).status_code == 200
    conversation = _conversation_of(base_url, source_id)

    sent = _ok(post(base_url, "/messages.send", {"conversation_id": conversation["id"],
                                                 "message": {"text": "Hello Margaret"}}))
    delivered = eventually(lambda: (m := _ok(post(base_url, "/messages.list", {
        "conversation_id": conversation["id"]}))["data"][-1])["delivery_state"] == "delivered" and m)
    request = actions.to(name)[0]
    # Signed with the source's token (Standard Webhooks), the message id as webhook-id.
    assert Verifier(token.encode()).verify(request.body, request.headers) == request.json()
    assert request.headers["webhook-id"] == sent["id"]
    assert request.json()["type"] == "message.send"
    payload = request.json()["payload"]
    assert payload["message"]["id"] == sent["id"]
    assert payload["message"]["content"] == {"text": "Hello Margaret"}
    assert payload["conversation"] == {"id": conversation["id"], "source_conversation_id": "conv-1",
                                       "source_channel_id": channel["source_channel_id"]}
    assert delivered["metadata"]["source"]["id"].startswith("custom-")

    # A refusal fails the message with the endpoint's error; a 503 is tried again.
    actions.script(name, Answer(400, {"error": "content not supported"}))
    refused = _ok(post(base_url, "/messages.send", {"conversation_id": conversation["id"],
                                                    "message": {"card": {}}}))
    failed = eventually(lambda: (m := _message(base_url, conversation["id"], refused["id"]))[
        "delivery_state"] == "failed" and m)
    assert "content not supported" in failed["metadata"]["error"]
    actions.script(name, Answer(503))
    retried = _ok(post(base_url, "/messages.send", {"conversation_id": conversation["id"],
                                                    "message": {"text": "again"}}))
    eventually(lambda: _message(base_url, conversation["id"], retried["id"])[
        "delivery_state"] == "delivered")
    assert [r.headers["webhook-id"] for r in actions.to(name)][-2:] == [retried["id"]] * 2


def _message(base_url: str, conversation_id: str, message_id: str) -> dict[str, Any]:
    listed = _ok(post(base_url, "/messages.list", {"conversation_id": conversation_id}))["data"]
    return next(m for m in listed if m["id"] == message_id)


async def test_a_send_to_an_action_endpoint_inside_fails_unsent(live_stack: Settings,
                                                               base_url: str) -> None:
    """A source stored with an endpoint inside (written straight to its topic, as by an earlier
    version): each send checks it again and fails the message with the reason."""
    created = _source(base_url)
    source_id, token = created["source_id"], created["token"]
    _ok(post(base_url, "/sources.channels.create", {"source_channel_id": "inbox", "name": "In"},
             token))
    assert post(base_url, "/sources.webhook", _batch("inbox", "conv-1", "hi"), token).status_code == 200
    conversation = _conversation_of(base_url, source_id)
    inside = records_pb2.SourceRecord(source=sources_pb2.Source(
        source_id=source_id, action_endpoint="http://169.254.169.254/latest/meta-data/"),
        token=token)
    await produce(live_stack, topics.SOURCES, source_id, inside.SerializeToString())
    eventually(lambda: [s for s in _ok(post(base_url, "/sources.list", {}))["data"]
                        if s["source_id"] == source_id and "169.254" in s["action_endpoint"]])

    sent = _ok(post(base_url, "/messages.send", {"conversation_id": conversation["id"],
                                                 "message": {"text": "to the metadata service"}}))
    failed = eventually(lambda: (m := _message(base_url, conversation["id"], sent["id"]))[
        "delivery_state"] == "failed" and m)
    assert failed["metadata"]["error"] == "not sent: 169.254.169.254 is a link-local address"


def test_a_source_cannot_touch_another_sources_channels(base_url: str) -> None:
    first, second = _source(base_url), _source(base_url)
    channel = _ok(post(base_url, "/sources.channels.create",
                       {"source_channel_id": "shared-name", "name": "A"}, first["token"]))
    assert _ok(post(base_url, "/sources.channels.list", {}, second["token"]))["data"] == []
    reply = post(base_url, "/sources.channels.disconnect", {"channel_id": channel["id"]},
                 second["token"])
    assert reply.status_code == 403
    # The same source channel id names another channel for another source: not connected there.
    reply = post(base_url, "/sources.webhook", _batch("shared-name", "c", "hi"), second["token"])
    assert reply.status_code == 400
    assert _ok(post(base_url, "/channels.info", {"channel_id": channel["id"]}))["connected"] is True
    assert post(base_url, "/sources.channels.disconnect", {"channel_id": channel["id"]},
                first["token"]).status_code == 200
    assert _ok(post(base_url, "/sources.channels.list", {}, first["token"]))["data"] == []


@pytest.mark.parametrize("sent_at", [253_402_300_800_000, 1e300])
def test_a_sent_at_beyond_9999_is_400_and_nothing_written(base_url: str, sent_at: float) -> None:
    created = _source(base_url)
    source_id, token = created["source_id"], created["token"]
    _ok(post(base_url, "/sources.channels.create", {"source_channel_id": "inbox", "name": "Inbox"},
             token))
    bad = _batch("inbox", "conv-far", "from the year 10000")
    bad["messages"][0]["sent_at"] = sent_at
    reply = post(base_url, "/sources.webhook", bad, token)
    assert reply.status_code == 400, reply.text
    message = reply.json()["message"]
    assert "messages[0]: sent_at must be" in message and "from 1970 to 9999" in message
    # A good batch after it is written; once it shows, the bad one would have shown before it:
    # the source has this one conversation only.
    good = _batch("inbox", "conv-ok", "hi")
    assert post(base_url, "/sources.webhook", good, token).status_code == 200
    conversation = _conversation_of(base_url, source_id)
    assert conversation["last_message"]["content"] == {"text": "hi"}
