"""Generations of the projection (store.generations) on the test stack's Redis, in a namespace of
their own: a new layout is built beside the one that serves, each code reads its own layout, and
retired generations are dropped when due, nothing else. (`test_rebuild` switches generations
under load, through `parley rebuild` and the projectors.)"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest

from runtime import redis as runtime_redis
from runtime.settings import Settings
from store import generations
from store.keys import StoreKeys


async def _layouts(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    redis = runtime_redis.client(settings)
    # Older layouts' projections go 0.2 s after a newer one serves (an hour by default).
    keys = StoreKeys(dataclasses.replace(settings, namespace=f"gen-{uuid.uuid4().hex[:8]}",
                                         old_layout_retire_s=0.2))
    try:
        monkeypatch.setattr(generations, "LAYOUT_VERSION", 5)
        first = await generations.begin(redis, keys, {})
        assert await generations.readable(redis, keys) == first  # served while it is built
        await generations.switch_when_caught_up(redis, keys)  # nothing to catch up with
        assert await generations.projected(redis, keys) == {first}
        await redis.set(keys.of_generation(first).channel("c"), "old layout")

        # Projectors of a new layout begin their own generation beside it.
        monkeypatch.setattr(generations, "LAYOUT_VERSION", 6)
        await generations.begin_unless_built(redis, keys, {})
        (second,) = await generations.projected(redis, keys)
        assert second != first and await generations.readable(redis, keys) == second
        monkeypatch.setattr(generations, "LAYOUT_VERSION", 5)
        assert await generations.readable(redis, keys) == first  # old readers keep theirs

        # Once it serves, the old layout is dropped only after its readers had time to upgrade.
        monkeypatch.setattr(generations, "LAYOUT_VERSION", 6)
        await generations.switch_when_caught_up(redis, keys)
        assert await redis.exists(keys.of_generation(first).channel("c"))
        await redis.set(keys.of_generation(second).channel("c"), "new layout")
        await asyncio.sleep(0.3)
        await generations.switch_when_caught_up(redis, keys)
        assert not await redis.exists(keys.of_generation(first).channel("c"))
        assert await redis.get(keys.of_generation(second).channel("c")) == b"new layout"

        # A rebuild of the same layout: the previous generation goes once readers followed.
        monkeypatch.setattr(generations, "RETIRE_AFTER_S", 0.2)
        third = await generations.begin(redis, keys, {})
        assert await generations.readable(redis, keys) == second  # until it has caught up
        await generations.switch_when_caught_up(redis, keys)
        assert await generations.readable(redis, keys) == third
        assert await redis.exists(keys.of_generation(second).channel("c"))
        await asyncio.sleep(0.3)
        await generations.drop_retired(redis, keys)
        assert not await redis.exists(keys.of_generation(second).channel("c"))
    finally:
        await redis.delete(*[k async for k in redis.scan_iter(match=keys.namespace_pattern())])
        await redis.aclose()


def test_a_new_layout_is_built_beside_the_serving_one(
        live_stack: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(_layouts(live_stack, monkeypatch))
