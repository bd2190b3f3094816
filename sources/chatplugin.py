"""The website chat plugin: messages a visitor sends with `/chatplugin.send`.

There is no webhook to verify: `ChatPluginService` checks the visitor token, then appends one
record per message to `source.chatplugin.events`:

    {"source_channel_id": "...", "visitor_id": "...", "message_id": "...",
     "content": {"text": "hi"}, "sent_at_ms": 1700000000000}

`source_channel_id` is the chat plugin channel's own id at its "source" (chosen at connect),
`visitor_id` keys the visitor's conversation (chosen at authenticate, carried by the token), and
`message_id` is chosen per send, so a record translated twice yields the same message.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from runtime import json_values
from sources.inbound import (Event, InboundMessage, RawEvent, TranslationError, epoch_ms,
                             json_field)
from sources.spec import ChannelKind, Source

NAME = "chatplugin"


def raw_message(source_channel_id: str, visitor_id: str, message_id: str, content: Any,
                sent_at_ms: int) -> bytes:
    """The raw record of one visitor message."""
    return json.dumps({"source_channel_id": source_channel_id, "visitor_id": visitor_id,
                       "message_id": message_id, "content": content,
                       "sent_at_ms": sent_at_ms}, separators=(",", ":")).encode()


def routing_key(body: bytes) -> str:
    """The visitor's id: their conversation's messages stay in order."""
    return json_field(body, "visitor_id")


def translate(raw: RawEvent) -> list[Event]:
    """The visitor's message."""
    try:
        payload = json_values.loads(raw.body)
        visitor = payload["visitor_id"]
        return [InboundMessage(
            source=NAME,
            source_channel_id=payload["source_channel_id"],
            source_conversation_key=visitor,
            source_message_id=payload["message_id"],
            from_contact=True,
            sent_at_ms=epoch_ms(payload["sent_at_ms"], "sent_at_ms"),
            content=payload["content"],
            sender_id=visitor,
        )]
    except (ValueError, KeyError, TypeError) as exc:
        raise TranslationError(f"chat plugin record is malformed: {exc!r}") from exc


SOURCE = Source(
    name=NAME,
    translate=translate,
    # A chat plugin has no id at any source: each connect makes a new channel.
    channels=(ChannelKind(source=NAME, label="Chatplugin", required=("name",),
                          channel_key=lambda request: str(uuid.uuid4()), idempotent=False,
                          delivered_on_visitor_stream=True),),
)
