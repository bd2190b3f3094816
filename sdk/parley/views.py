"""Typed views of what the API answers: messages and conversations with their JSON parts (content,
metadata) as plain Python data, pages of them, and the payloads of message events.

Protobuf keeps JSON numbers as doubles; a view gives whole numbers back as `int` (`unread_count`
is 3, not 3.0). Integers beyond 2^53, which a double cannot hold, reach the API's answers as their
decimal strings (Viber's message tokens), so none is ever rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf import json_format, struct_pb2

from parley.v1 import resources_pb2

T = TypeVar("T")
#: The largest integer magnitude a double holds exactly.
MAX_SAFE_INTEGER = 2**53


def plain(value: struct_pb2.Value | struct_pb2.Struct | struct_pb2.ListValue) -> Any:
    """Protobuf JSON as plain Python data (dict, list, str, bool, None, int, float), whole
    numbers as `int`."""
    return whole_numbers(json_format.MessageToDict(value))


def whole_numbers(data: Any) -> Any:
    """JSON data with each whole float (up to 2^53) as an `int`."""
    if isinstance(data, float) and data.is_integer() and abs(data) <= MAX_SAFE_INTEGER:
        return int(data)
    if isinstance(data, dict):
        return {key: whole_numbers(item) for key, item in data.items()}
    if isinstance(data, list):
        return [whole_numbers(item) for item in data]
    return data


def message_text(content: Any) -> str | None:
    """The text of a message's content for the common kinds, None for others (media, templates,
    ...): `text` (Messenger, Instagram, Viber, Google, the chat plugin, what `send` takes),
    `Body` (Twilio's form fields), `text.body` (WhatsApp)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, dict):
        return None
    for key in ("text", "Body"):
        found = content.get(key)
        if isinstance(found, str):
            return found
        if isinstance(found, dict) and isinstance(found.get("body"), str):
            return str(found["body"])
    return None


@dataclass(frozen=True)
class Message:
    """A message as the API serves it."""

    id: str
    #: The conversation it belongs to.
    conversation_id: str
    #: The source's payload as plain data (for Twilio its form fields; for a sent message what
    #: was given to `send`).
    content: Any
    #: "pending", "delivered" or "failed".
    delivery_state: str
    #: True when the contact sent it.
    from_contact: bool
    #: When the source says it was sent (RFC 3339, UTC).
    sent_at: str
    source: str
    #: Its metadata document: `error` (why sending failed), `source.id`, `suggestions`, ...
    metadata: dict[str, Any]
    sender: resources_pb2.Sender

    @property
    def text(self) -> str | None:
        """The text of the common kinds of content (`message_text`), else None."""
        return message_text(self.content)

    @classmethod
    def of(cls, message: resources_pb2.Message) -> Message:
        """The view of a `parley.v1.Message`."""
        return cls(message.id, message.conversation_id, plain(message.content),
                   message.delivery_state, message.from_contact, message.sent_at, message.source,
                   plain(message.metadata), message.sender)


@dataclass(frozen=True)
class Conversation:
    """A conversation as the API serves it."""

    id: str
    created_at: str
    channel: resources_pb2.Channel
    #: Its metadata document: `contact` (display_name, avatar_url), `unread_count`, `tags`,
    #: `state`, and whatever was upserted.
    metadata: dict[str, Any]
    #: Its newest message; None before it has one.
    last_message: Message | None

    @property
    def display_name(self) -> str:
        """The contact's display name."""
        return str((self.metadata.get("contact") or {}).get("display_name", ""))

    @property
    def unread_count(self) -> int:
        """Messages of the contact since the last mark-read."""
        return int(self.metadata.get("unread_count", 0))

    @classmethod
    def of(cls, conversation: resources_pb2.Conversation) -> Conversation:
        """The view of a `parley.v1.Conversation`."""
        last = conversation.last_message if conversation.HasField("last_message") else None
        return cls(conversation.id, conversation.created_at, conversation.channel,
                   plain(conversation.metadata), None if last is None else Message.of(last))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, the cursors to the pages beside it ("" at an end) and the
    total of the whole list."""

    data: Sequence[T]
    next_cursor: str
    previous_cursor: str
    total: int


@dataclass(frozen=True)
class MessageEvent:
    """The payload of a `message.created` or `message.updated` event."""

    conversation_id: str
    channel_id: str
    message: Message


def message_event(event: resources_pb2.Event) -> MessageEvent | None:
    """The message an event is about, typed; None for events of other types."""
    if not event.type.startswith("message."):
        return None
    payload = json_format.MessageToDict(event.payload, preserving_proto_field_name=True)
    message = json_format.ParseDict(payload.get("message", {}), resources_pb2.Message(),
                                    ignore_unknown_fields=True)
    return MessageEvent(str(payload.get("conversation_id", "")),
                        str(payload.get("channel_id", "")), Message.of(message))
