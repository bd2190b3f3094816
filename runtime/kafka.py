"""Kafka clients configured the one way Parley uses them: one connection setting (brokers,
security), durable producers, manual offsets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context
from aiokafka.structs import RecordMetadata

from runtime import tracing
from runtime.settings import Settings
from runtime.topics import Topic, V



def connection(settings: Settings) -> dict[str, Any]:
    """The options every Kafka client of the install connects with: the brokers, and how it
    authenticates and encrypts (`PARLEY_KAFKA_SECURITY_PROTOCOL` and the rest)."""
    security = settings.kafka_security
    options: dict[str, Any] = {"bootstrap_servers": settings.bootstrap_servers,
                               "security_protocol": security.protocol}
    if security.sasl:
        options.update(sasl_mechanism=security.sasl_mechanism,
                       sasl_plain_username=security.username,
                       sasl_plain_password=security.password)
    if security.tls:
        options["ssl_context"] = create_ssl_context(cafile=security.ca_file or None)
    return options


def producer(settings: Settings, batched: bool = False) -> AIOKafkaProducer:
    """A producer that never loses or doubles an acknowledged record: acks=all, idempotent.

    `batched`, for a worker that sends a batch of records and then waits for all of them (the
    translator, a reprocess): each request waits up to `PARLEY_KAFKA_LINGER_MS` for more records
    and is compressed with `PARLEY_KAFKA_COMPRESSION`. A producer whose every record a caller
    waits for alone (a webhook's acknowledgement, a command) waits `PARLEY_KAFKA_ACK_LINGER_MS`,
    a moment, so that records sent at once share a request."""
    batching = ({"linger_ms": settings.kafka_linger_ms,
                 "compression_type": settings.kafka_compression or None} if batched
                else {"linger_ms": settings.kafka_ack_linger_ms})
    return AIOKafkaProducer(
        **connection(settings),
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
        **batching,
    )


def consumer(settings: Settings, group: str | None, **options: Any) -> AIOKafkaConsumer:
    """A consumer in group `group` that commits nothing itself: its owner stores the offsets
    (None: no group, partitions assigned by hand). In a group it is a static member under
    `Settings.instance` when there is one. `options` are more of AIOKafkaConsumer's (an assignor,
    where to start)."""
    static = {"group_instance_id": settings.instance} if group and settings.instance else {}
    return AIOKafkaConsumer(
        **connection(settings),
        group_id=None if group is None else settings.prefixed(group),
        enable_auto_commit=False,
        **{"auto_offset_reset": "earliest", "isolation_level": "read_committed", **static,
           **options},
    )


def admin(settings: Settings, **options: Any) -> AIOKafkaAdminClient:
    """An admin client of the install's brokers; `options` are more of its settings."""
    return AIOKafkaAdminClient(**connection(settings), **options)


@contextlib.asynccontextmanager
async def admin_session(settings: Settings) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client of the install's brokers, closed after the block."""
    client = admin(settings)
    await client.start()
    try:
        yield client
    finally:
        await client.close()


async def cluster_reachable(settings: Settings) -> bool:
    """True when the brokers answer a metadata request."""
    client = admin(settings, request_timeout_ms=3000)
    try:
        await client.start()
        await client.list_topics()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable", which is the answer
        return False
    finally:
        await client.close()


async def partitions(settings: Settings, topic: str) -> list[int]:
    """The partition numbers of `topic` (which must exist)."""
    async with admin_session(settings) as client:
        (described,) = await client.describe_topics([topic])
    return sorted(p["partition"] for p in described["partitions"])


async def write(producer: AIOKafkaProducer, settings: Settings, topic: Topic[V],
                key: str | bytes | None, record: V) -> RecordMetadata:
    """Append `record`, of `topic`'s type, to `topic` under this install's namespace, keyed by
    `key` (`Topic.key` says by what), in the current trace, and wait for Kafka's
    acknowledgement."""
    encoded = key.encode() if isinstance(key, str) else key
    return await producer.send_and_wait(settings.prefixed(topic), record.SerializeToString(),
                                        key=encoded, headers=tracing.kafka_headers())


async def write_all(producer: AIOKafkaProducer, settings: Settings, topic: Topic[V],
                    records: Sequence[tuple[str, V]]) -> list[RecordMetadata]:
    """`write` each (key, record) of `records`, in order, waiting for Kafka's acknowledgements
    once for all of them."""
    headers = tracing.kafka_headers()
    sent = [await producer.send(settings.prefixed(topic), record.SerializeToString(),
                                key=key.encode(), headers=headers) for key, record in records]
    return list(await asyncio.gather(*sent))
