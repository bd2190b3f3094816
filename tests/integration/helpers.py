"""Helpers of the integration tests: put normalized messages on Kafka, wait for the projection."""

from __future__ import annotations

import os

import time
import uuid
from typing import Any
from collections.abc import Callable, Sequence
from typing import TypeVar

import httpx
from google.protobuf import struct_pb2
from prometheus_client.parser import text_string_to_metric_families

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


async def produce(settings: Settings, topic: str, key: str, value: bytes) -> None:
    """Write one record to `topic` (without namespace) straight, as the services would."""
    producer = kafka.producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(settings.prefixed(topic), value, key=key.encode())
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


def api_headers() -> dict[str, str]:
    """The test install's API token (the admin token its `up` made) as a header."""
    return {"authorization": f"Bearer {os.environ['PARLEY_TOKEN']}"}


def api_metadata() -> tuple[tuple[str, str], ...]:
    """The test install's API token as gRPC metadata."""
    return tuple(api_headers().items())


class _Api:
    """httpx's `post`, `get`, `request` and `stream`, sending the test install's API token (a
    request's own `authorization` header wins)."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        function = getattr(httpx, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            kwargs["headers"] = {**api_headers(), **(kwargs.get("headers") or {})}
            return function(*args, **kwargs)

        return call


api = _Api()


def post(base_url: str, path: str, body: dict[str, Any], token: str = "") -> httpx.Response:
    """POST `body` as JSON to `path` of the API with the API token, or with `token` (a visitor's
    or a custom source's) as the bearer token when given."""
    headers = {"authorization": f"Bearer {token}"} if token else api_headers()
    return httpx.post(f"{base_url}{path}", json=body, headers=headers, timeout=30)


#: A process's metrics: each sample's value by its name and labels.
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(settings: Settings, process: str) -> Samples:
    """Every sample of `process`'s `/metrics`, by name and labels."""
    port = settings.metrics_port(process)
    assert port is not None
    reply = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert reply.status_code == 200
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(reply.text) for sample in family.samples}


def holds_every_partition(settings: Settings, process: str, group: str, topic: str) -> bool:
    """True when `process`'s consumers of `group` hold every partition of `topic` (each held
    partition has its lag series, runtime.metrics): no other member, joining or leaving, has
    part of it."""
    held = {dict(labels)["partition"] for (name, labels) in scrape(settings, process)
            if name == "parley_kafka_consumer_lag" and dict(labels)["group"] == group
            and dict(labels)["topic"] == settings.prefixed(topic)}
    return len(held) == settings.topic_partitions
