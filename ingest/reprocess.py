"""Reprocessing: replay a source's raw topic through the current translators.

Ids are deterministic, so replaying changes nothing that was right and corrects what a fixed
translator got wrong; events of channels connected since are brought in. It reads the raw topic
up to where it ended when the run started, on a consumer of its own (no group), so the running
translator worker is not disturbed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from ingest.channel_table import ChannelTable
from ingest.translator_worker import Translator
from runtime import kafka, topics
from runtime.errors import InvalidArgument
from runtime.settings import Settings
from sources import REGISTRY

Progress = Callable[[int, int], None]


async def _start_offsets(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], since_ms: int | None
) -> dict[TopicPartition, int]:
    if since_ms is None:
        return await consumer.beginning_offsets(partitions)
    ends = await consumer.end_offsets(partitions)
    found = await consumer.offsets_for_times({tp: since_ms for tp in partitions})
    return {tp: found[tp].offset if found[tp] is not None else ends[tp] for tp in partitions}


async def reprocess(
    settings: Settings, source: str, since_ms: int | None = None, progress: Progress | None = None
) -> int:
    """Replay `source`'s raw topic (from `since_ms`, else from its start); return the records read.

    `progress(done, total)` is called as records are translated.
    """
    if source not in REGISTRY:
        raise InvalidArgument(f"unknown source {source!r}; one of {', '.join(sorted(REGISTRY))}")
    topic = settings.prefixed(topics.raw_topic(source))
    channels = ChannelTable(settings)
    producer = kafka.producer(settings, batched=True)
    consumer = kafka.consumer(settings, None)
    await channels.start()
    await producer.start()
    await consumer.start()
    try:
        await channels.caught_up()
        translator = Translator(settings, channels, producer)
        partitions = [TopicPartition(topic, p) for p in await kafka.partitions(settings, topic)]
        consumer.assign(partitions)
        starts = await _start_offsets(consumer, partitions, since_ms)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, starts[tp])
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        done = 0
        pending = {tp for tp in partitions if starts[tp] < ends[tp]}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            acks = []
            for tp, records in batches.items():
                for record in records:
                    if record.offset < ends[tp]:
                        acks += await translator.process(record)
                        done += 1
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
            await asyncio.gather(*acks)
            if progress is not None:
                progress(done, total)
        return done
    finally:
        await consumer.stop()
        await producer.stop()
        await channels.stop()

