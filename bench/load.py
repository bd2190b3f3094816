"""The bench's data generators: normalized messages through Kafka, as the translator writes them;
raw webhooks in a source's raw topic, as the ingest service writes them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaProducer

from parley.v1 import records_pb2, resources_pb2
from runtime import json_values, kafka, timestamps, topics
from ingest.raw_writer import write_raw
from runtime.settings import Settings
from sources import REGISTRY

START_MS = 1_700_000_000_000


def conversation_ids(count: int) -> list[str]:
    """`count` stable conversation ids (the same on every run, so sizes grow run to run)."""
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"parley-bench/{i}")) for i in range(count)]


def _record(conversation_id: str, n: int, index: int) -> bytes:
    # Conversation n starts n ms after the first, so `created_at` ranges select some of them.
    sent = START_MS + index * 1000 + n
    channel_id = f"bench-channel-{n % 10}"
    message = resources_pb2.Message(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{conversation_id}/{index}")),
        content=json_values.to_value({"text": f"message {index} of a benchmark conversation"}),
        delivery_state="delivered", state="delivered", from_contact=index % 3 != 0,
        sent_at=timestamps.format_ms(sent), source="facebook",
        sender=resources_pb2.Sender(id=f"contact-{conversation_id[:8]}"),
    )
    return records_pb2.MessageRecord(
        conversation_id=conversation_id, channel_id=channel_id, contact_id=conversation_id,
        message=message, sent_at_ms=sent,
    ).SerializeToString()


TIERS = ("gold", "silver", "bronze")


def _metadata(conversation_id: str, n: int, per_conversation: int) -> bytes | None:
    """What agents set on some conversations: a CRM tier on every second one, and a read marker
    (part way through, so unread counts vary) on every fourth."""
    data: dict[str, object] = {}
    if n % 2 == 0:
        data["crm"] = {"tier": TIERS[n // 2 % len(TIERS)]}
    if n % 4 == 1:
        data["read_until"] = timestamps.format_ms(START_MS + (n // 4 % per_conversation) * 1000)
    if not data:
        return None
    return records_pb2.MetadataRecord(
        subject="conversation", identifier=conversation_id, data=json_values.to_struct(data),
    ).SerializeToString()


async def load(settings: Settings, conversations: list[str], per_conversation: int, first: int,
               progress: Callable[[int], None]) -> int:
    """Write messages `first`..`per_conversation - 1` of every conversation, conversation after
    conversation interleaved (as traffic comes); return how many."""
    producer = AIOKafkaProducer(
        **kafka.connection(settings), acks="all", enable_idempotence=True,
        linger_ms=20, max_batch_size=256 * 1024,
    )
    await producer.start()
    topic = settings.prefixed(topics.MESSAGES)
    written = 0
    try:
        pending = []
        for index in range(first, per_conversation):
            for n, cid in enumerate(conversations):
                pending.append(await producer.send(topic, _record(cid, n, index), key=cid.encode()))
                written += 1
                if len(pending) >= 5000:
                    await asyncio.gather(*pending)
                    pending.clear()
                    progress(written)
        await asyncio.gather(*pending)
        progress(written)
        pending.clear()
        for n, cid in enumerate(conversations):
            metadata = _metadata(cid, n, per_conversation)
            if metadata is not None:
                pending.append(await producer.send(settings.prefixed(topics.METADATA), metadata,
                                                   key=cid.encode()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return written


async def raw_webhooks(settings: Settings, source: str, bodies: list[bytes], content_type: str
                       ) -> None:
    """Append `bodies`, webhooks of `source` (verified, as it were), to its raw topic as the
    ingest service does, many at a time."""
    producer = kafka.producer(settings, batched=True)
    await producer.start()
    routing_key = REGISTRY[source].webhook.routing_key  # type: ignore[union-attr]
    try:
        for start in range(0, len(bodies), 1000):
            await asyncio.gather(*(
                write_raw(producer, settings, source, routing_key(body), body, content_type,
                          f"/{source}") for body in bodies[start:start + 1000]))
    finally:
        await producer.stop()
