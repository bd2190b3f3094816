"""Writes of the store's commands: to Kafka first, answered once the projector applied them.

Every write goes through Kafka (command -> record -> projection), so Redis can always be rebuilt
from the log; waiting for the projector's offset to pass the record gives read-your-writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from runtime import kafka
from runtime.errors import InvalidArgument
from runtime.settings import Settings
from runtime.redis import Client
from runtime.topics import Topic, V
from store import generations
from store.keys import StoreKeys

#: How long a command waits for its projection before answering anyway (it is in Kafka already).
PROJECTION_WAIT_S = 5.0
#: Largest record a command may write: Kafka refuses records over 1 MiB (with its overhead).
MAX_RECORD_BYTES = 1_000_000


class CommandWriter:
    """Appends records to application topics and waits until they are projected."""

    def __init__(
        self, settings: Settings, redis: Client, keys: StoreKeys, producer: AIOKafkaProducer
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.keys = keys
        self.producer = producer

    async def write(self, topic: Topic[V], key: str, record: V) -> None:
        """Append `record` to `topic` under `key`; return once projected. InvalidArgument, and
        nothing written, when it is too large to be a Kafka record."""
        await self.write_all(topic, [(key, record)])

    async def write_all(self, topic: Topic[V], records: Sequence[tuple[str, V]]) -> None:
        """Append each (key, record) of `records` to `topic`, in order; return once all are
        projected. InvalidArgument, and nothing written, when one is too large to be a Kafka
        record."""
        for _, record in records:
            size = record.ByteSize()
            if size > MAX_RECORD_BYTES:
                raise InvalidArgument(f"the request is too large to store ({size} bytes; at "
                                      f"most {MAX_RECORD_BYTES})")
        name = self.settings.prefixed(topic)
        sent = await kafka.write_all(self.producer, self.settings, topic, records)
        last = {s.partition: s.offset for s in sent}  # acknowledged in order: the last wins
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PROJECTION_WAIT_S
        while last and loop.time() < deadline:
            if not self.keys.generation.number:  # a new install: the first generation begins
                await generations.refresh(self.redis, self.keys)
            for partition, offset in list(last.items()):
                slot = self.keys.of_record(topic, partition)
                applied = await self.redis.get(slot.projector_offset(name, partition))
                if applied is not None and int(applied) > offset:
                    del last[partition]
            if last:
                await asyncio.sleep(0.01)
