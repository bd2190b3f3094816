"""Writes of the store's commands: to Kafka first, answered once the projector applied them.

Every write goes through Kafka (command -> record -> projection), so Redis can always be rebuilt
from the log; waiting for the projector's offset to pass the record gives read-your-writes.
"""

from __future__ import annotations

import asyncio

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
        size = record.ByteSize()
        if size > MAX_RECORD_BYTES:
            raise InvalidArgument(f"the request is too large to store ({size} bytes; at "
                                  f"most {MAX_RECORD_BYTES})")
        name = self.settings.prefixed(topic)
        sent = await kafka.write(self.producer, self.settings, topic, key, record)
        slot = self.keys.of_record(topic, sent.partition)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PROJECTION_WAIT_S
        while loop.time() < deadline:
            if not self.keys.generation.number:  # a new install: the first generation begins
                await generations.refresh(self.redis, self.keys)
            applied = await self.redis.get(slot.projector_offset(name, sent.partition))
            if applied is not None and int(applied) > sent.offset:
                return
            await asyncio.sleep(0.01)
