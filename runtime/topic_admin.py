"""The platform's topics as the settings say: partitions, replication factor, `min.insync.replicas`
and each topic's own configs (`runtime.topics`).

`parley topics apply` (and the local `make up`) provision them: the one step that needs Kafka's
CreateTopics and AlterConfigs permissions. Services only wait until the topics are there.
A topic's partition count is never changed here: records are placed by the hash of their key
modulo that count, so changing it moves conversations between partitions
(docs/architecture.md, "How it scales").
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from runtime.kafka import admin_session
from runtime.settings import Settings
from runtime.topics import TopicSpec, all_topics

log = logging.getLogger(__name__)

#: How often a waiting service says which topics it still waits for.
WAIT_LOG_S = 10.0


@dataclass(frozen=True)
class TopicState:
    """What `apply` did to one topic, or what it could not do."""

    topic: str
    #: "created", "configs updated", "as set", or a mismatch it leaves to the operator.
    action: str
    #: False when the topic differs from the settings in a way `apply` does not change.
    ok: bool = True


def wanted_configs(settings: Settings, spec: TopicSpec) -> dict[str, str]:
    """The topic configs `spec` gets on this install."""
    return {**spec.config, "min.insync.replicas": str(settings.kafka_min_insync_replicas)}


async def apply(settings: Settings) -> list[TopicState]:
    """Create the platform's missing topics and bring the configs of existing ones in line with
    the settings; report on each (partition counts and replication factors that differ are
    reported, not changed)."""
    async with admin_session(settings) as client:
        specs = {settings.prefixed(spec.name): spec for spec in all_topics()}
        existing = set(await client.list_topics())
        created = await _create(client, settings, [n for n in specs if n not in existing], specs)
        states = [TopicState(name, "created") for name in created]
        present = [name for name in specs if name not in created]
        if present:
            states += await _reconcile(client, settings, present, specs)
    return sorted(states, key=lambda state: state.topic)


async def _create(client: AIOKafkaAdminClient, settings: Settings, names: list[str],
                  specs: dict[str, TopicSpec]) -> list[str]:
    """Create topics `names`; the ones this call created (another may create some first)."""
    if not names:
        return []
    try:
        await client.create_topics([
            NewTopic(name, num_partitions=settings.topic_partitions,
                     replication_factor=settings.kafka_replication_factor,
                     topic_configs=wanted_configs(settings, specs[name]))
            for name in names])
    except TopicAlreadyExistsError:
        log.info("another process created some of the topics first")
        return [name for name in names if name not in set(await client.list_topics())]
    return names


async def _reconcile(client: AIOKafkaAdminClient, settings: Settings, names: list[str],
                     specs: dict[str, TopicSpec]) -> list[TopicState]:
    """Check existing topics `names` against the settings; update configs that differ."""
    described = {d["topic"]: d["partitions"] for d in await client.describe_topics(names)}
    configs = await _configs(client, names)
    states, stale = [], []
    for name in names:
        partitions = described[name]
        replicas = min(len(p["replicas"]) for p in partitions)
        problems = []
        if len(partitions) != settings.topic_partitions:
            problems.append(f"has {len(partitions)} partitions, PARLEY_TOPIC_PARTITIONS says "
                            f"{settings.topic_partitions} (not changed: it would move records)")
        if replicas != settings.kafka_replication_factor:
            problems.append(f"has {replicas} replicas per partition, "
                            f"PARLEY_KAFKA_REPLICATION_FACTOR says "
                            f"{settings.kafka_replication_factor} (reassign its partitions)")
        wanted = wanted_configs(settings, specs[name])
        action = "as set"
        if any(configs[name].get(key) != value for key, value in wanted.items()):
            stale.append(ConfigResource(ConfigResourceType.TOPIC, name, wanted))
            action = "configs updated"
        states.append(TopicState(name, "; ".join([action, *problems]), not problems))
    if stale:
        await client.alter_configs(stale)
    return states


async def _configs(client: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """The current configs of topics `names`."""
    found: dict[str, dict[str, str]] = {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    for response in await client.describe_configs(resources):
        for resource in response.resources:
            _error, _message, _kind, name, entries = resource[:5]
            found[name] = {entry[0]: entry[1] for entry in entries}
    return found


async def missing(settings: Settings) -> list[str]:
    """The platform's topics that do not exist (yet)."""
    async with admin_session(settings) as client:
        return await _missing(client, settings)


async def _missing(client: AIOKafkaAdminClient, settings: Settings) -> list[str]:
    existing = set(await client.list_topics())
    return [settings.prefixed(spec.name) for spec in all_topics()
            if settings.prefixed(spec.name) not in existing]


async def wait_for_topics(settings: Settings, poll_s: float = 1.0) -> None:
    """Return once every platform topic exists: a service starts before `parley topics apply`
    has run (a Kubernetes Job beside the Deployments) and waits for it, saying so."""
    said = 0.0
    loop = asyncio.get_running_loop()
    async with admin_session(settings) as client:
        while absent := await _missing(client, settings):
            if loop.time() - said >= WAIT_LOG_S:
                log.warning("waiting for %d topics (%s, ...): run `parley topics apply`",
                            len(absent), absent[0])
                said = loop.time()
            await asyncio.sleep(poll_s)
