"""The Python SDK against the live stack (gRPC through Envoy): every area's calls, pagination,
typed errors, an event stream that survives a gateway restart with no gap, and the echo bot
example answering a webhook-sent message."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

import parley
import parley.v1.resources_pb2
from runtime.settings import Settings
from stack import processes, services
from tests.integration import webhooks
from tests.integration.helpers import eventually, message_record, produce_messages

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def target(live_stack: Settings) -> str:
    return f"127.0.0.1:{live_stack.http_port}"


@pytest.fixture(scope="module")
def client(target: str) -> Iterator[parley.Client]:
    with parley.Client(target) as connected:
        yield connected


def _conversation(live_stack: Settings, client: parley.Client, count: int) -> str:
    conversation_id = str(uuid.uuid4())
    asyncio.run(produce_messages(live_stack, [
        message_record(conversation_id, 1_700_000_000_000 + i * 1000, f"m{i}") for i in range(count)]))
    eventually(lambda: len(_listed(client, conversation_id)) == count)
    return conversation_id


def test_messages_and_conversations(live_stack: Settings, client: parley.Client) -> None:
    conversation_id = _conversation(live_stack, client, 25)
    # The iterator follows the cursors: every message once, newest first.
    listed = list(client.messages.list(conversation_id, page_size=10))
    assert [m.text for m in listed] == [f"m{i}" for i in reversed(range(25))]
    # Content and metadata are plain Python data; the message names its conversation.
    assert listed[0].content == {"text": "m24"} and listed[0].metadata == {}
    assert listed[0].conversation_id == conversation_id
    page = client.messages.page(conversation_id, page_size=10)
    assert (len(page.data), page.total, bool(page.next_cursor)) == (10, 25, True)

    conversation = client.conversations.info(conversation_id)
    # Counts are integers, not the doubles protobuf keeps.
    assert conversation.unread_count == conversation.metadata["unread_count"] == 25
    assert isinstance(conversation.metadata["unread_count"], int)
    assert conversation.last_message is not None and conversation.last_message.text == "m24"
    client.conversations.mark_read(conversation_id)
    tag = client.tags.create(f"sdk-{uuid.uuid4().hex[:6]}", "tag-blue")
    client.conversations.tag(conversation_id, tag.id)
    client.conversations.set_state(conversation_id, "OPEN")
    client.conversations.update_contact(conversation_id, "Grace Hopper")
    found = list(client.conversations.list(filters=f"tag_ids:{tag.id} AND unread_count:0"))
    assert [c.id for c in found] == [conversation_id]
    assert found[0].display_name == "Grace Hopper"
    assert found[0].metadata["state"] == "OPEN"
    client.conversations.untag(conversation_id, tag.id)
    client.conversations.remove_state(conversation_id)
    assert list(client.conversations.list(filters=f"tag_ids:{tag.id}")) == []
    assert "state" not in client.conversations.info(conversation_id).metadata
    # Every page of a filter is walked: more conversations than one page holds.
    assert len(list(client.conversations.list(filters="unread_count:[0 TO *]", page_size=7))) > 7

    client.metadata.upsert("conversation", conversation_id, {"crm": {"tier": "gold"}})
    assert client.conversations.info(conversation_id).metadata["crm"] == {"tier": "gold"}
    contact = client.contacts.info(conversation_id=conversation_id)
    assert client.contacts.update(contact.id, title="Rear Admiral").title == "Rear Admiral"
    assert client.contacts.info(contact.id).id == contact.id
    assert any(c.id == contact.id for c in client.contacts.list(page_size=50))


def test_sending_channels_and_typed_errors(client: parley.Client) -> None:
    channel = client.channels.connect_chatplugin("SDK site")
    assert client.channels.info(channel.id).source == "chatplugin"
    assert client.channels.update(channel.id, name="Renamed").metadata["name"] == "Renamed"
    assert channel.id in [c.id for c in client.channels.list(source="chatplugin")]
    viber = client.channels.connect_viber(name="Bot")
    assert viber.connected

    with pytest.raises(parley.NotFound, match="conversation nope not found"):
        client.conversations.info("nope")
    with pytest.raises(parley.InvalidArgument, match="invalid filters"):
        list(client.conversations.list(filters="channel_id:(a OR"))
    with pytest.raises(parley.InvalidArgument, match="message is required"):
        client.messages.send({}, conversation_id="x")
    with pytest.raises(parley.NotFound):
        client.messages.resend("no-such-message")

    client.channels.disconnect(channel.id)
    assert channel.id not in [c.id for c in client.channels.list(source="chatplugin")]
    template = client.templates.create("greeting", "chatplugin", {"text": "Hello!"})
    assert client.templates.info(template.id).name == "greeting"
    assert client.templates.update(template.id, name="hello").name == "hello"
    assert template.id in [t.id for t in client.templates.list("chatplugin", name="hell")]
    client.templates.delete(template.id)
    with pytest.raises(parley.NotFound):
        client.templates.info(template.id)
    tag = client.tags.create(f"t-{uuid.uuid4().hex[:6]}", "tag-red")
    assert client.tags.update(tag.id, color="tag-green").color == "tag-green"
    client.tags.delete(tag.id)
    assert tag.id not in [t.id for t in client.tags.list()]
    assert client.status.health().status == "ok"


def test_send_resend_and_suggestions(live_stack: Settings, client: parley.Client) -> None:
    hook = webhooks.facebook(text="sdk, are you there?")
    hook.connect(f"http://127.0.0.1:{live_stack.http_port}")
    assert hook.post(f"http://127.0.0.1:{live_stack.http_port}").status_code == 200
    eventually(lambda: _listed(client, hook.conversation_id))
    # No fake Graph API listens here: the send fails (connection refused), asynchronously.
    sent = client.messages.send({"text": "hello"}, conversation_id=hook.conversation_id)
    assert sent.delivery_state == "pending"
    # The same key again is the same message (the SDK makes a key when none is given).
    again = client.messages.send({"text": "x"}, conversation_id=hook.conversation_id,
                                 idempotency_key="fixed-key-" + sent.id)
    assert client.messages.send({"text": "y"}, conversation_id=hook.conversation_id,
                                idempotency_key="fixed-key-" + sent.id).id == again.id
    eventually(lambda: next(m for m in client.messages.list(hook.conversation_id)
                            if m.id == sent.id).delivery_state == "failed", timeout=60)
    assert client.messages.resend(sent.id).delivery_state == "pending"
    incoming = list(client.messages.list(hook.conversation_id))[-1]
    with_suggestions = client.messages.suggest_replies(incoming.id, {"s1": {"content": {"text": "ok"}}})
    assert with_suggestions.metadata["suggestions"] == {"s1": {"content": {"text": "ok"}}}
    with pytest.raises(parley.Conflict, match="not in a failed state"):
        client.messages.resend(incoming.id)


def test_webhooks_and_sources(client: parley.Client) -> None:
    webhook = client.webhooks.subscribe("http://127.0.0.1:9/nowhere", name="sdk",
                                        events=["message.created"])
    assert webhook.generated_signature_key.startswith("whsec_")
    assert client.webhooks.info(webhook.id).generated_signature_key == ""
    updated = client.webhooks.update(webhook.id, events=["message.created", "tag.updated"],
                                     headers={"x-team": "sdk"})
    assert list(updated.events) == ["message.created", "tag.updated"]
    assert webhook.id in [w.id for w in client.webhooks.list()]
    assert list(client.webhooks.deliveries(webhook.id)) == []
    assert client.webhooks.unsubscribe(webhook.id).status == "Unsubscribed"

    source_id = f"sdk-{uuid.uuid4().hex[:8]}"
    created = client.sources.create(source_id, name="SDK source")
    assert created.token
    assert client.sources.update(source_id, name="Renamed").name == "Renamed"
    assert source_id in [s.source_id for s in client.sources.list()]
    client.sources.delete(source_id)
    assert source_id not in [s.source_id for s in client.sources.list()]


def _restart_gateway(settings: Settings) -> None:
    processes.stop(settings.data_dir, "gateway")
    services.start(settings, "gateway")


def test_an_event_stream_resumes_after_a_gateway_restart_with_no_gap(
        live_stack: Settings, target: str) -> None:
    conversation_id = str(uuid.uuid4())

    async def scenario() -> list[object]:
        async with parley.AsyncClient(target) as client:
            received: list[object] = []
            stream = client.events.subscribe(["message.created"], conversation_id=conversation_id)

            async def write(first: int, count: int) -> None:
                await produce_messages(live_stack, [
                    message_record(conversation_id, 1_700_000_000_000 + i, f"e{i}")
                    for i in range(first, first + count)])

            async def read(count: int) -> None:
                async for event in stream:
                    found = parley.message_event(event)
                    assert found is not None
                    received.append(found.message.text)
                    if len(received) == count:
                        return

            reading = asyncio.create_task(read(10))
            await asyncio.sleep(1)  # subscribed
            await write(0, 5)
            while len(received) < 5:
                await asyncio.sleep(0.1)
            # The gateway goes away; messages keep coming while it is down.
            await asyncio.to_thread(processes.stop, live_stack.data_dir, "gateway")
            await write(5, 5)
            await asyncio.to_thread(services.start, live_stack, "gateway")
            await asyncio.wait_for(reading, 60)
            return received

    assert asyncio.run(scenario()) == [f"e{i}" for i in range(10)]


def test_the_echo_bot_answers_a_webhook_sent_message(live_stack: Settings, target: str,
                                                     client: parley.Client) -> None:
    env = {**os.environ, "PARLEY_TARGET": target}
    bot = subprocess.Popen([sys.executable, str(REPO / "examples" / "echo_bot.py")], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base_url = f"http://{target}"
        first = webhooks.facebook()
        first.connect(base_url)
        # The bot answers what comes after it subscribed: write until it has answered.
        for attempt in range(10):
            hook = webhooks.facebook(text=f"is anybody home? #{attempt}",
                                     page=first.source_channel_id, psid=first.contact)
            assert hook.post(base_url).status_code == 200
            try:
                answers = eventually(lambda: [m.text for m in
                                              _listed(client, first.conversation_id)
                                              if not m.from_contact], timeout=5)
                break
            except AssertionError:
                assert bot.poll() is None, bot.stdout.read().decode() if bot.stdout else ""
        assert answers and set(answers) <= {f"You said: is anybody home? #{i}" for i in range(10)}
    finally:
        bot.terminate()
        bot.wait(10)


def _listed(client: parley.Client, conversation_id: str) -> list[parley.Message]:
    try:
        return list(client.messages.list(conversation_id))
    except parley.NotFound:
        return []


def test_a_missing_or_bad_token_is_unauthenticated(target: str) -> None:
    for token in ("", "pat_guessed"):
        with parley.Client(target, token=token) as anonymous:
            with pytest.raises(parley.Unauthenticated, match="API token"):
                anonymous.tags.list()


def test_every_connect_disconnect_and_a_merge(live_stack: Settings, client: parley.Client) -> None:
    digits = str(uuid.uuid4().int)[:10]
    connected = [
        client.channels.connect_facebook(f"9{digits}", "page-token", name="Page"),
        client.channels.connect_instagram(f"8{digits}", f"17841{digits}", "page-token"),
        client.channels.connect_google(f"agent-{digits}", "Agent"),
        client.channels.connect_twilio_sms(f"+1{digits}", "SMS"),
        client.channels.connect_twilio_whatsapp(f"+4{digits}", "WhatsApp"),
        client.channels.connect_whatsapp(f"7{digits}", "user-token", "Cloud"),
    ]
    assert [c.source for c in connected] == ["facebook", "instagram", "google", "twilio.sms",
                                             "twilio.whatsapp", "whatsapp"]
    for channel in connected:
        client.channels.disconnect(channel.id)
        assert client.channels.info(channel.id).connected is False

    base_url = f"http://127.0.0.1:{live_stack.http_port}"
    contacts = []
    for _ in range(2):
        hook = webhooks.viber()
        hook.connect(base_url)
        assert hook.post(base_url).status_code == 200
        eventually(partial(_listed, client, hook.conversation_id))
        contacts.append(client.contacts.info(conversation_id=hook.conversation_id))
    merged = client.contacts.merge(contacts[1].id, contacts[0].id)
    assert merged.id == contacts[0].id and len(merged.conversations) == 2
