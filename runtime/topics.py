"""The Kafka topics of the platform, before the namespace prefix (keys: `runtime.partitioning`).

Each source of the registry (`sources.REGISTRY`) has a raw topic `source.<name>.events`; Twilio
SMS and Twilio WhatsApp share the one `/twilio` path, hence one raw topic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from parley.v1 import records_pb2

from sources import REGISTRY

_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
_COMPACTED = {"cleanup.policy": "compact"}

V = TypeVar("V", bound=Message)


class Topic(str, Generic[V]):
    """An application topic, declared once: its name before the namespace prefix (a topic is used
    wherever its name is), the type of its records, what keys them (`runtime.partitioning`) and
    its Kafka configs. `runtime.kafka.write` and the store's commands take a record of its type
    only."""

    value: type[V]
    key: str
    config: dict[str, str]

    def __new__(cls, name: str, value: type[V], key: str, config: dict[str, str]) -> Topic[V]:
        topic = super().__new__(cls, name)
        topic.value, topic.key, topic.config = value, key, config
        return topic


MESSAGES = Topic("parley.messages", records_pb2.MessageRecord, "the conversation's id", _FOREVER)
METADATA = Topic("parley.metadata", records_pb2.MetadataRecord,
                 "the conversation's id (a message's: its conversation's; a channel's: the "
                 "channel's id; `runtime.partitioning.metadata_key`)", _FOREVER)
CHANNELS = Topic("parley.channels", records_pb2.ChannelRecord, "the channel's id", _COMPACTED)
TAGS = Topic("parley.tags", records_pb2.TagRecord, "the tag's id", _COMPACTED)
TEMPLATES = Topic("parley.templates", records_pb2.TemplateRecord, "the template's id", _COMPACTED)
WEBHOOKS = Topic("parley.webhooks", records_pb2.WebhookRecord, "the webhook's id", _COMPACTED)
CONTACTS = Topic("parley.contacts", records_pb2.ContactRecord, "the contact's id", _COMPACTED)
SOURCES = Topic("parley.sources", records_pb2.SourceRecord, "the custom source's id", _COMPACTED)
TOKENS = Topic("parley.tokens", records_pb2.TokenRecord, "the token's name", _COMPACTED)
DEADLETTER = Topic("parley.deadletter", records_pb2.DeadLetterRecord,
                   "the failed record's own key", _FOREVER)
#: Sends accepted for a conversation not in the store yet (HTTP 202): messaging looks for it.
OUTBOX = Topic("parley.outbox", records_pb2.MessageRecord, "the conversation's id", _FOREVER)

#: Every application topic.
APPLICATION: tuple[Topic[Any], ...] = (
    MESSAGES, METADATA, CHANNELS, TAGS, TEMPLATES, WEBHOOKS, CONTACTS, SOURCES, TOKENS, DEADLETTER,
    OUTBOX)


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create on start, with its Kafka topic configs."""

    name: str
    config: dict[str, str] = field(default_factory=dict)


def raw_topic(source: str) -> str:
    """The raw topic of `source`, holding the webhook bytes as received."""
    return f"source.{source}.events"


def all_topics() -> list[TopicSpec]:
    """Every topic the platform needs: the raw topics, kept forever, then the application
    topics with their configs (logs kept forever, entity topics compacted)."""
    return [TopicSpec(raw_topic(s), dict(_FOREVER)) for s in REGISTRY] + [
        TopicSpec(str(topic), dict(topic.config)) for topic in APPLICATION]
