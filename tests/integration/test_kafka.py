"""The real broker: topics created with their configs (produce and consume: test_kafka_security)."""

from __future__ import annotations

from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from runtime import kafka, topics
from runtime.settings import Settings


async def test_every_platform_topic_exists_with_its_retention(live_stack: Settings) -> None:
    admin = kafka.admin(live_stack)
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
