"""Kafka clients configured the one way Parley uses them: durable producers, manual offsets."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from runtime.settings import Settings
from runtime.topics import all_topics

log = logging.getLogger(__name__)


def producer(settings: Settings) -> AIOKafkaProducer:
    """A producer that never loses or doubles an acknowledged record: acks=all, idempotent."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
    )


def consumer(settings: Settings, group: str, **options: Any) -> AIOKafkaConsumer:
    """A consumer in group `group` that commits nothing itself: its owner stores the offsets.
    `options` are more of AIOKafkaConsumer's (an assignor, a static member id)."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=settings.prefixed(group),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        **options,
    )


async def ensure_topics(settings: Settings) -> list[str]:
    """Create every platform topic that does not exist yet; return the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                settings.prefixed(spec.name),
                num_partitions=settings.topic_partitions,
                replication_factor=1,
                topic_configs=spec.config,
            )
            for spec in all_topics()
            if settings.prefixed(spec.name) not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                log.info("another process created the topics first")
        return [t.name for t in missing]
    finally:
        await admin.close()


async def cluster_reachable(settings: Settings) -> bool:
    """True when the brokers answer a metadata request."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=3000
    )
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable", which is the answer
        return False
    finally:
        await admin.close()


async def partitions(settings: Settings, topic: str) -> list[int]:
    """The partition numbers of `topic` (which must exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return sorted(p["partition"] for p in described["partitions"])
    finally:
        await admin.close()
