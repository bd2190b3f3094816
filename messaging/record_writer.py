"""What the sender and the outbox write back to Kafka: message records and their errors."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from messaging import sends
from parley.v1 import records_pb2
from runtime import kafka, topics
from runtime.partitioning import metadata_key
from runtime.settings import Settings


class RecordWriter:
    """Writes outbound messages' records and `metadata.error`s to the application topics."""

    def __init__(self, settings: Settings, producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self.producer = producer

    async def message(self, record: records_pb2.MessageRecord) -> None:
        """Write `record` (keyed by its conversation, so a conversation's records stay in order)."""
        await kafka.write(self.producer, self.settings, topics.MESSAGES, record.conversation_id,
                          record)

    async def failed(self, message: records_pb2.MessageRecord, error: str) -> None:
        """Write that `message` failed with `error`: the error first, so whoever sees the
        message failed can read why, then the failed record (which carries it too)."""
        await self.error(message, error)
        await self.message(sends.failed(message, error))

    async def error(self, message: records_pb2.MessageRecord, error: str) -> None:
        """Write `metadata.error` of `message` (keyed by its conversation, as its records)."""
        record = sends.error_metadata(message.message.id, error)
        key = metadata_key("message", message.message.id, message.conversation_id)
        await kafka.write(self.producer, self.settings, topics.METADATA, key, record)
