"""Helpers of the integration tests: put normalized messages on Kafka, wait for the projection."""

from __future__ import annotations

import time
import uuid
from typing import Any
from collections.abc import Callable, Sequence
from typing import TypeVar

import httpx
from google.protobuf import struct_pb2

from parley.v1 import records_pb2, resources_pb2
from runtime import kafka, timestamps, topics
from runtime.settings import Settings

T = TypeVar("T")


def message_record(conversation_id: str, sent_at_ms: int, text: str) -> records_pb2.MessageRecord:
    """A contact's text message in `conversation_id`, as the translator will write it."""
    content = struct_pb2.Value()
    content.struct_value.update({"text": text})
    return records_pb2.MessageRecord(
        conversation_id=conversation_id,
        channel_id="test-channel",
        contact_id="test-contact",
        sent_at_ms=sent_at_ms,
        message=resources_pb2.Message(
            id=str(uuid.uuid4()),
            content=content,
            delivery_state="delivered",
            state="delivered",
            from_contact=True,
            sent_at=timestamps.format_ms(sent_at_ms),
            source="facebook",
            sender=resources_pb2.Sender(id="test-contact"),
        ),
    )


async def produce_messages(settings: Settings, records: Sequence[records_pb2.MessageRecord]) -> None:
    """Write `records` to the messages topic, keyed by conversation id, and wait for the acks."""
    producer = kafka.producer(settings)
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(
                settings.prefixed(topics.MESSAGES),
                record.SerializeToString(),
                key=record.conversation_id.encode(),
            )
    finally:
        await producer.stop()


def eventually(probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll `probe` until it returns something truthy (the projection is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last: {result!r}")
        time.sleep(0.2)


def post(base_url: str, path: str, body: dict[str, Any], token: str = "") -> httpx.Response:
    """POST `body` as JSON to `path` of the API (with `token` as the bearer token, if given)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{base_url}{path}", json=body, headers=headers, timeout=30)
