"""Ingestion end to end through Envoy: every source's signed webhook -> raw topic -> translator
-> projection -> /messages.list and /conversations.info; bad signatures; redelivery; order;
events of unconnected channels; reprocessing; dead letters; bodies that are not writable text."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ingest import reprocess
from ingest.raw_writer import write_raw
from parley.v1 import records_pb2
from sources import REGISTRY
from sources import facebook as facebook_source
from runtime import ids, kafka, timestamps, topics
from runtime.settings import Settings
from stack import stack
from tests.integration import webhooks
from tests.integration.helpers import api, eventually, message_record, produce_messages
from tests.integration.test_projector import _find_dead_letter

SOURCES = ["facebook", "instagram", "whatsapp", "twilio.sms", "twilio.whatsapp", "google", "viber"]


def _webhook(source: str) -> webhooks.Webhook:
    return {w.source: w for w in webhooks.every_source()}[source]


def _messages(base_url: str, conversation_id: str) -> dict[str, Any] | None:
    reply = api.post(f"{base_url}/messages.list", json={"conversation_id": conversation_id}, timeout=10)
    return reply.json() if reply.status_code == 200 else None


async def _raw_end_offsets(settings: Settings, source: str) -> int:
    topic = settings.prefixed(topics.raw_topic(source))
    consumer = kafka.consumer(settings, "test-offsets")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await kafka.partitions(settings, topic)]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def _translated_everything(settings: Settings, source: str) -> bool:
    """True once the translator's committed offsets reached the end of the source's raw topic."""
    topic = settings.prefixed(topics.raw_topic(source))
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(settings.prefixed("ingest-translator"))
        done = sum(meta.offset for tp, meta in committed.items() if tp.topic == topic)
    finally:
        await admin.close()
    return done >= await _raw_end_offsets(settings, source)


@pytest.mark.parametrize("source", SOURCES)
def test_a_signed_webhook_becomes_a_message(base_url: str, source: str) -> None:
    hook = _webhook(source)
    channel = hook.connect(base_url)
    assert channel["id"] == hook.channel_id and channel["connected"] is True
    reply = hook.post(base_url)
    assert reply.status_code == 200, reply.text

    body = eventually(lambda: _messages(base_url, hook.conversation_id), timeout=20)
    (message,) = body["data"]
    assert message["from_contact"] is True
    assert message["source"] == hook.source
    assert message["delivery_state"] == message["state"] == "delivered"
    assert hook.text in json.dumps(message["content"])
    if hook.sent_at_ms is not None:
        assert message["sent_at"] == timestamps.format_ms(hook.sent_at_ms)

    conversation = api.post(f"{base_url}/conversations.info",
                              json={"conversation_id": hook.conversation_id}, timeout=10).json()
    assert conversation["channel"]["id"] == hook.channel_id
    assert conversation["last_message"]["id"] == message["id"]
    assert conversation["metadata"]["unread_count"] == 1
    expected_name = hook.sender_name or f"{hook.contact[-5:]}"
    eventually(lambda: expected_name in api.post(
        f"{base_url}/conversations.info", json={"conversation_id": hook.conversation_id}, timeout=10
    ).json()["metadata"]["contact"]["display_name"])


def test_viber_message_token_is_kept_exact(base_url: str) -> None:
    token = 5741311803571721087 + int(time.time() * 1000) % 10**6 * 1024  # unique, not a double
    assert float(token) != token
    hook = webhooks.viber(token=token)
    hook.connect(base_url)
    assert hook.post(base_url).status_code == 200
    body = eventually(lambda: _messages(base_url, hook.conversation_id), timeout=20)
    # The id derives from the exact token, not from a double's rounding of it.
    assert body["data"][0]["id"] == ids.message_id(hook.channel_id, str(token))


@pytest.mark.parametrize("source", SOURCES)
def test_bad_or_missing_signature_is_rejected_and_nothing_written(
    live_stack: Settings, base_url: str, source: str
) -> None:
    hook = _webhook(source)
    raw_source = hook.path.strip("/")
    before = asyncio.run(_raw_end_offsets(live_stack, raw_source))
    signature_header = next(h for h in hook.headers if h != "content-type")
    forged = {**hook.headers, signature_header: hook.headers[signature_header][:-4] + "AAAA"}
    unsigned = {"content-type": hook.headers["content-type"]}
    bad, missing = hook.post(base_url, forged), hook.post(base_url, unsigned)
    assert (bad.status_code, missing.status_code) == (403, 401)
    assert bad.json()["message"] and missing.json()["message"]
    assert asyncio.run(_raw_end_offsets(live_stack, raw_source)) == before


def test_a_webhook_delivered_three_times_is_one_message(base_url: str) -> None:
    first = webhooks.facebook(text="once", sent_at_ms=1_700_000_000_000)
    first.connect(base_url)
    for _ in range(3):
        assert first.post(base_url).status_code == 200
    # A later message of the same conversation: once it shows, the three before it were applied.
    later = webhooks.facebook(text="after", sent_at_ms=1_700_000_001_000,
                              page=first.source_channel_id, psid=first.contact)
    assert later.post(base_url).status_code == 200
    body = eventually(lambda: (b := _messages(base_url, first.conversation_id))
                      and b["pagination_data"]["total"] >= 2 and b, timeout=20)
    assert [m["content"]["text"] for m in body["data"]] == ["once", "after"]


def test_messages_are_ordered_by_the_sources_time_not_arrival(base_url: str) -> None:
    newer = webhooks.facebook(text="second", sent_at_ms=1_700_000_002_000)
    newer.connect(base_url)
    older = webhooks.facebook(text="first", sent_at_ms=1_700_000_001_000,
                              page=newer.source_channel_id, psid=newer.contact)
    assert newer.post(base_url).status_code == 200
    assert older.post(base_url).status_code == 200
    body = eventually(lambda: (b := _messages(base_url, newer.conversation_id))
                      and b["pagination_data"]["total"] == 2 and b, timeout=20)
    assert [m["content"]["text"] for m in body["data"]] == ["first", "second"]


@pytest.mark.parametrize("source", ["facebook", "instagram", "whatsapp"])
def test_meta_verification_handshake(base_url: str, source: str) -> None:
    token = webhooks.TEST_ENV[f"PARLEY_{source.upper()}_VERIFY_TOKEN"]
    ok = httpx.get(f"{base_url}/{source}", params={
        "hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}, timeout=10)
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = httpx.get(f"{base_url}/{source}", params={
        "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}, timeout=10)
    assert wrong.status_code == 403
    assert "1158201444" not in wrong.text


def test_google_webhook_verification_echoes_the_secret(base_url: str) -> None:
    body = {"clientToken": webhooks.TEST_ENV["PARLEY_GOOGLE_CLIENT_TOKEN"], "secret": "0123456789"}
    reply = httpx.post(f"{base_url}/google", json=body, timeout=10)
    assert (reply.status_code, reply.text) == (200, "0123456789")
    wrong = httpx.post(f"{base_url}/google", json={**body, "clientToken": "guess"}, timeout=10)
    assert wrong.status_code == 401


def test_events_of_an_unconnected_channel_wait_in_the_raw_topic_for_reprocessing(
    live_stack: Settings, base_url: str
) -> None:
    hook = webhooks.facebook(text="before the channel was connected")
    since_ms = int(time.time() * 1000) - 1000
    assert hook.post(base_url).status_code == 200
    eventually(lambda: asyncio.run(_translated_everything(live_stack, "facebook")), timeout=20)
    assert _messages(base_url, hook.conversation_id) is None

    hook.connect(base_url)
    count = asyncio.run(reprocess.reprocess(live_stack, "facebook", since_ms))
    assert count >= 1
    body = eventually(lambda: _messages(base_url, hook.conversation_id), timeout=20)
    assert body["data"][0]["content"]["text"] == "before the channel was connected"


def test_reprocessing_with_a_fixed_translator_corrects_past_data(
    live_stack: Settings, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = webhooks.facebook(text="the right text")
    hook.connect(base_url)
    since_ms = int(time.time() * 1000) - 1000
    assert hook.post(base_url).status_code == 200
    eventually(lambda: _messages(base_url, hook.conversation_id), timeout=20)

    def texts() -> list[str]:
        body = _messages(base_url, hook.conversation_id) or {"data": []}
        return [m["content"].get("text", "") for m in body["data"]]

    # A translator bug ships and reprocessing runs with it: the past data goes wrong...
    real = facebook_source.translate

    def buggy(raw):  # type: ignore[no-untyped-def]
        events = real(raw)
        return [type(e)(**{**e.__dict__, "content": {**e.content, "text": "garbled"}})
                if hasattr(e, "content") else e for e in events]

    monkeypatch.setitem(REGISTRY, "facebook", replace(facebook_source.SOURCE, translate=buggy))
    asyncio.run(reprocess.reprocess(live_stack, "facebook", since_ms))
    eventually(lambda: texts() == ["garbled"], timeout=20)
    # ... the fix ships, reprocessing corrects it, and nothing was duplicated on the way.
    monkeypatch.setitem(REGISTRY, "facebook", facebook_source.SOURCE)
    asyncio.run(reprocess.reprocess(live_stack, "facebook", since_ms))
    eventually(lambda: texts() == ["the right text"], timeout=20)


def test_reprocess_command_reports_progress(live_stack: Settings, base_url: str) -> None:
    parley = str(Path(sys.executable).parent / "parley")
    done = subprocess.run([parley, "reprocess", "--source", "viber", "--since", "2026-01-01T00:00:00Z"],
                          env=os.environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reprocessed" in done.stdout and "viber events" in done.stdout
    bad = subprocess.run([parley, "reprocess", "--source", "nope"], env=os.environ,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown source" in bad.stdout


def test_a_signed_but_unreadable_webhook_is_dead_lettered(live_stack: Settings, base_url: str) -> None:
    body = b'{"object":"page","entry":"not a list ' + str(time.time()).encode() + b'"}'
    headers = webhooks.signed_headers("/facebook", body)
    assert httpx.post(f"{base_url}/facebook", content=body, headers=headers, timeout=10).status_code == 200
    letter = eventually(lambda: asyncio.run(_find_dead_letter(live_stack, body)), timeout=20)
    assert letter.topic == live_stack.prefixed(topics.raw_topic("facebook"))
    assert letter.reason


def _message_text(message: dict[str, Any]) -> str:
    return str(message["content"].get("text", ""))


def _ending_with(base_url: str, conversation_id: str, text: str) -> dict[str, Any] | None:
    """The conversation's messages once its last one is `text`."""
    found = _messages(base_url, conversation_id)
    return found if found and _message_text(found["data"][-1]) == text else None


def _dead_letter(settings: Settings, value: bytes) -> records_pb2.DeadLetterRecord | None:
    return asyncio.run(_find_dead_letter(settings, value))


def test_echoes_are_the_pages_own_messages_and_never_double_one_parley_sent(
    live_stack: Settings, base_url: str
) -> None:
    first = webhooks.facebook(text="from the contact", sent_at_ms=1_700_000_000_000)
    first.connect(base_url)
    page, psid = first.source_channel_id, first.contact
    assert first.post(base_url).status_code == 200

    # A message Parley sent itself, delivered: the source's id is known to the store.
    sent = message_record(first.conversation_id, 1_700_000_001_000, "sent by parley")
    sent.channel_id = first.channel_id
    sent.message.from_contact = False
    sent.message.metadata.update({"source": {"id": "m_parley_sent"}})
    asyncio.run(produce_messages(live_stack, [sent]))

    def echo(mid: str, text: str, at: int) -> webhooks.Webhook:
        return webhooks.facebook_event(page, psid, {
            "sender": {"id": page}, "recipient": {"id": psid}, "timestamp": at,
            "message": {"is_echo": True, "app_id": 1517776481860111, "mid": mid, "text": text}})

    assert echo("m_parley_sent", "sent by parley", 1_700_000_001_100).post(base_url).status_code == 200
    assert echo(f"m_{time.time_ns()}", "typed in the page inbox", 1_700_000_002_000).post(
        base_url).status_code == 200
    barrier = webhooks.facebook(text="reply", sent_at_ms=1_700_000_003_000, page=page, psid=psid)
    assert barrier.post(base_url).status_code == 200

    body = eventually(partial(_ending_with, base_url, first.conversation_id, "reply"), timeout=20)
    assert [(_message_text(m), m["from_contact"]) for m in body["data"]] == [
        ("from the contact", True), ("sent by parley", False),
        ("typed in the page inbox", False), ("reply", True)]
    assert body["data"][1]["id"] == sent.message.id


def test_receipts_and_reactions_become_message_metadata(base_url: str) -> None:
    hook = webhooks.facebook(text="react to me", sent_at_ms=1_700_000_000_000)
    hook.connect(base_url)
    assert hook.post(base_url).status_code == 200
    mid = json.loads(hook.body)["entry"][0]["messaging"][0]["message"]["mid"]
    page, psid = hook.source_channel_id, hook.contact
    delivery = {"sender": {"id": psid}, "recipient": {"id": page},
                "delivery": {"mids": [mid], "watermark": 1_700_000_000_500}}
    reaction = {"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": 1_700_000_000_900,
                "reaction": {"mid": mid, "action": "react", "reaction": "love", "emoji": "\u2764"}}
    for item in (delivery, reaction):
        assert webhooks.facebook_event(page, psid, item).post(base_url).status_code == 200

    def metadata() -> dict[str, Any]:
        body = _messages(base_url, hook.conversation_id)
        return body["data"][0]["metadata"] if body else {}

    found = eventually(lambda: "reactions" in (m := metadata())
                       and m.get("source", {}).get("delivery_state") and m, timeout=20)
    assert found["source"] == {"id": mid, "delivery_state": "delivered"}
    assert found["reactions"][psid]["emoji"] == "\u2764"


def test_conversations_list_newest_activity_first_with_cursors(base_url: str) -> None:
    # Far in the future, and later on every run: the newest activity of the whole store.
    future = 4_000_000_000_000 + int(time.time() * 1000)
    older = webhooks.facebook(text="older", sent_at_ms=future)
    older.connect(base_url)
    newer = webhooks.facebook(text="newer", sent_at_ms=future + 1000)
    newer.connect(base_url)
    for hook in (older, newer):
        assert hook.post(base_url).status_code == 200
    wanted = [newer.conversation_id, older.conversation_id]

    def listed() -> list[str]:
        body = api.post(f"{base_url}/conversations.list", json={"page_size": 1000}, timeout=10).json()
        return [c["id"] for c in body["data"] if c["id"] in wanted]

    assert eventually(lambda: listed() == wanted, timeout=20)
    first = api.post(f"{base_url}/conversations.list", json={"page_size": 1}, timeout=10).json()
    assert first["data"][0]["id"] == newer.conversation_id  # the newest activity of all
    second = api.post(f"{base_url}/conversations.list", json={
        "page_size": 1, "cursor": first["pagination_data"]["next_cursor"]}, timeout=10).json()
    assert second["data"][0]["id"] == older.conversation_id
    assert first["pagination_data"]["total"] == second["pagination_data"]["total"] >= 2


async def _write_raw(settings: Settings, source: str, key: str, bodies: list[bytes]) -> None:
    """Append `bodies` to the source's raw topic as if they had come as webhooks."""
    producer = kafka.producer(settings)
    await producer.start()
    try:
        for body in bodies:
            await write_raw(producer, settings, source, key, body, "application/json", f"/{source}")
    finally:
        await producer.stop()


def _ingest_restarts(settings: Settings) -> int:
    (ingest,) = [c for c in stack.status(settings) if c.name == "ingest"]
    assert ingest.supervision is not None
    return ingest.supervision.restarts


def test_raw_records_that_cannot_be_translated_are_dead_lettered_and_ingestion_goes_on(
    live_stack: Settings, base_url: str
) -> None:
    good = webhooks.facebook(text="after the bad ones")
    good.connect(base_url)
    page, psid = good.source_channel_id, good.contact
    # Ahead of it in its partition (the same key): text no protobuf string can hold (JSON's
    # "\ud800", read by the source, fails where the message is made) and a time past year 9999.
    surrogate = webhooks.facebook(text="\ud800", page=page, psid=psid).body
    far = webhooks.facebook(text="year 10000", sent_at_ms=253_402_300_800_000, page=page,
                            psid=psid).body
    restarts = _ingest_restarts(live_stack)
    asyncio.run(_write_raw(live_stack, "facebook", psid, [surrogate, far]))
    assert good.post(base_url).status_code == 200

    listed = eventually(lambda: _messages(base_url, good.conversation_id), timeout=30)
    assert [m["content"]["text"] for m in listed["data"]] == ["after the bad ones"]
    for bad, reason in ((surrogate, "surrogates not allowed"), (far, "from 1970 to 9999")):
        letter = eventually(partial(_dead_letter, live_stack, bad), timeout=20)
        assert letter.topic == live_stack.prefixed(topics.raw_topic("facebook"))
        assert reason in letter.reason
    assert httpx.get(f"{base_url}/health", timeout=10).status_code == 200
    assert _ingest_restarts(live_stack) == restarts  # never crashed on them


@pytest.mark.parametrize("where", ["text", "sender"])
def test_a_signed_webhook_with_a_lone_surrogate_is_400_and_nothing_written(
    live_stack: Settings, base_url: str, where: str
) -> None:
    hook = (webhooks.facebook(text="\ud800") if where == "text"
            else webhooks.facebook(psid="\ud800"))
    assert b"\\ud800" in hook.body  # JSON's escape, signed as it is
    before = asyncio.run(_raw_end_offsets(live_stack, "facebook"))
    reply = hook.post(base_url)
    assert reply.status_code == 400, reply.text
    assert "lone surrogate" in reply.json()["message"]
    assert asyncio.run(_raw_end_offsets(live_stack, "facebook")) == before
