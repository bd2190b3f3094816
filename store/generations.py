"""Generations of the projection: a layout change or `parley rebuild` builds a new projection beside
the one that serves, and reads switch to it once it has caught up; nothing stops serving.

A generation is a number that every projection key carries (`store.keys`), built with one layout
(`LAYOUT_VERSION`); code reads and writes only its own layout. Pointers in the global slot
(`StoreKeys.generations`), per layout L:
- `serving:<L>`: the generation readers of L use; `building:<L>`: one being built, from the start
  of the topics, by projectors of a consumer group of its own (`store.projector`);
- `target:<n>`: the end offsets of the topics when n began; once n applied that much it has
  caught up, and the first projector to see it switches `serving:<L>` to n;
- `next`: the counter the numbers come from; `retired`: generations no reader needs any more,
  scored by when their keys are dropped: `RETIRE_AFTER_S` after a switch (every reader of the
  layout follows within `FOLLOW_S`), or `PARLEY_OLD_LAYOUT_RETIRE_S` for the generations of older
  layouts (their readers are being upgraded meanwhile) and the projection of layouts before
  generations.

Events are emitted once, whichever generation applies a record first: their high-water marks are
shared (`StoreKeys.events_emitted`), so a generation that replays emits nothing again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import redis.asyncio as aioredis
from aiokafka import TopicPartition

from runtime import redis as runtime_redis
from runtime.redis import Client, text
from store.keys import StoreKeys
from store.projection import LAYOUT_VERSION, RECORD_TYPES

log = logging.getLogger(__name__)

#: How often a service looks for a switch of the serving generation.
FOLLOW_S = 0.5
#: How long a retired generation's keys stay for readers that have not switched yet.
RETIRE_AFTER_S = 10.0
#: The first layout with generations (before it, `<namespace>:...` keys without slots).
FIRST_LAYOUT = 5

Offsets = dict[TopicPartition, int]


async def _number(redis: Client, keys: StoreKeys, pointer: str) -> int:
    found = await redis.get(keys.generations(pointer))
    return int(found) if found is not None else 0


async def readable(redis: Client, keys: StoreKeys) -> int:
    """The generation this code reads: the serving one of its layout, else the one being built
    with it (readers upgraded before the projectors serve what is built so far); 0 when none."""
    return (await _number(redis, keys, f"serving:{LAYOUT_VERSION}")
            or await _number(redis, keys, f"building:{LAYOUT_VERSION}"))


async def refresh(redis: Client, keys: StoreKeys) -> None:
    """Point `keys` (and every key namer sharing its generation) at the generation to read."""
    keys.generation.number = await readable(redis, keys)


async def follow(redis: Client, keys: StoreKeys) -> None:
    """Keep `keys` on the generation to read until cancelled (a service's background task)."""
    while True:
        try:
            await refresh(redis, keys)
        except (OSError, ConnectionError, aioredis.RedisError) as exc:
            log.warning("projection generation unknown (%s); reading generation %d",
                        exc, keys.generation.number)
        await asyncio.sleep(FOLLOW_S)


async def projected(redis: Client, keys: StoreKeys) -> set[int]:
    """The generations projectors of this code's layout keep: its serving and building one."""
    numbers = {await _number(redis, keys, f"serving:{LAYOUT_VERSION}"),
               await _number(redis, keys, f"building:{LAYOUT_VERSION}")}
    return numbers - {0}


async def begin(redis: Client, keys: StoreKeys, ends: Offsets) -> int:
    """Start building a new generation of this layout, to catch up with `ends` (the topics' end
    offsets now); it replaces one being built. Its number."""
    number = int(await redis.incr(keys.generations("next")))
    await redis.set(keys.generations(f"target:{number}"),
                    json.dumps([[tp.topic, tp.partition, end] for tp, end in ends.items()]))
    building = keys.generations(f"building:{LAYOUT_VERSION}")
    replaced = int(await redis.set(building, number, get=True) or 0)
    if replaced:
        await _retire(redis, keys, replaced, RETIRE_AFTER_S)
    return number


async def begin_unless_built(redis: Client, keys: StoreKeys, ends: Offsets) -> None:
    """Begin a generation of this layout when none is serving or being built (a new install, or
    the first start of a new layout); several projectors starting at once begin one."""
    if await projected(redis, keys):
        return
    claim = keys.generations(f"beginning:{LAYOUT_VERSION}")
    if await redis.set(claim, "1", nx=True, ex=30):
        await begin(redis, keys, ends)


async def applied(redis: Client, keys: StoreKeys, ends: Offsets) -> int:
    """How many records of `ends` the generation of `keys` has applied."""
    topics = {keys.settings.prefixed(topic): topic for topic in RECORD_TYPES}
    pipe = redis.pipeline(transaction=False)  # the offsets are in several slots
    for tp in ends:
        pipe.get(keys.of_record(topics[tp.topic], tp.partition).projector_offset(tp.topic, tp.partition))
    stored = await pipe.execute()
    return sum(min(int(s or 0), end) for s, end in zip(stored, ends.values()))


async def progress(redis: Client, keys: StoreKeys, number: int) -> tuple[int, int]:
    """(records applied, records to apply) of generation `number` towards its target."""
    found = await redis.get(keys.generations(f"target:{number}"))
    target = {TopicPartition(t, p): end for t, p, end in json.loads(found or "[]")}
    return await applied(redis, keys.of_generation(number), target), sum(target.values())


async def switch_when_caught_up(redis: Client, keys: StoreKeys) -> None:
    """Make the generation of this layout being built serve once it has caught up; drop what
    retired generations are due."""
    building_key = keys.generations(f"building:{LAYOUT_VERSION}")
    building = await _number(redis, keys, f"building:{LAYOUT_VERSION}")
    if building:
        done, total = await progress(redis, keys, building)
        # Only the generation still being built switches (a newer one may have replaced it).
        if done >= total and await redis.get(building_key) == str(building).encode():
            previous = int(await redis.set(keys.generations(f"serving:{LAYOUT_VERSION}"),
                                           building, get=True) or 0)
            await redis.delete(building_key)
            log.info("projection generation %d serves (replacing %d)", building, previous)
            if previous:
                await _retire(redis, keys, previous, RETIRE_AFTER_S)
            await _retire_older_layouts(redis, keys)
    await drop_retired(redis, keys)


async def _retire_older_layouts(redis: Client, keys: StoreKeys) -> None:
    """Retire, after `PARLEY_OLD_LAYOUT_RETIRE_S`, the generations of older layouts and the
    projection from before generations (number 0)."""
    older = [await _number(redis, keys, f"{pointer}:{layout}")
             for layout in range(FIRST_LAYOUT, LAYOUT_VERSION) for pointer in ("serving", "building")]
    for number in {0, *older}:
        await _retire(redis, keys, number, keys.settings.old_layout_retire_s)


async def _retire(redis: Client, keys: StoreKeys, number: int, after_s: float) -> None:
    """Drop generation `number` `after_s` from now (or when it was due already)."""
    await redis.zadd(keys.generations("retired"), {str(number): time.time() + after_s}, nx=True)


async def drop_retired(redis: Client, keys: StoreKeys) -> None:
    """Drop the keys of the retired generations that are due."""
    due = await redis.zrange(keys.generations("retired"), "-inf", time.time(), byscore=True)
    for number in (int(text(n)) for n in due):
        if number:
            await _unlink_matching(redis, keys.generation_pattern(number))
            await redis.delete(keys.generations(f"target:{number}"))
        else:  # layouts before 5 had no slots; their durable keys were `<namespace>:durable:...`
            legacy = runtime_redis.key(keys.settings, "")
            await _unlink_matching(redis, legacy + "*", keep=legacy + runtime_redis.DURABLE)
        await redis.zrem(keys.generations("retired"), str(number))


async def _unlink_matching(redis: Client, pattern: str, keep: str = "") -> None:
    """Unlink every key matching `pattern` (but those starting with `keep`, when given). SCAN is
    fine here: it runs once per generation, not on a request path."""
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=pattern, count=1000):
        if not keep or not key.startswith(keep.encode()):
            batch.append(key)
        if len(batch) >= 1000:
            await redis.unlink(*batch)
            batch = []
    if batch:
        await redis.unlink(*batch)
