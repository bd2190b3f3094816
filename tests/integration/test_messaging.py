"""messages.send, .resend and .suggest-replies through Envoy, with the sources' APIs faked
locally: each connector's request, delivered / failed, retries, the stale guard, idempotency,
order within a conversation, conversations Parley starts, and echoes."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import struct_pb2

from messaging import policy, sends
from messaging.claims import SendClaims
from messaging.record_writer import RecordWriter
from messaging.sender import GROUP as SENDER_GROUP
from messaging.sender import Sender
from runtime import kafka, topics
from runtime import redis as runtime_redis
from runtime.settings import Settings
from store import client as store_client
from stack import processes, services
from tests.conftest import FAKE_APIS_PORT, TEST_ENV
from tests.integration import webhooks
from tests.integration.fake_source_apis import GRAPH_ERROR, Answer, FakeSourceApis, serving
from tests.integration.helpers import (api_headers, eventually, holds_every_partition, post,
                                      produce_messages)
from tests.integration.streams import sse
from tests.integration.test_cli import run_json



@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSourceApis]:
    with serving(FAKE_APIS_PORT) as fakes:
        yield fakes


def _conversation(base_url: str, hook: webhooks.Webhook) -> webhooks.Webhook:
    """Connect `hook`'s channel and post it: a conversation with a contact in the store."""
    hook.connect(base_url)
    assert hook.post(base_url).status_code == 200
    eventually(lambda: post(base_url, "/conversations.info",
                             {"conversation_id": hook.conversation_id}).status_code == 200)
    return hook


def _message(base_url: str, conversation_id: str, message_id: str) -> dict[str, Any] | None:
    page = post(base_url, "/messages.list", {"conversation_id": conversation_id, "page_size": 100})
    found = [m for m in page.json().get("data", []) if m["id"] == message_id]
    return found[0] if found else None


def _settled(base_url: str, conversation_id: str, message_id: str, state: str,
             timeout: float = 20) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        message = _message(base_url, conversation_id, message_id)
        return message if message and message["delivery_state"] == state else None
    return eventually(probe, timeout=timeout)


def _send(base_url: str, conversation_id: str, text: str, **extra: Any) -> dict[str, Any]:
    reply = post(base_url, "/messages.send",
                  {"conversation_id": conversation_id, "message": {"text": text}, **extra})
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


_LOGS = Path(TEST_ENV["PARLEY_DATA_DIR"]) / "logs"


@pytest.fixture(scope="module", autouse=True)
def log_sizes(live_stack: Settings) -> dict[Path, int]:
    """Each component's log size before this module's tests (logs are appended to across runs)."""
    return {log: log.stat().st_size for log in _LOGS.glob("*.log")}


@pytest.fixture(scope="module")
def messenger(base_url: str, fake: FakeSourceApis) -> webhooks.Webhook:
    return _conversation(base_url, webhooks.facebook(text="hi, I need help"))


def test_a_sent_message_reaches_the_graph_api_and_is_delivered(
        base_url: str, fake: FakeSourceApis, messenger: webhooks.Webhook) -> None:
    sent = _send(base_url, messenger.conversation_id, "how can we help?")
    assert sent["delivery_state"] == sent["state"] == "pending"
    assert sent["content"] == {"text": "how can we help?"}
    # The sender is the API token's name (the tests use the admin token `up` made).
    assert sent["from_contact"] is False and sent["sender"]["id"].startswith("admin")
    delivered = _settled(base_url, messenger.conversation_id, sent["id"], "delivered")
    [request] = fake.to(messenger.contact)
    assert request.path == "/facebook/me/messages"
    assert request.query["access_token"] == [messenger.connect_body["page_token"]]
    assert request.json()["recipient"] == {"id": messenger.contact}
    assert request.json()["message"] == {"text": "how can we help?"}
    assert delivered["metadata"]["source"]["id"].startswith("m_fake")


@pytest.mark.parametrize("make", [webhooks.instagram, webhooks.whatsapp, webhooks.google,
                                  webhooks.viber, lambda: webhooks.twilio(False),
                                  lambda: webhooks.twilio(True)],
                         ids=["instagram", "whatsapp", "google", "viber", "sms", "twilio-whatsapp"])
def test_every_connector_sends_its_sources_request(base_url: str, fake: FakeSourceApis,
                                                   make: Any) -> None:
    hook = _conversation(base_url, make())
    content = {"instagram": {"text": "hi"}, "whatsapp": {"type": "text", "text": {"body": "hi"}},
               "google": {"text": "hi"},
               "viber": {"type": "text", "text": "hi", "min_api_version": 7},
               "twilio.sms": {"Body": "hi"}, "twilio.whatsapp": {"Body": "hi"}}[hook.source]
    reply = post(base_url, "/messages.send",
                  {"conversation_id": hook.conversation_id, "message": content})
    assert reply.status_code == 200, reply.text
    delivered = _settled(base_url, hook.conversation_id, reply.json()["id"], "delivered")
    [request] = fake.to(hook.contact)
    secrets = hook.connect_body
    if hook.source == "instagram":
        assert request.path == "/instagram/me/messages"
        assert request.query["access_token"] == [secrets["page_token"]]
        assert request.json()["message"] == content
    elif hook.source == "whatsapp":
        assert request.path == f"/whatsapp/{hook.source_channel_id}/messages"
        assert request.headers["authorization"] == f"Bearer {secrets['user_token']}"
        assert request.json() | content == request.json()
        assert request.json()["messaging_product"] == "whatsapp"
    elif hook.source == "google":
        assert request.path == f"/google/v1/conversations/{hook.contact}/messages"
        assert request.headers["authorization"] == "Bearer " + TEST_ENV["PARLEY_GOOGLE_AUTH_TOKEN"]
        assert request.json()["text"] == "hi" and request.json()["messageId"] == reply.json()["id"]
    elif hook.source == "viber":
        assert request.path == "/viber/pa/send_message"
        assert request.headers["x-viber-auth-token"] == TEST_ENV["PARLEY_VIBER_AUTH_TOKEN"]
        assert request.json()["receiver"] == hook.contact and request.json()["text"] == "hi"
        # Forwarded as it is: an integer stays an integer (protobuf holds numbers as doubles).
        assert repr(request.json()["min_api_version"]) == "7"
        # Viber's 64-bit message token stays exact.
        assert int(delivered["metadata"]["source"]["id"]) > 2**53
    else:
        account = TEST_ENV["PARLEY_TWILIO_ACCOUNT_SID"]
        assert request.path == f"/twilio/2010-04-01/Accounts/{account}/Messages.json"
        assert request.headers["authorization"].startswith("Basic ")
        prefix = "whatsapp:" if hook.source == "twilio.whatsapp" else ""
        assert request.form() == {"To": [prefix + hook.contact],
                                  "From": [prefix + hook.source_channel_id], "Body": ["hi"]}
    assert delivered["metadata"]["source"]["id"]


def test_a_4xx_fails_the_message_with_the_sources_error(
        base_url: str, fake: FakeSourceApis, messenger: webhooks.Webhook) -> None:
    fake.script(messenger.contact, Answer(400, GRAPH_ERROR))
    before = len(fake.to(messenger.contact))
    sent = _send(base_url, messenger.conversation_id, "to nobody")
    failed = _settled(base_url, messenger.conversation_id, sent["id"], "failed")
    assert "No matching user found" in failed["metadata"]["error"]
    assert len(fake.to(messenger.contact)) == before + 1  # a 4xx is not retried

    # resend: a failed message goes back to pending and is sent again (now with success).
    resent = post(base_url, "/messages.resend", {"message_id": sent["id"]})
    assert resent.status_code == 200, resent.text
    assert resent.json()["delivery_state"] == "pending" and "error" not in resent.json()["metadata"]
    delivered = _settled(base_url, messenger.conversation_id, sent["id"], "delivered")
    assert "error" not in delivered["metadata"]
    assert len(fake.to(messenger.contact)) == before + 2
    conflict = post(base_url, "/messages.resend", {"message_id": sent["id"]})
    assert conflict.status_code == 409 and "not in a failed state" in conflict.json()["message"]
    assert post(base_url, "/messages.resend", {"message_id": str(uuid.uuid4())}).status_code == 404


def test_a_failure_reaches_subscribers_as_events(
        base_url: str, fake: FakeSourceApis, messenger: webhooks.Webhook) -> None:
    frames, client = sse(base_url, {"conversation_id": messenger.conversation_id,
                                    "types": ["message.created", "message.updated",
                                              "metadata.updated"]})
    try:
        fake.script(messenger.contact, Answer(400, GRAPH_ERROR))
        sent = _send(base_url, messenger.conversation_id, "to nobody")
        seen = {f["data"]["type"]: f["data"]["payload"] for f in frames.take(3)}
    finally:
        client.close()
    assert seen["message.created"]["message"]["delivery_state"] == "pending"
    assert seen["metadata.updated"]["identifier"] == sent["id"]
    assert "No matching user found" in seen["metadata.updated"]["metadata"]["error"]
    assert seen["message.updated"]["message"]["delivery_state"] == "failed"
    # The failed message.updated says why: it is the message as messages.list serves it.
    assert "No matching user found" in seen["message.updated"]["message"]["metadata"]["error"]
    assert seen["message.updated"]["message"] == _message(base_url, messenger.conversation_id,
                                                          sent["id"])


def test_transient_failures_are_retried_then_delivered(
        base_url: str, fake: FakeSourceApis, messenger: webhooks.Webhook) -> None:
    fake.script(messenger.contact, Answer(500, {}), Answer(429, GRAPH_ERROR), Answer(200, {}, 1.5))
    before = len(fake.to(messenger.contact))
    sent = _send(base_url, messenger.conversation_id, "eventually")
    _settled(base_url, messenger.conversation_id, sent["id"], "failed")
    # 500, 429 and a timeout: three attempts (PARLEY_MESSAGING_ATTEMPTS), then failed.
    assert len(fake.to(messenger.contact)) == before + 3
    failed = _message(base_url, messenger.conversation_id, sent["id"])
    assert failed is not None and "timeout" in failed["metadata"]["error"]
    assert "gave up after 3 attempts" in failed["metadata"]["error"]

    fake.script(messenger.contact, Answer(503, {}), Answer(200, {}, 1.5))
    again = _send(base_url, messenger.conversation_id, "second try")
    _settled(base_url, messenger.conversation_id, again["id"], "delivered")
    assert len(fake.to(messenger.contact)) == before + 6


def test_a_sender_killed_mid_send_never_sends_twice_and_the_message_says_so(
        base_url: str, live_stack: Settings, fake: FakeSourceApis,
        messenger: webhooks.Webhook) -> None:
    fake.script(messenger.contact, Answer(200, {}, 0.9))  # answered just inside the timeout
    before = len(fake.to(messenger.contact))
    sent = _send(base_url, messenger.conversation_id, "in flight when the sender dies")
    deadline = time.monotonic() + 20
    while len(fake.to(messenger.contact)) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    # The source has the request and has not answered: the sender dies now.
    supervisor = processes.running_pid(live_stack.data_dir, "messaging")
    assert supervisor is not None and len(fake.to(messenger.contact)) == before + 1
    os.killpg(supervisor, signal.SIGKILL)  # the service and its supervisor
    eventually(lambda: processes.running_pid(live_stack.data_dir, "messaging") is None, timeout=10)
    services.start(live_stack, "messaging")
    # The next sender meets the dead one's claim: once its lease is over, the message fails,
    # saying why, rather than reaching the contact a second time.
    failed = eventually(lambda: (m := _message(base_url, messenger.conversation_id, sent["id"]))
                        and m["delivery_state"] == "failed" and m, timeout=45)
    assert "unknown whether it was sent" in failed["metadata"]["error"]
    assert len(fake.to(messenger.contact)) == before + 1


async def _second_sender(settings: Settings, until: asyncio.Event) -> None:
    """Another sender in the messaging service's group, in this process, until `until` is set."""
    redis = runtime_redis.client(settings)
    producer = kafka.producer(settings)
    await producer.start()
    try:
        await store_client.follow(settings, redis)  # reads the generation the services read
        limits = policy.load(outbound_allow=settings.outbound_allow)
        sender = Sender(settings, store_client.reads(settings, redis),
                        RecordWriter(settings, producer), limits,
                        SendClaims(settings, redis, limits.claim_lease_s))
        running = asyncio.create_task(sender.run())
        stopped = asyncio.create_task(until.wait())
        await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # a sender that stopped by itself: its error fails the test
            raise AssertionError("the second sender stopped by itself")
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    finally:
        await producer.stop()
        await redis.aclose()


async def test_senders_joining_and_leaving_mid_send_send_each_message_once(
        base_url: str, live_stack: Settings, fake: FakeSourceApis,
        messenger: webhooks.Webhook) -> None:
    supervisor = processes.running_pid(live_stack.data_dir, "messaging")
    # Two failures first: the message is in flight for a moment.
    fake.script(messenger.contact, Answer(500, {}), Answer(503, {}))
    before = len(fake.to(messenger.contact))
    stop = asyncio.Event()
    joined = asyncio.create_task(_second_sender(live_stack, stop))
    first = await asyncio.to_thread(_send, base_url, messenger.conversation_id, "mid-rebalance")
    await asyncio.sleep(1.0)  # the group rebalances while it is being sent
    second = await asyncio.to_thread(_send, base_url, messenger.conversation_id, "after it")
    settled = asyncio.create_task(asyncio.to_thread(
        _settled, base_url, messenger.conversation_id, second["id"], "delivered"))
    await asyncio.wait({settled, joined}, return_when=asyncio.FIRST_COMPLETED)
    if joined.done():
        joined.result()  # the second sender failed: its error fails the test
    await settled
    stop.set()  # and the group rebalances again as the second sender leaves
    await joined
    await asyncio.to_thread(_settled, base_url, messenger.conversation_id, first["id"], "delivered")
    third = await asyncio.to_thread(_send, base_url, messenger.conversation_id, "once it left")
    # Its partition may still be the gone sender's until the group notices (a session timeout,
    # 10 s, when the leave did not reach the coordinator) and rebalances.
    await asyncio.to_thread(_settled, base_url, messenger.conversation_id, third["id"], "delivered",
                            45)
    # Three calls for the first (two failures, then success), one for each of the others.
    assert [r.json()["message"]["text"] for r in fake.to(messenger.contact)[before:]] == [
        "mid-rebalance"] * 3 + ["after it", "once it left"]
    # The service's sender rode out both rebalances without a restart.
    assert processes.running_pid(live_stack.data_dir, "messaging") == supervisor


def test_a_stale_pending_message_is_failed_not_sent_late(
        live_stack: Settings, base_url: str, fake: FakeSourceApis,
        messenger: webhooks.Webhook) -> None:
    content = struct_pb2.Value()
    content.struct_value.update({"text": "too late"})
    old_ms = int(time.time() * 1000) - 10 * 60 * 1000
    record = sends.pending(str(uuid.uuid4()), content, conversation_id=messenger.conversation_id,
                           channel_id=messenger.channel_id, contact_id="", source="facebook",
                           recipient=messenger.contact, now_ms=old_ms, sender="test")
    before = len(fake.to(messenger.contact))
    asyncio.run(produce_messages(live_stack, [record]))
    failed = _settled(base_url, messenger.conversation_id, record.message.id, "failed")
    assert "longer than the 300 s limit" in failed["metadata"]["error"]
    assert len(fake.to(messenger.contact)) == before


def test_an_idempotency_key_sends_once(base_url: str, fake: FakeSourceApis,
                                       messenger: webhooks.Webhook) -> None:
    key = f"order-{uuid.uuid4()}"
    before = len(fake.to(messenger.contact))
    first = _send(base_url, messenger.conversation_id, "once", idempotency_key=key)
    _settled(base_url, messenger.conversation_id, first["id"], "delivered")
    second = _send(base_url, messenger.conversation_id, "once", idempotency_key=key)
    assert second["id"] == first["id"] and second["delivery_state"] == "delivered"
    time.sleep(1)
    assert len(fake.to(messenger.contact)) == before + 1
    too_long = post(base_url, "/messages.send", {"conversation_id": messenger.conversation_id,
                                                  "message": {"text": "x"},
                                                  "idempotency_key": "k" * 256})
    assert too_long.status_code == 400


def test_idempotency_keys_are_each_callers_own(base_url: str, fake: FakeSourceApis,
                                               messenger: webhooks.Webhook) -> None:
    """Two tokens using one key send a message each; a token repeating it gets its first one."""
    key = f"shared-{uuid.uuid4()}"
    before = len(fake.to(messenger.contact))
    tokens = [run_json(base_url, "token", "create", "--name", f"{name}-{uuid.uuid4().hex[:8]}",
                       "--scopes", "write")["token"] for name in ("crm", "bot")]

    def send(token: str, text: str) -> dict[str, Any]:
        reply = post(base_url, "/messages.send", {"conversation_id": messenger.conversation_id,
                                                  "message": {"text": text},
                                                  "idempotency_key": key}, token)
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    crm, bot = send(tokens[0], "from the crm"), send(tokens[1], "from the bot")
    assert crm["id"] != bot["id"] and crm["sender"]["id"] != bot["sender"]["id"]
    for sent, text in ((crm, "from the crm"), (bot, "from the bot")):
        delivered = _settled(base_url, messenger.conversation_id, sent["id"], "delivered")
        assert delivered["content"] == {"text": text}
    again = send(tokens[0], "from the crm, again")
    assert (again["id"], again["content"]) == (crm["id"], {"text": "from the crm"})
    time.sleep(1)
    assert len(fake.to(messenger.contact)) == before + 2


def test_racing_sends_with_one_idempotency_key_send_once(base_url: str, fake: FakeSourceApis,
                                                        messenger: webhooks.Webhook) -> None:
    key = f"retry-{uuid.uuid4()}"
    before = len(fake.to(messenger.contact))

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30, headers=api_headers()) as client:
            body = {"conversation_id": messenger.conversation_id, "message": {"text": "racing"},
                    "idempotency_key": key}
            return await asyncio.gather(*(client.post(f"{base_url}/messages.send", json=body)
                                          for _ in range(4)))

    answers = asyncio.run(race())
    assert {a.status_code for a in answers} == {200}
    [message_id] = {a.json()["id"] for a in answers}
    _settled(base_url, messenger.conversation_id, message_id, "delivered")
    time.sleep(1)
    assert len(fake.to(messenger.contact)) == before + 1
    page = post(base_url, "/messages.list", {"conversation_id": messenger.conversation_id,
                                              "page_size": 100}).json()
    assert [m["id"] for m in page["data"]].count(message_id) == 1


def test_order_is_kept_within_a_conversation_while_others_send_in_parallel(
        base_url: str, live_stack: Settings, fake: FakeSourceApis) -> None:
    # One sender holds every partition (not a sender of an earlier test, leaving the group).
    eventually(lambda: holds_every_partition(live_stack, "messaging", SENDER_GROUP,
                                             topics.MESSAGES))
    slow, quick = (_conversation(base_url, webhooks.facebook()) for _ in range(2))
    # The slow conversation's first message fails twice, slowly, before it goes through.
    fake.script(slow.contact, Answer(500, {}, 0.5), Answer(502, {}, 0.5))
    texts = [f"part {i}" for i in range(5)]
    sent = [_send(base_url, slow.conversation_id, texts[0])]
    other = _send(base_url, quick.conversation_id, "meanwhile")
    sent += [_send(base_url, slow.conversation_id, text) for text in texts[1:]]
    _settled(base_url, quick.conversation_id, other["id"], "delivered")
    for message in sent:
        _settled(base_url, slow.conversation_id, message["id"], "delivered")
    received = [r.json()["message"]["text"] for r in fake.to(slow.contact)]
    assert received == ["part 0"] * 3 + texts[1:]
    # The other conversation did not wait for the retries.
    [meanwhile] = fake.to(quick.contact)
    assert fake.received.index(meanwhile) < fake.received.index(fake.to(slow.contact)[-1])


def test_an_sms_conversation_started_by_parley_gets_the_replies(
        base_url: str, fake: FakeSourceApis) -> None:
    reply = webhooks.twilio(False, text="yes, that works")
    reply.connect(base_url)
    sent = post(base_url, "/messages.send", {"channel_id": reply.channel_id,
                                              "source_recipient_id": reply.contact,
                                              "message": {"Body": "Your table is ready"}})
    assert sent.status_code == 200, sent.text
    # The answer names the conversation it starts, where the replies land.
    assert sent.json()["conversation_id"] == reply.conversation_id
    delivered = _settled(base_url, reply.conversation_id, sent.json()["id"], "delivered")
    assert delivered["conversation_id"] == reply.conversation_id
    assert reply.post(base_url).status_code == 200
    page = eventually(lambda: (p := post(base_url, "/messages.list", {
        "conversation_id": reply.conversation_id}).json())["pagination_data"]["total"] == 2 and p)
    assert [m["from_contact"] for m in page["data"]] == [False, True]
    info = post(base_url, "/conversations.info", {"conversation_id": reply.conversation_id}).json()
    assert info["metadata"]["contact"]["display_name"] == "SMS " + reply.contact[-5:]


def test_bad_sends_are_refused_and_write_nothing(base_url: str, fake: FakeSourceApis,
                                                 messenger: webhooks.Webhook) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"conversation_id": messenger.conversation_id}, 400, "message is required"),
        ({"conversation_id": messenger.conversation_id, "message": {}}, 400, "must not be empty"),
        ({"message": {"text": "x"}}, 400, "either conversation_id"),
        ({"message": {"text": "x"}, "source_recipient_id": "+1"}, 400, "either conversation_id"),
        ({"message": {"text": "x"}, "source_recipient_id": "+1", "channel_id": "nope"}, 404,
         "channel nope not found"),
        ({"message": {"text": "x"}, "source_recipient_id": "+1",
          "channel_id": messenger.channel_id}, 400, "cannot start conversations"),
    ]
    for body, status, text in cases:
        reply = post(base_url, "/messages.send", body)
        assert reply.status_code == status, (body, reply.text)
        assert text in reply.json()["message"]
    total = post(base_url, "/messages.list", {"conversation_id": messenger.conversation_id}
                  ).json()["pagination_data"]["total"]
    assert post(base_url, "/messages.send", {"conversation_id": messenger.conversation_id}
                 ).status_code == 400
    assert post(base_url, "/messages.list", {"conversation_id": messenger.conversation_id}
                 ).json()["pagination_data"]["total"] == total


def test_a_disconnected_channel_is_403(base_url: str, fake: FakeSourceApis) -> None:
    hook = _conversation(base_url, webhooks.facebook())
    assert post(base_url, "/channels.facebook.disconnect",
                 {"channel_id": hook.channel_id}).status_code == 200
    reply = post(base_url, "/messages.send", {"conversation_id": hook.conversation_id,
                                               "message": {"text": "x"}})
    assert reply.status_code == 403 and "disconnected" in reply.json()["message"]


def test_a_conversation_not_in_the_store_yet_is_202_then_looked_for(
        live_stack: Settings, base_url: str, fake: FakeSourceApis) -> None:
    missing = str(uuid.uuid4())
    reply = post(base_url, "/messages.send", {"conversation_id": missing,
                                               "message": {"text": "early"}})
    assert reply.status_code == 202 and reply.json()["delivery_state"] == "pending"

    # A conversation that arrives within the wait gets the message, which is then sent.
    hook = webhooks.facebook()
    hook.connect(base_url)
    early = post(base_url, "/messages.send", {"conversation_id": hook.conversation_id,
                                               "message": {"text": "before the first webhook"}})
    assert early.status_code == 202
    assert hook.post(base_url).status_code == 200
    _settled(base_url, hook.conversation_id, early.json()["id"], "delivered")
    assert [r.json()["message"]["text"] for r in fake.to(hook.contact)] == [
        "before the first webhook"]


def test_suggest_replies(base_url: str, messenger: webhooks.Webhook) -> None:
    page = post(base_url, "/messages.list", {"conversation_id": messenger.conversation_id}).json()
    contact_message = next(m for m in page["data"] if m["from_contact"])
    suggestions = {"s1": {"content": {"text": "Sure!"}}, "s2": {"content": {"text": "No."}}}
    reply = post(base_url, "/messages.suggest-replies",
                  {"message_id": contact_message["id"], "suggestions": suggestions})
    assert reply.status_code == 200, reply.text
    assert reply.json()["id"] == contact_message["id"]
    assert reply.json()["metadata"]["suggestions"] == suggestions
    listed = _message(base_url, messenger.conversation_id, contact_message["id"])
    assert listed is not None and listed["metadata"]["suggestions"] == suggestions
    assert post(base_url, "/messages.suggest-replies",
                 {"message_id": str(uuid.uuid4()), "suggestions": suggestions}).status_code == 404
    assert post(base_url, "/messages.suggest-replies",
                 {"message_id": contact_message["id"], "suggestions": {}}).status_code == 400


def test_an_echo_of_a_sent_message_is_not_a_second_message(
        base_url: str, fake: FakeSourceApis, messenger: webhooks.Webhook) -> None:
    sent = _send(base_url, messenger.conversation_id, "echo me")
    mid = _settled(base_url, messenger.conversation_id, sent["id"], "delivered")[
        "metadata"]["source"]["id"]
    echo = webhooks.facebook_event(messenger.source_channel_id, messenger.contact, {
        "sender": {"id": messenger.source_channel_id}, "recipient": {"id": messenger.contact},
        "timestamp": int(time.time() * 1000),
        "message": {"is_echo": True, "app_id": 1517776481860111, "mid": mid, "text": "echo me"}})
    total = post(base_url, "/messages.list", {"conversation_id": messenger.conversation_id}
                  ).json()["pagination_data"]["total"]
    assert echo.post(base_url).status_code == 200
    time.sleep(1.5)
    page = post(base_url, "/messages.list", {"conversation_id": messenger.conversation_id,
                                              "page_size": 100}).json()
    assert page["pagination_data"]["total"] == total
    assert [m["id"] for m in page["data"] if m["content"].get("text") == "echo me"] == [sent["id"]]


def test_an_echo_that_comes_first_gives_way_to_the_sent_message(
        live_stack: Settings, base_url: str, messenger: webhooks.Webhook) -> None:
    content = struct_pb2.Value()
    content.struct_value.update({"text": "raced"})
    now = int(time.time() * 1000)
    pending = sends.pending(str(uuid.uuid4()), content, conversation_id=messenger.conversation_id,
                            channel_id=messenger.channel_id, contact_id="", source="facebook",
                            recipient=messenger.contact, now_ms=now, sender="test")
    mid = f"m_{uuid.uuid4().hex}"
    echo = webhooks.facebook_event(messenger.source_channel_id, messenger.contact, {
        "sender": {"id": messenger.source_channel_id}, "recipient": {"id": messenger.contact},
        "timestamp": now + 500, "message": {"is_echo": True, "mid": mid, "text": "raced"}})
    assert echo.post(base_url).status_code == 200
    eventually(lambda: [m for m in post(base_url, "/messages.list", {
        "conversation_id": messenger.conversation_id, "page_size": 100}).json()["data"]
        if m["content"].get("text") == "raced"])
    # The sender's outcome arrives after the echo (written here as the sender writes it).
    asyncio.run(produce_messages(live_stack, [sends.delivered(pending, mid)]))
    _settled(base_url, messenger.conversation_id, pending.message.id, "delivered")
    page = post(base_url, "/messages.list", {"conversation_id": messenger.conversation_id,
                                              "page_size": 100}).json()
    assert [m["id"] for m in page["data"] if m["content"].get("text") == "raced"] == [
        pending.message.id]
    info = post(base_url, "/conversations.info", {"conversation_id": messenger.conversation_id})
    assert info.json()["last_message"]["id"] == pending.message.id


def test_a_source_id_claimed_in_another_conversation_removes_nothing(
        base_url: str, fake: FakeSourceApis) -> None:
    """Only an echo in the same conversation gives way to a sent message with its source id."""
    # Two Viber users of the one bot: one channel, two conversations.
    hooks = [_conversation(base_url, webhooks.viber()) for _ in range(2)]
    assert hooks[0].channel_id == hooks[1].channel_id
    same = {"status": 0, "status_message": "ok", "message_token": time.time_ns()}
    sent = []
    for hook in hooks:
        fake.script(hook.contact, Answer(200, same))
        sent.append(_send(base_url, hook.conversation_id, "same source id"))
        _settled(base_url, hook.conversation_id, sent[-1]["id"], "delivered")
    for hook, message in zip(hooks, sent):
        info = post(base_url, "/conversations.info", {"conversation_id": hook.conversation_id})
        assert info.json()["last_message"]["id"] == message["id"]
        assert _message(base_url, hook.conversation_id, message["id"]) is not None


def test_no_secret_reaches_a_log(log_sizes: dict[Path, int]) -> None:
    """Page and user tokens (the Graph API takes the page token in its URL) and the app-level
    tokens used by the tests above appear in no component's log."""
    secrets = ["page-token-", "user-token-", TEST_ENV["PARLEY_VIBER_AUTH_TOKEN"],
               TEST_ENV["PARLEY_GOOGLE_AUTH_TOKEN"], TEST_ENV["PARLEY_TWILIO_AUTH_TOKEN"]]
    assert _LOGS / "messaging.log" in log_sizes
    for log, start in log_sizes.items():
        with open(log, "rb") as file:
            file.seek(start)
            written = file.read().decode(errors="replace")
        assert not [s for s in secrets if s in written], log.name
