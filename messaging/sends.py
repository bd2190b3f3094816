"""Outbound messages as records (pure functions): the pending message messages.send writes, and
the delivered or failed update a connector writes after trying it."""

from __future__ import annotations

from google.protobuf import struct_pb2

from parley.v1 import records_pb2, resources_pb2
from runtime import timestamps
from runtime.errors import InvalidArgument
from sources import CHANNEL_KINDS
from store.client import metadata_record

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
#: The sender of messages sent by a caller the edge did not name (a call to the service's own
#: port, which the edge does not see).
ANONYMOUS_SENDER = "parley-anonymous"
MAX_IDEMPOTENCY_KEY = 255
#: Sources whose outbound messages no connector sends: the chat plugin's are delivered when they
#: reach the visitor's stream (`gateway.chatplugin_service`).
DELIVERED_ON_VISITOR_STREAM = frozenset(
    kind.source for kind in CHANNEL_KINDS.values() if kind.delivered_on_visitor_stream)


def check_content(message: struct_pb2.Value, present: bool) -> None:
    """InvalidArgument unless `message` (messages.send's body) says something."""
    kind = message.WhichOneof("kind") if present else None
    empty = (
        kind in (None, "null_value")
        or (kind == "string_value" and not message.string_value.strip())
        or (kind == "struct_value" and not message.struct_value.fields)
        or (kind == "list_value" and not message.list_value.values)
    )
    if empty:
        raise InvalidArgument("message is required and must not be empty")


def check_idempotency_key(key: str) -> None:
    """InvalidArgument for a key longer than the API allows."""
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidArgument(f"idempotency_key is longer than {MAX_IDEMPOTENCY_KEY} characters")


def pending(message_id: str, content: struct_pb2.Value, *, conversation_id: str, channel_id: str,
            contact_id: str, source: str, recipient: str, now_ms: int,
            sender: str) -> records_pb2.MessageRecord:
    """A message to send, as messages.send accepts it from `sender` (the API token's name)."""
    record = records_pb2.MessageRecord(
        conversation_id=conversation_id, channel_id=channel_id, contact_id=contact_id,
        sent_at_ms=now_ms, recipient_source_id=recipient, pending_since_ms=now_ms,
        message=resources_pb2.Message(
            id=message_id, delivery_state=PENDING, state=PENDING, from_contact=False,
            sent_at=timestamps.format_ms(now_ms), source=source,
            sender=resources_pb2.Sender(id=sender or ANONYMOUS_SENDER),
        ),
    )
    record.message.content.CopyFrom(content)
    return record


def with_state(record: records_pb2.MessageRecord, state: str) -> records_pb2.MessageRecord:
    """A copy of `record` in delivery state `state`."""
    updated = records_pb2.MessageRecord()
    updated.CopyFrom(record)
    updated.message.delivery_state = updated.message.state = state
    return updated


def delivered(record: records_pb2.MessageRecord, source_message_id: str) -> records_pb2.MessageRecord:
    """`record` delivered under the source's id (`metadata.source.id`: how echoes are matched)."""
    updated = with_state(record, DELIVERED)
    updated.message.metadata.update({"source": {"id": source_message_id}})
    return updated


def failed(record: records_pb2.MessageRecord, error: str) -> records_pb2.MessageRecord:
    """`record` failed with `error` (`metadata.error`), which it carries itself too: its
    `message.updated` event then says why, whenever the error's own metadata record is
    projected."""
    updated = with_state(record, FAILED)
    updated.message.metadata.update({"error": error})
    return updated


def error_metadata(message_id: str, error: str) -> records_pb2.MetadataRecord:
    """`metadata.error` of a message that could not be sent."""
    return metadata_record("message", message_id, {"error": error})


def resent(record: records_pb2.MessageRecord, now_ms: int) -> records_pb2.MessageRecord:
    """A failed `record` pending again, from now on, without its error."""
    updated = with_state(record, PENDING)
    updated.pending_since_ms = now_ms
    if "error" in updated.message.metadata.fields:
        del updated.message.metadata.fields["error"]
    return updated
