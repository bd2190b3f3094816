"""`parley rebuild` drops the Redis projection and replays Kafka: every list and info answer is
the same afterwards, field by field."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from runtime import kafka, topics
from runtime import redis as runtime_redis
from runtime.settings import Settings
from store.keys import StoreKeys
from store import generations
from store.rebuild import wait_projected
from tests.integration.helpers import api, eventually


def _post(base_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.post(f"{base_url}{path}", json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _all_pages(base_url: str, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    items, cursor = [], ""
    while True:
        page = _post(base_url, path, {**body, "cursor": cursor, "page_size": 1000})
        items += page["data"]
        cursor = page["pagination_data"]["next_cursor"]
        if not cursor:
            return items


def _snapshot(base_url: str) -> dict[str, Any]:
    conversations = _all_pages(base_url, "/conversations.list", {})
    return {
        "conversations": conversations,
        "info": {c["id"]: _post(base_url, "/conversations.info", {"conversation_id": c["id"]})
                 for c in conversations},
        "messages": {c["id"]: _all_pages(base_url, "/messages.list", {"conversation_id": c["id"]})
                     for c in conversations},
        "channels": _post(base_url, "/channels.list", {}),
        "tags": _post(base_url, "/tags.list", {}),
    }


async def _quiet(settings: Settings) -> int:
    """Wait until everything is projected; the number of realtime events logged so far."""
    redis = runtime_redis.client(settings)
    try:
        await wait_projected(settings, redis, timeout_s=60)
        pipe = redis.pipeline(transaction=False)
        for stream in StoreKeys(settings).event_streams():
            pipe.xlen(stream)
        return sum(await pipe.execute())
    finally:
        await redis.aclose()


async def _generation(settings: Settings) -> int:
    """The generation of the projection reads use."""
    redis = runtime_redis.client(settings)
    try:
        return await generations.readable(redis, StoreKeys(settings))
    finally:
        await redis.aclose()


async def _dead_letters(settings: Settings) -> int:
    """How many records the dead-letter topic holds."""
    topic = settings.prefixed(topics.DEADLETTER)
    consumer = kafka.consumer(settings, None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(
            [TopicPartition(topic, p) for p in await kafka.partitions(settings, topic)])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def _undecodable(settings: Settings) -> None:
    """A message record the projection cannot read."""
    producer = kafka.producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(settings.prefixed(topics.MESSAGES), b"\xff\xff not a record",
                                     key=b"rebuild-undecodable")
    finally:
        await producer.stop()


def test_rebuild_gives_the_same_answers(live_stack: Settings, base_url: str) -> None:
    letters = asyncio.run(_dead_letters(live_stack))
    asyncio.run(_undecodable(live_stack))
    eventually(lambda: asyncio.run(_dead_letters(live_stack)) == letters + 1)
    logged = asyncio.run(_quiet(live_stack))
    before = _snapshot(base_url)
    assert before["conversations"], "the earlier tests left conversations to compare"

    serving = asyncio.run(_generation(live_stack))
    parley = str(Path(sys.executable).parent / "parley")
    rebuilding = subprocess.Popen([parley, "rebuild"], env=os.environ, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
    # The new generation is built beside the serving one, which answers all along.
    while rebuilding.poll() is None:
        assert _snapshot(base_url) == before
    output = rebuilding.communicate(timeout=300)[0]
    assert rebuilding.returncode == 0, output
    assert "rebuilt the projection from" in output
    assert asyncio.run(_generation(live_stack)) > serving  # reads switched to the new one

    after = _snapshot(base_url)
    # The replay changed nothing, so it told subscribers and webhooks nothing, and dead-lettered
    # nothing again.
    assert asyncio.run(_quiet(live_stack)) == logged
    assert asyncio.run(_dead_letters(live_stack)) == letters + 1
    assert after.keys() == before.keys()
    for part in before:
        assert after[part] == before[part], part
