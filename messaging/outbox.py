"""The outbox: sends accepted (HTTP 202) for a conversation the store did not have yet.

Each is looked for in the store until `conversation_wait_s` after it was accepted: once found,
it becomes a pending message of that conversation (and the sender sends it); if never, the
message fails with `metadata.error`. Offsets are committed once a batch is settled, so a
restart looks again rather than losing a send.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from messaging.policy import SendPolicy
from messaging.record_writer import RecordWriter
from store.client import StoreReads
from parley.v1 import records_pb2
from runtime import kafka, metrics, topics
from runtime.deadletter import or_dead_letter
from runtime.settings import Settings

GROUP = "messaging-outbox"
#: How often a missing conversation is looked for again.
POLL_S = 0.25


class Outbox:
    """Resolves the conversations of accepted sends."""

    def __init__(self, settings: Settings, reads: StoreReads, writer: RecordWriter,
                 policy: SendPolicy) -> None:
        self.settings = settings
        self.reads = reads
        self.writer = writer
        self.policy = policy
        self.consumer: AIOKafkaConsumer = kafka.consumer(settings, GROUP)
        self.lag = metrics.ConsumerLag(GROUP)

    async def run(self) -> None:
        """Resolve until cancelled."""
        self.consumer.subscribe([self.settings.prefixed(topics.OUTBOX)])
        await self.consumer.start()
        try:
            while True:
                batches = await self.consumer.getmany(timeout_ms=500, max_records=100)
                # A send that fails by its own fault (say, it cannot be decoded) is dead-lettered.
                await asyncio.gather(*(
                    or_dead_letter(self.writer.producer, self.settings, r,
                                   partial(self._resolve, r))
                    for records in batches.values() for r in records))
                if batches:
                    await self.consumer.commit()
                await self.lag.update(self.consumer)
        finally:
            await self.consumer.stop()

    async def _resolve(self, raw: ConsumerRecord) -> None:
        record = records_pb2.MessageRecord.FromString(raw.value)
        deadline_s = record.pending_since_ms / 1000 + self.policy.conversation_wait_s
        while (state := await self.reads.conversation(record.conversation_id)) is None:
            if time.time() >= deadline_s:
                await self.writer.error(
                    record, f"conversation {record.conversation_id} not found within "
                    f"{self.policy.conversation_wait_s:g} s")
                return
            await asyncio.sleep(POLL_S)
        found = records_pb2.MessageRecord()
        found.CopyFrom(record)
        found.channel_id = state["channel_id"]
        found.contact_id = state.get("contact_id", "")
        found.recipient_source_id = state.get("contact_source_id", "")
        found.message.source = state.get("source", "")
        await self.writer.message(found)
