"""Several projectors share the partitions (`runtime.partitioning`): three projector processes
apply messages, tags, states and read markers that race on the same conversations, one of them
is killed with SIGKILL on the way, and afterwards every index equals what the conversations'
documents say and every unread count equals the ground truth. A projector that lost its partition
without knowing it (a zombie) writes nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import signal
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from runtime import kafka, topics
from runtime.partitioning import partition_of
from runtime import redis as runtime_redis
from runtime.settings import Settings
from stack import processes, services
from store import generations
from store.keys import StoreKeys
from store.projector import Projector
from tests.integration.helpers import api, eventually, message_record, produce_messages
from tests.integration.test_rebuild import _all_pages, _quiet

THIRD = "projector-3"
STATES = ("OPEN", "CLOSED", "")


def _post(base_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.post(f"{base_url}{path}", json=body, timeout=30)
    assert reply.status_code == 200, (path, reply.text)
    return dict(reply.json())


@pytest.fixture(scope="module")
def three(live_stack: Settings) -> Iterator[Settings]:
    """The test stack with a third projector beside its two."""
    settings = dataclasses.replace(live_stack, projectors=3)
    services.start(settings, THIRD)
    try:
        yield settings
    finally:
        processes.stop(live_stack.data_dir, THIRD)


def _race(base_url: str, conversations: list[str], tags: list[str], rounds: int) -> None:
    """Tag, untag, set and remove states and mark read, on every conversation, in parallel."""
    def commands(cid: str) -> None:
        rng = random.Random(cid)
        for _ in range(rounds):
            tag = rng.choice(tags)
            state = rng.choice(STATES)
            for path, body in (
                    (rng.choice(("/conversations.tag", "/conversations.untag")), {"tag_id": tag}),
                    (("/conversations.set-state", {"state": state}) if state
                     else ("/conversations.remove-state", {})),
                    ("/conversations.mark-read", {})):
                _post(base_url, path, {"conversation_id": cid, **body})

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(commands, conversations))


def _messages(conversations: list[str], first: int, count: int) -> list[Any]:
    records = []
    for n in range(first, first + count):
        for c, cid in enumerate(conversations):
            record = message_record(cid, 1_700_000_000_000 + n * 1000 + c, f"{n}")
            record.message.from_contact = (n + c) % 3 != 0
            records.append(record)
    return records


async def _trickle(settings: Settings, conversations: list[str], first: int,
                   done: asyncio.Event) -> int:
    """Messages to every conversation, a round every few milliseconds until `done`; the number
    of the next round."""
    producer = kafka.producer(settings)
    await producer.start()
    n = first
    try:
        while not done.is_set():
            for record in _messages(conversations, n, 1):
                await producer.send(settings.prefixed(topics.MESSAGES), record.SerializeToString(),
                                    key=record.conversation_id.encode())
            n += 1
            await asyncio.sleep(0.02)
        await producer.flush()
    finally:
        await producer.stop()
    return n


async def _race_with_messages(settings: Settings, base_url: str, conversations: list[str],
                              tags: list[str], first: int, rounds: int,
                              kill: str | None = None) -> int:
    """Commands race on the conversations while messages trickle in (and `kill`, a projector,
    is killed on the way); the number of message rounds written in all."""
    done = asyncio.Event()
    trickle = asyncio.create_task(_trickle(settings, conversations, first, done))
    racing = asyncio.create_task(asyncio.to_thread(_race, base_url, conversations, tags, rounds))
    if kill is not None:
        await asyncio.sleep(1.0)
        pid = processes.running_pid(settings.data_dir, kill)
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)  # the supervisor too: nothing restarts it
    await racing
    done.set()
    return await trickle


def _ids_of(base_url: str, conversations: list[str], filters: str) -> set[str]:
    scope = " OR ".join(f"id:{cid}" for cid in conversations)
    return {c["id"] for c in _all_pages(base_url, "/conversations.list",
                                        {"filters": f"({scope}) AND ({filters})"})}


def _check_against_the_documents(base_url: str, conversations: list[str], tags: list[str]) -> None:
    """Every index the filters page from holds exactly the conversations whose documents say
    so, and every unread count is the contact messages after the read marker."""
    infos = {cid: _post(base_url, "/conversations.info", {"conversation_id": cid})
             for cid in conversations}
    for tag in tags:
        tagged = {cid for cid, info in infos.items() if tag in info["metadata"].get("tags", {})}
        assert _ids_of(base_url, conversations, f"tag_ids:{tag}") == tagged, tag
    for state in STATES[:2]:
        wanted = {cid for cid, info in infos.items() if info["metadata"].get("state") == state}
        assert _ids_of(base_url, conversations, f"state:{state}") == wanted, state
    for cid, info in infos.items():
        messages = _all_pages(base_url, "/messages.list", {"conversation_id": cid})
        read_until = info["metadata"].get("read_until", "")
        truth = sum(1 for m in messages if m["from_contact"] and m["sent_at"] > read_until)
        assert info["metadata"]["unread_count"] == truth, cid
        exact = _ids_of(base_url, [cid], f"unread_count:{truth}")
        assert exact == {cid}, (cid, truth)
    unread = {cid for cid, info in infos.items() if info["metadata"]["unread_count"]}
    assert _ids_of(base_url, conversations, "unread_count:[1 TO *]") == unread


def test_three_projectors_racing_and_one_killed_agree_with_the_documents(
        three: Settings, base_url: str) -> None:
    conversations = [str(uuid.uuid4()) for _ in range(6)]
    tags = [_post(base_url, "/tags.create", {"name": f"race-{uuid.uuid4().hex[:8]}",
                                            "color": "tag-blue"})["id"] for _ in range(3)]
    asyncio.run(produce_messages(three, _messages(conversations, 0, 5)))
    eventually(lambda: all(api.post(f"{base_url}/conversations.info", json={
        "conversation_id": cid}, timeout=10).status_code == 200 for cid in conversations))

    written = asyncio.run(_race_with_messages(three, base_url, conversations, tags, 5, 8))
    asyncio.run(_quiet(three))
    _check_against_the_documents(base_url, conversations, tags)

    # One projector killed mid-batch; the others take its partitions over once the group
    # notices, and finish the work.
    written = asyncio.run(_race_with_messages(three, base_url, conversations, tags, written, 4,
                                              kill=THIRD))
    eventually(lambda: processes.running_pid(three.data_dir, THIRD) is None, timeout=10)
    asyncio.run(_quiet(three))
    for cid in conversations:
        listed = _all_pages(base_url, "/messages.list", {"conversation_id": cid})
        # Nothing lost, nothing twice (pages come newest first, each oldest to latest).
        assert sorted(int(m["content"]["text"]) for m in listed) == list(range(written))
    _check_against_the_documents(base_url, conversations, tags)


def _conversation_on(settings: Settings, partition: int) -> str:
    """A new conversation id whose records land on partition `partition`."""
    while partition_of(cid := str(uuid.uuid4()), settings.topic_partitions) != partition:
        pass
    return cid


def test_a_projector_that_lost_its_partition_writes_nothing(live_stack: Settings) -> None:
    """A zombie: its generation of the partition is not the owner's any more."""
    async def run() -> tuple[bytes | str | None, bytes | str | None]:
        redis = runtime_redis.client(live_stack)
        serving = StoreKeys(live_stack)
        await generations.refresh(redis, serving)
        zombie = Projector(live_stack, redis, serving.generation.number)
        topic = live_stack.prefixed("parley.messages")
        record = message_record(_conversation_on(live_stack, 0), 1_700_000_000_000, "zombie")
        keys = serving.partition(0)
        owner = await redis.get(keys.projector_owner(0))
        zombie.owned[keys.projector_owner(0)] = b"-1"  # an earlier owner's generation
        offset_key = keys.projector_offset(topic, 0)
        before = await redis.get(offset_key)
        raw = ConsumerRecord(topic, 0, 10**9, 0, 0, None, record.SerializeToString(), None, 0,
                             0, [])
        try:
            await zombie.apply(TopicPartition(topic, 0), [raw])
            assert not await redis.exists(keys.conversation_messages(record.conversation_id))
            assert await redis.get(keys.projector_owner(0)) == owner
            return before, await redis.get(offset_key)
        finally:
            await redis.aclose()

    before, after = asyncio.run(run())
    assert after == before  # its offset did not move either: the owner applies the record
