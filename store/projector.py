"""The projector: application topics -> Redis, effectively once.

Each batch of a partition is applied in one MULTI/EXEC together with the partition's next offset,
under WATCH of that offset: a redelivered or replayed record (after a crash, a rebalance, or a
second projector racing on the same partition) is skipped, so nothing is applied twice. On
assignment the consumer seeks to the offset stored in Redis, not to Kafka's committed one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from google.protobuf.message import DecodeError
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from parley.v1 import records_pb2
from runtime import kafka, topics
from runtime.settings import Settings
from store import cursors
from store.keys import StoreKeys

log = logging.getLogger(__name__)

GROUP = "store-projector"


def write_message(pipe: Pipeline, keys: StoreKeys, record: records_pb2.MessageRecord) -> None:
    """Queue the writes projecting one message record (an upsert: the latest record wins)."""
    message_id = record.message.id
    pipe.set(keys.message(message_id), record.SerializeToString())
    pipe.zadd(
        keys.conversation_messages(record.conversation_id),
        {cursors.message_member(record.sent_at_ms, message_id): 0},
    )


class _SeekFromRedis(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, projector: Projector) -> None:
        self.projector = projector

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        await self.projector.seek_to_stored(assigned)


class Projector:
    """Consumes `parley.messages` and keeps the message projection in Redis."""

    def __init__(self, settings: Settings, redis: aioredis.Redis) -> None:
        self.settings = settings
        self.redis = redis
        self.keys = StoreKeys(settings)
        self.consumer: AIOKafkaConsumer = kafka.consumer(settings, GROUP)
        self.deadletters: AIOKafkaProducer = kafka.producer(settings)

    async def run(self) -> None:
        """Project until cancelled."""
        await self.deadletters.start()
        self.consumer.subscribe(
            [self.settings.prefixed(topics.MESSAGES)], listener=_SeekFromRedis(self)
        )
        await self.consumer.start()
        try:
            while True:
                batches = await self.consumer.getmany(timeout_ms=1000, max_records=500)
                for tp, records in batches.items():
                    await self.apply(tp, records)
        finally:
            await self.consumer.stop()
            await self.deadletters.stop()

    async def seek_to_stored(self, partitions: Sequence[TopicPartition]) -> None:
        """Position each partition at the next offset recorded in Redis (the start when none)."""
        for tp in partitions:
            stored = await self.redis.get(self.keys.projector_offset(tp.topic, tp.partition))
            if stored is None:
                await self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, int(stored))

    async def apply(self, tp: TopicPartition, records: Sequence[ConsumerRecord]) -> None:
        """Apply one partition's batch and its next offset atomically, skipping applied records."""
        offset_key = self.keys.projector_offset(tp.topic, tp.partition)
        decoded = [(r, await self._decode(r)) for r in records]
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(offset_key)
                    stored = await pipe.get(offset_key)
                    next_offset = int(stored) if stored is not None else 0
                    fresh = [(r, m) for r, m in decoded if r.offset >= next_offset]
                    if not fresh:
                        return
                    pipe.multi()
                    for _, message in fresh:
                        if message is not None:
                            write_message(pipe, self.keys, message)
                    pipe.set(offset_key, fresh[-1][0].offset + 1)
                    await pipe.execute()
                    return
                except WatchError:
                    continue

    async def _decode(self, record: ConsumerRecord) -> records_pb2.MessageRecord | None:
        try:
            message = records_pb2.MessageRecord.FromString(record.value)
            if not message.conversation_id or not message.message.id:
                raise ValueError("conversation_id and message.id are required")
            return message
        except (DecodeError, ValueError) as exc:
            await self._deadletter(record, f"undecodable MessageRecord: {exc}")
            return None

    async def _deadletter(self, record: ConsumerRecord, reason: str) -> None:
        # Written before the offset moves past the record: a crash in between repeats the dead
        # letter (harmless, keyed by topic/partition/offset), never loses it.
        log.warning("dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason)
        letter = records_pb2.DeadLetterRecord(
            topic=record.topic, partition=record.partition, offset=record.offset,
            key=record.key or b"", value=record.value or b"", reason=reason,
            failed_at_ms=int(time.time() * 1000),
        )
        await self.deadletters.send_and_wait(
            self.settings.prefixed(topics.DEADLETTER), letter.SerializeToString(), key=record.key
        )
