"""Normalized events -> records of the application topics (a pure function).

Ids are deterministic (runtime.ids), so translating the same raw bytes again (a redelivered
webhook, a reprocessing run) writes the same records and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from parley.v1 import records_pb2, resources_pb2

from runtime import ids, json_values, timestamps, topics
from runtime.topics import Topic
from runtime.partitioning import metadata_key
from sources.inbound import Event, InboundMessage, MetadataUpdate, RawEvent


@dataclass(frozen=True)
class Output:
    """One record to write: topic (without namespace), key, serialized value (of the topic's
    record type)."""

    topic: Topic[Any]
    key: str
    value: bytes


def _message(event: InboundMessage, raw: RawEvent, channel_id: str) -> Output:
    conversation_id = ids.conversation_id(channel_id, event.source_conversation_key)
    message_id = (
        ids.message_id(channel_id, event.source_message_id)
        if event.source_message_id else ids.message_id_from_bytes(channel_id, raw.body)
    )
    message = resources_pb2.Message(
        id=message_id,
        content=json_values.to_value(event.content),
        delivery_state="delivered",
        state="delivered",
        from_contact=event.from_contact,
        sent_at=timestamps.format_ms(event.sent_at_ms),
        source=event.source,
        sender=resources_pb2.Sender(
            id=event.sender_id, name=event.sender_name, avatar_url=event.sender_avatar_url
        ),
    )
    if event.source_message_id:
        # The source's id travels with the message: it is how an echo of a message Parley sent
        # itself is recognised (the store keeps one message per source id and channel).
        message.metadata.update({"source": {"id": event.source_message_id}})
    record = records_pb2.MessageRecord(
        conversation_id=conversation_id,
        channel_id=channel_id,
        contact_id=ids.contact_id(channel_id, event.source_conversation_key),
        message=message,
        sent_at_ms=event.sent_at_ms,
        # Where replies go: the conversation's key (a custom source's conversation id may differ
        # from its sender ids; for the other sources it is the contact's id).
        recipient_source_id=event.source_conversation_key,
    )
    return Output(topics.MESSAGES, conversation_id, record.SerializeToString())


def _metadata(event: MetadataUpdate, raw: RawEvent, channel_id: str) -> Output:
    conversation_id = ids.conversation_id(channel_id, event.source_conversation_key)
    if event.subject == "message":
        identifier = ids.message_id(channel_id, event.source_message_id)
    else:
        identifier = conversation_id
    record = records_pb2.MetadataRecord(
        subject=event.subject,
        identifier=identifier,
        data=json_values.to_struct(event.data),
        updated_at_ms=raw.received_at_ms,
    )
    return Output(topics.METADATA, metadata_key(event.subject, identifier, conversation_id),
                  record.SerializeToString())


def to_outputs(
    events: Sequence[Event], raw: RawEvent, is_connected: Callable[[str], bool]
) -> tuple[list[Output], set[str]]:
    """The records of `events` whose channel is connected, and the ids of the channels that are
    not (their events are left in the raw topic for a later reprocessing)."""
    outputs: list[Output] = []
    unknown: set[str] = set()
    for event in events:
        channel_id = ids.channel_id(event.source, event.source_channel_id)
        if not is_connected(channel_id):
            unknown.add(channel_id)
        elif isinstance(event, InboundMessage):
            outputs.append(_message(event, raw, channel_id))
        else:
            outputs.append(_metadata(event, raw, channel_id))
    return outputs, unknown
