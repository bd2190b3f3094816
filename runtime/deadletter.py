"""The dead-letter topic: a record that cannot be processed is kept there with the reason, and
its partition moves on."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from parley.v1 import records_pb2
from runtime import kafka, timestamps, topics
from runtime.record_failures import isolate
from runtime.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


async def dead_letter(
    producer: AIOKafkaProducer, settings: Settings, record: ConsumerRecord, reason: str
) -> None:
    """Write `record` with `reason` to `parley.deadletter` and wait for the ack.

    Called before the consumer's position moves past the record: a crash in between repeats the
    dead letter (the same topic/partition/offset), never loses it.
    """
    log.warning("dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason)
    letter = records_pb2.DeadLetterRecord(
        topic=record.topic, partition=record.partition, offset=record.offset,
        key=record.key or b"", value=record.value or b"", reason=reason,
        failed_at_ms=timestamps.now_ms(),
    )
    await kafka.write(producer, settings, topics.DEADLETTER, record.key, letter)


async def or_dead_letter(
    producer: AIOKafkaProducer, settings: Settings, record: ConsumerRecord,
    step: Callable[[], Awaitable[T]],
) -> T | None:
    """Run `step`, the processing of `record`; when the record makes it fail, dead-letter the
    record and return None (`runtime.record_failures.isolate`: infrastructure failures
    propagate)."""
    return await isolate(step, lambda why: dead_letter(producer, settings, record, why))
