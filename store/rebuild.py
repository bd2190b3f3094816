"""`parley rebuild`: drop the Redis projection and replay Kafka into it.

Redis is only a projection of the log: dropping it and replaying must give the same answers. The
rebuild deletes every key of the install's namespace but its durable part (the realtime event
log and webhook deliveries, which Kafka cannot give back), bumps the projection generation (each
running projector then rewinds its partitions to the start), and waits until the projectors
have applied everything the topics held when it began. A store that finds a projection of an
older layout (`LAYOUT_VERSION`) drops it the same way when it starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition

from runtime import kafka
from runtime import redis as runtime_redis
from runtime.settings import Settings
from store.keys import StoreKeys
from store.projection import LAYOUT_VERSION, RECORD_TYPES

Progress = Callable[[int, int], None]


async def end_offsets(settings: Settings) -> dict[TopicPartition, int]:
    """The end offset of every partition of the topics the projector reads."""
    partitions = [
        TopicPartition(settings.prefixed(topic), p)
        for topic in RECORD_TYPES
        for p in await kafka.partitions(settings, settings.prefixed(topic))
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def applied(redis: aioredis.Redis, keys: StoreKeys, ends: dict[TopicPartition, int]) -> int:
    """How many records of `ends` the projectors have applied."""
    topics = {keys.settings.prefixed(topic): topic for topic in RECORD_TYPES}
    pipe = redis.pipeline(transaction=False)  # the offsets are in several slots
    for tp in ends:
        pipe.get(keys.of_record(topics[tp.topic], tp.partition).projector_offset(tp.topic, tp.partition))
    stored = await pipe.execute()
    return sum(min(int(s or 0), end) for s, end in zip(stored, ends.values()))


async def wait_projected(
    settings: Settings, redis: aioredis.Redis, progress: Progress | None = None, timeout_s: float = 600
) -> int:
    """Wait until everything in the topics now is projected; return how many records that is."""
    keys = StoreKeys(settings)
    ends = await end_offsets(settings)
    total = sum(ends.values())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while (done := await applied(redis, keys, ends)) < total:
        if progress is not None:
            progress(done, total)
        if loop.time() > deadline:
            raise TimeoutError(f"projection still behind: {done} of {total} records applied")
        await asyncio.sleep(0.1)
    if progress is not None:
        progress(total, total)
    return total


async def drop(redis: aioredis.Redis, keys: StoreKeys) -> None:
    """Delete the projection and bump its generation: every projector replays Kafka into it."""
    generation = int(await redis.get(keys.projection_generation()) or 0)
    # SCAN is fine here: an operator's rebuild or an upgrade, not a request path.
    async for batch in _batches(redis.scan_iter(match=keys.namespace_pattern(), count=1000)):
        if dropped := [key for key in batch if not keys.is_durable(key)]:
            await redis.unlink(*dropped)
    # Layouts before 5 had no slots: `<namespace>:<part>...`, durable ones `<namespace>:durable:`.
    legacy = runtime_redis.key(keys.settings, "")
    async for batch in _batches(redis.scan_iter(match=legacy + "*", count=1000)):
        if dropped := [k for k in batch if not k.startswith((legacy + runtime_redis.DURABLE).encode())]:
            await redis.unlink(*dropped)
    await redis.set(keys.projection_layout(), LAYOUT_VERSION)
    await redis.set(keys.projection_generation(), generation + 1)


async def rebuild(settings: Settings, progress: Progress | None = None) -> int:
    """Drop the projection, have the projectors replay Kafka, wait; return the records replayed."""
    redis = runtime_redis.client(settings)
    try:
        await drop(redis, StoreKeys(settings))
        return await wait_projected(settings, redis, progress)
    finally:
        await redis.aclose()


async def _batches(keys_iter: AsyncIterator[bytes], size: int = 1000) -> AsyncIterator[list[bytes]]:
    batch: list[bytes] = []
    async for key in keys_iter:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
