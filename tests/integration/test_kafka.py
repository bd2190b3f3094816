"""The real broker: topics created with their configs, durable produce, consume."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from runtime import kafka, topics
from runtime.settings import Settings


async def test_every_platform_topic_exists_with_its_retention(live_stack: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=live_stack.bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        expected = {live_stack.prefixed(spec.name) for spec in topics.all_topics()}
        assert expected <= existing
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, live_stack.prefixed(topics.CHANNELS)),
             ConfigResource(ConfigResourceType.TOPIC, live_stack.prefixed(topics.MESSAGES))]
        )
        configs = {
            resource[3]: {entry[0]: entry[1] for entry in resource[4]}
            for response in described for resource in response.resources
        }
        assert configs[live_stack.prefixed(topics.CHANNELS)]["cleanup.policy"] == "compact"
        assert configs[live_stack.prefixed(topics.MESSAGES)]["retention.ms"] == "-1"
    finally:
        await admin.close()


async def test_produce_then_consume_on_the_real_broker(live_stack: Settings) -> None:
    topic = live_stack.prefixed(topics.raw_topic("custom"))
    key, value = uuid.uuid4().bytes, uuid.uuid4().bytes
    producer = kafka.producer(live_stack)
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=live_stack.bootstrap_servers)
    await consumer.start()
    try:
        tp = TopicPartition(topic, sent.partition)
        consumer.assign([tp])
        consumer.seek(tp, sent.offset)
        batch = await consumer.getmany(tp, timeout_ms=10_000)
        record = batch[tp][0]
        assert (record.key, record.value) == (key, value)
    finally:
        await consumer.stop()
