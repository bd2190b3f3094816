"""Thin typed views over event payloads (which are JSON objects, as the API serves them)."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import json_format

from parley.v1 import resources_pb2


@dataclass(frozen=True)
class MessageEvent:
    """The payload of a `message.created` or `message.updated` event."""

    conversation_id: str
    channel_id: str
    message: resources_pb2.Message


def message_event(event: resources_pb2.Event) -> MessageEvent | None:
    """The message an event is about, typed; None for events of other types."""
    if not event.type.startswith("message."):
        return None
    payload = json_format.MessageToDict(event.payload, preserving_proto_field_name=True)
    message = json_format.ParseDict(payload.get("message", {}), resources_pb2.Message(),
                                    ignore_unknown_fields=True)
    return MessageEvent(str(payload.get("conversation_id", "")),
                        str(payload.get("channel_id", "")), message)
