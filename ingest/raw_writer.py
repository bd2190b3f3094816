"""Writes verified webhook bytes, untouched, to the source's raw topic, and waits for Kafka's ack.

The source gets its 200 only after the ack; when Kafka does not ack in time the caller answers
503 and the source retries. A retry after a slow ack may store the bytes twice: harmless, since
every id derived from them is deterministic.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from runtime import topics, tracing
from runtime.errors import Unavailable
from runtime.settings import Settings

#: How long a webhook waits for Kafka's ack before it is answered 503.
ACK_TIMEOUT_S = 5.0


async def write_raw(
    producer: AIOKafkaProducer,
    settings: Settings,
    source: str,
    key: str,
    body: bytes,
    content_type: str,
    path: str,
) -> None:
    """Append `body` to `source.<source>.events` with its content type, receive time and path."""
    headers = [
        ("content-type", content_type.encode()),
        ("received-at", str(int(time.time() * 1000)).encode()),
        ("request-path", path.encode()),
        *tracing.kafka_headers(),
    ]
    try:
        await asyncio.wait_for(
            producer.send_and_wait(
                settings.prefixed(topics.raw_topic(source)), body,
                key=key.encode() or None, headers=headers,
            ),
            ACK_TIMEOUT_S,
        )
    except (TimeoutError, KafkaError) as exc:
        raise Unavailable(f"the event log is unavailable, retry later ({type(exc).__name__})") from exc
