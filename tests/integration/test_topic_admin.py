"""`parley topics apply` on the real broker: creates what is missing with the settings'
partitions, replication factor and min.insync.replicas, puts drifted configs back, and reports
(without changing) a partition count that differs. Services wait for the topics."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from runtime import kafka, topic_admin, topics
from runtime.settings import Settings


def _fresh(settings: Settings) -> Settings:
    """`settings` under a namespace of its own: none of its topics exist yet."""
    return dataclasses.replace(settings, namespace=f"topics-{uuid.uuid4().hex[:8]}")


async def _configs(settings: Settings, topic: str) -> dict[str, str]:
    client = kafka.admin(settings)
    await client.start()
    try:
        (response,) = await client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        return {entry[0]: entry[1] for entry in response.resources[0][4]}
    finally:
        await client.close()


async def _config_becomes(settings: Settings, topic: str, key: str, value: str) -> None:
    """Wait until the broker describes `topic`'s `key` as `value` (a change reaches the broker's
    metadata a moment after the controller took it)."""
    for _ in range(50):
        if (await _configs(settings, topic)).get(key) == value:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{topic}: {key} never became {value}")


async def _delete_topics(settings: Settings) -> None:
    client = kafka.admin(settings)
    await client.start()
    try:
        await client.delete_topics([settings.prefixed(s.name) for s in topics.all_topics()])
    finally:
        await client.close()


async def test_apply_creates_then_reconciles_and_reports_what_it_does_not_change(
    live_stack: Settings
) -> None:
    settings = _fresh(live_stack)
    try:
        states = await topic_admin.apply(settings)
        assert {s.action for s in states} == {"created"}
        assert len(states) == len(topics.all_topics())
        messages = settings.prefixed(topics.MESSAGES)
        assert len(await kafka.partitions(settings, messages)) == settings.topic_partitions
        assert (await _configs(settings, messages))["min.insync.replicas"] == "1"

        # A config changed by hand is put back; the rest are left as they are.
        client = kafka.admin(settings)
        await client.start()
        try:
            await client.alter_configs([ConfigResource(
                ConfigResourceType.TOPIC, messages, {"retention.ms": "1000"})])
        finally:
            await client.close()
        await _config_becomes(settings, messages, "retention.ms", "1000")
        by_topic = {s.topic: s for s in await topic_admin.apply(settings)}
        assert by_topic[messages].action == "configs updated"
        assert {s.action for t, s in by_topic.items() if t != messages} == {"as set"}
        await _config_becomes(settings, messages, "retention.ms", "-1")

        # Other partition counts or replication factors are reported, never applied.
        other = dataclasses.replace(settings, topic_partitions=settings.topic_partitions + 2,
                                    kafka_replication_factor=3)
        states = await topic_admin.apply(other)
        assert not any(s.ok for s in states)
        assert all("partitions" in s.action and "replicas" in s.action for s in states)
        assert len(await kafka.partitions(settings, messages)) == settings.topic_partitions
    finally:
        await _delete_topics(settings)


async def test_a_service_waits_for_its_topics_until_they_are_applied(live_stack: Settings) -> None:
    settings = _fresh(live_stack)
    try:
        waiting = asyncio.create_task(topic_admin.wait_for_topics(settings, poll_s=0.2))
        await asyncio.sleep(1.0)
        assert not waiting.done()
        await topic_admin.apply(settings)
        await asyncio.wait_for(waiting, timeout=10)
    finally:
        await _delete_topics(settings)
