"""`parley rebuild`: build the Redis projection again from Kafka, beside the one that serves.

Redis is only a projection of the log: replaying it must give the same answers. The rebuild begins
a new generation of the projection (`store.generations`); the projectors replay the topics into it
from the start, in a consumer group of its own, while the serving generation keeps answering and
following the topics. Once the new one has applied everything the topics held when it began, the
projectors switch reads to it and drop the old one a little later. The realtime event log and
webhook deliveries are not the projection's: a replay emits no event again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka import TopicPartition

from runtime import kafka
from runtime import redis as runtime_redis
from runtime.settings import Settings
from runtime.redis import Client
from store import generations
from store.keys import StoreKeys
from store.projection import RECORD_TYPES

Progress = Callable[[int, int], None]


async def end_offsets(settings: Settings) -> dict[TopicPartition, int]:
    """The end offset of every partition of the topics the projector reads."""
    partitions = [
        TopicPartition(settings.prefixed(topic), p)
        for topic in RECORD_TYPES
        for p in await kafka.partitions(settings, settings.prefixed(topic))
    ]
    consumer = kafka.consumer(settings, None)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def _wait(done: Callable[[], Awaitable[tuple[int, int]]], progress: Progress | None,
                timeout_s: float, what: str) -> int:
    """Poll `done()` ((applied, total)) until applied reaches total; report each step."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        applied, total = await done()
        if progress is not None:
            progress(min(applied, total), total)
        if applied >= total:
            return total
        if loop.time() > deadline:
            raise TimeoutError(f"{what}: {applied} of {total} records applied")
        await asyncio.sleep(0.1)


async def wait_projected(
    settings: Settings, redis: Client, progress: Progress | None = None, timeout_s: float = 600
) -> int:
    """Wait until the generation reads use has everything in the topics now; return how many
    records that is."""
    keys = StoreKeys(settings)
    ends = await end_offsets(settings)

    async def done() -> tuple[int, int]:
        await generations.refresh(redis, keys)  # it may switch meanwhile
        return await generations.applied(redis, keys, ends), sum(ends.values())
    return await _wait(done, progress, timeout_s, "projection still behind")


async def rebuild(settings: Settings, progress: Progress | None = None,
                  timeout_s: float = 600) -> int:
    """Build a new generation of the projection and wait until it serves; return the records
    replayed."""
    redis = runtime_redis.client(settings)
    keys = StoreKeys(settings)
    try:
        number = await generations.begin(redis, keys, await end_offsets(settings))

        async def done() -> tuple[int, int]:
            applied, total = await generations.progress(redis, keys, number)
            # Served once a projector switched reads to it (it may have caught up before).
            serving = await generations.readable(redis, keys) == number
            return (applied if serving else min(applied, total - 1)), total
        return await _wait(done, progress, timeout_s, "rebuild still behind")
    finally:
        await redis.aclose()
