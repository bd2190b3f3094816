"""The translator worker: raw topics -> application topics, at least once (idempotent by ids).

A record that fails to translate, whatever the reason (`runtime.record_failures`), goes to
`parley.deadletter` with the error, and its partition moves on; only Kafka failing stops the
worker. Offsets are committed to Kafka only after every output of the batch is acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from opentelemetry import trace

from ingest.channel_table import ChannelTable
from ingest.translator import to_outputs
from runtime import kafka, metrics, topics, tracing
from runtime.deadletter import or_dead_letter
from runtime.settings import Settings
from sources import REGISTRY
from sources.inbound import RawEvent

log = logging.getLogger(__name__)

GROUP = "ingest-translator"


def raw_event(record: ConsumerRecord) -> RawEvent:
    """The raw event of a raw-topic record (its headers carry content type and receive time)."""
    headers = {key: value.decode() for key, value in record.headers or ()}
    return RawEvent(
        body=record.value or b"",
        content_type=headers.get("content-type", ""),
        received_at_ms=int(headers.get("received-at") or record.timestamp),
    )


class Translator:
    """Translates one raw record and writes its outputs (shared by the worker and reprocessing)."""

    def __init__(self, settings: Settings, channels: ChannelTable, producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self.channels = channels
        self.producer = producer
        self.sources = {
            settings.prefixed(topics.raw_topic(name)): source for name, source in REGISTRY.items()
        }

    def raw_topics(self) -> list[str]:
        """The raw topics this translator reads."""
        return list(self.sources)

    async def process(self, record: ConsumerRecord) -> list[asyncio.Future[object]]:
        """Translate `record` and send its outputs; return the futures of their acks. A record
        that fails to translate, for whatever reason, is dead-lettered instead."""
        span = tracing.record_span(f"translate {self.sources[record.topic].name}", record)
        with trace.use_span(span, end_on_exit=True):
            acks = await or_dead_letter(self.producer, self.settings, record,
                                        partial(self._translate, record))
        return acks or []

    async def _translate(self, record: ConsumerRecord) -> list[asyncio.Future[object]]:
        raw = raw_event(record)
        events = self.sources[record.topic].translate(raw)
        outputs, unknown = to_outputs(events, raw, self.channels.is_connected)
        if unknown and raw.received_at_ms >= self.channels.complete_as_of_ms:
            # The channel may have been connected a moment before the webhook came: read on
            # (once: a backlog received before the last catch-up needs no new one).
            await self.channels.caught_up()
            outputs, unknown = to_outputs(events, raw, self.channels.is_connected)
        if unknown:
            log.info("%s@%d: channels %s not connected; left in the raw topic",
                     record.topic, record.offset, sorted(unknown))
        return [
            await self.producer.send(self.settings.prefixed(o.topic), o.value, key=o.key.encode(),
                                     headers=tracing.kafka_headers())
            for o in outputs
        ]


class TranslatorWorker:
    """Consumer group over every raw topic."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def run(self) -> None:
        """Translate until cancelled."""
        channels = ChannelTable(self.settings)
        producer = kafka.producer(self.settings, batched=True)
        consumer = kafka.consumer(self.settings, GROUP)
        lag = metrics.ConsumerLag(GROUP)
        await channels.start()
        await producer.start()
        translator = Translator(self.settings, channels, producer)
        consumer.subscribe(translator.raw_topics())
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=200)
                started = time.monotonic()
                acks = [ack for records in batches.values() for r in records
                        for ack in await translator.process(r)]
                await asyncio.gather(*acks)
                await lag.update(consumer)
                if batches:
                    await consumer.commit()
                    log.debug("translated %d records in %.3fs",
                              sum(map(len, batches.values())), time.monotonic() - started)
        finally:
            await consumer.stop()
            await producer.stop()
            await channels.stop()
