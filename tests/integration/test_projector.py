"""The projector against the real broker and Redis: effectively once across a kill -9, and a
record it cannot read goes to the dead-letter topic without blocking its partition."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition

from parley.v1 import records_pb2
from runtime import kafka, topics
from runtime import redis as runtime_redis
from runtime.settings import Settings
from stack import processes, services
from store import generations
from store.keys import StoreKeys
from tests.integration.helpers import api, eventually, message_record, produce_messages


def _total(base_url: str, conversation_id: str) -> int:
    reply = api.post(f"{base_url}/messages.list", json={"conversation_id": conversation_id}, timeout=10)
    return reply.json()["pagination_data"]["total"] if reply.status_code == 200 else 0


async def _stored_offsets_match_the_log(settings: Settings) -> bool:
    topic = settings.prefixed(topics.MESSAGES)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    redis = runtime_redis.client(settings)
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        keys = StoreKeys(settings)
        await generations.refresh(redis, keys)
        stored = [await redis.get(keys.partition(tp.partition).projector_offset(topic, tp.partition))
                  for tp in partitions]
        return all(int(s or 0) == ends[tp] for s, tp in zip(stored, partitions))
    finally:
        await consumer.stop()
        await redis.aclose()


def test_a_killed_projector_resumes_without_loss_or_double_apply(
    live_stack: Settings, base_url: str
) -> None:
    conversation_id = str(uuid.uuid4())
    first = [message_record(conversation_id, 1_700_000_000_000 + i, f"a{i}") for i in range(3)]
    asyncio.run(produce_messages(live_stack, first))
    eventually(lambda: _total(base_url, conversation_id) == 3)

    pid = processes.running_pid(live_stack.data_dir, "projector-1")
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)  # the projector and its supervisor
    eventually(lambda: processes.running_pid(live_stack.data_dir, "projector-1") is None, timeout=10)
    # While the projector is down: new messages, and a redelivery of one it had already applied.
    later = [message_record(conversation_id, 1_700_000_100_000 + i, f"b{i}") for i in range(2)]
    asyncio.run(produce_messages(live_stack, [*later, first[1]]))
    services.start(live_stack, "projector-1")

    eventually(lambda: _total(base_url, conversation_id) == 5)
    body = api.post(f"{base_url}/messages.list",
                      json={"conversation_id": conversation_id}, timeout=10).json()
    assert [m["content"]["text"] for m in body["data"]] == ["a0", "a1", "a2", "b0", "b1"]
    eventually(lambda: asyncio.run(_stored_offsets_match_the_log(live_stack)))


async def _find_dead_letter(settings: Settings, value: bytes) -> records_pb2.DeadLetterRecord | None:
    topic = settings.prefixed(topics.DEADLETTER)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    letter = records_pb2.DeadLetterRecord.FromString(record.value)
                    if letter.value == value:
                        return letter
        return None
    finally:
        await consumer.stop()


def test_an_unreadable_record_is_dead_lettered_and_does_not_block(
    live_stack: Settings, base_url: str
) -> None:
    conversation_id = str(uuid.uuid4())
    garbage = b"not a protobuf " + uuid.uuid4().bytes

    async def produce() -> None:
        producer = kafka.producer(live_stack)
        await producer.start()
        try:
            await producer.send_and_wait(live_stack.prefixed(topics.MESSAGES), garbage,
                                         key=conversation_id.encode())
        finally:
            await producer.stop()
        await produce_messages(live_stack, [message_record(conversation_id, 1_700_000_000_000, "ok")])

    asyncio.run(produce())
    eventually(lambda: _total(base_url, conversation_id) == 1)
    letter = eventually(lambda: asyncio.run(_find_dead_letter(live_stack, garbage)))
    assert letter.topic == live_stack.prefixed(topics.MESSAGES)
    assert "undecodable MessageRecord" in letter.reason
    assert letter.key == conversation_id.encode()
