"""The Kafka topics of the platform, before the namespace prefix (keys: `runtime.partitioning`).

Each source of the registry (`sources.REGISTRY`) has a raw topic `source.<name>.events`; Twilio
SMS and Twilio WhatsApp share the one `/twilio` path, hence one raw topic."""

from __future__ import annotations

from dataclasses import dataclass, field

from sources import REGISTRY

MESSAGES = "parley.messages"
METADATA = "parley.metadata"
CHANNELS = "parley.channels"
TAGS = "parley.tags"
TEMPLATES = "parley.templates"
WEBHOOKS = "parley.webhooks"
CONTACTS = "parley.contacts"
SOURCES = "parley.sources"
TOKENS = "parley.tokens"
DEADLETTER = "parley.deadletter"
#: Sends accepted for a conversation not in the store yet (HTTP 202): messaging looks for it.
OUTBOX = "parley.outbox"

_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
_COMPACTED = {"cleanup.policy": "compact"}


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create on start, with its Kafka topic configs."""

    name: str
    config: dict[str, str] = field(default_factory=dict)


def raw_topic(source: str) -> str:
    """The raw topic of `source`, holding the webhook bytes as received."""
    return f"source.{source}.events"


def all_topics() -> list[TopicSpec]:
    """Every topic the platform needs: raw and log topics kept forever, entity topics compacted."""
    forever = [raw_topic(s) for s in REGISTRY] + [MESSAGES, METADATA, DEADLETTER, OUTBOX]
    compacted = [CHANNELS, TAGS, TEMPLATES, WEBHOOKS, CONTACTS, SOURCES, TOKENS]
    return [TopicSpec(t, dict(_FOREVER)) for t in forever] + [
        TopicSpec(t, dict(_COMPACTED)) for t in compacted
    ]
