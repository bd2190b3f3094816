"""Conversation commands as metadata records of the conversation (pure functions).

Tags, state, the contact's display name and the read marker all live in the conversation's
metadata document, as the API shows them (`tags: {<id>: ""}`, `state`, `contact.display_name`,
`read_until`); untag and remove-state remove their key path.
"""

from __future__ import annotations

from typing import Any

from parley.v1 import records_pb2
from runtime import json_values, timestamps
from runtime.errors import InvalidArgument

#: Metadata subjects clients may upsert, and the one the conversation commands write.
SUBJECTS = ("message", "conversation", "channel")


def metadata_record(
    subject: str, identifier: str, data: dict[str, Any], removed: tuple[str, ...] = ()
) -> records_pb2.MetadataRecord:
    """An upsert of `subject`'s document `identifier`: remove `removed` paths, merge `data`."""
    if subject not in SUBJECTS:
        raise InvalidArgument(f"subject must be one of {', '.join(SUBJECTS)}, got {subject!r}")
    if not identifier:
        raise InvalidArgument("id is required")
    return records_pb2.MetadataRecord(
        subject=subject, identifier=identifier, data=json_values.to_struct(data),
        updated_at_ms=timestamps.now_ms(), removed=list(removed),
    )


def tag(conversation_id: str, tag_id: str) -> records_pb2.MetadataRecord:
    """Tag a conversation."""
    if not tag_id:
        raise InvalidArgument("tag_id is required")
    return metadata_record("conversation", conversation_id, {"tags": {tag_id: ""}})


def untag(conversation_id: str, tag_id: str) -> records_pb2.MetadataRecord:
    """Remove a tag from a conversation."""
    if not tag_id or "." in tag_id:
        raise InvalidArgument("tag_id is required")
    return metadata_record("conversation", conversation_id, {}, (f"tags.{tag_id}",))


def set_state(conversation_id: str, state: str) -> records_pb2.MetadataRecord:
    """Set a conversation's state (OPEN, CLOSED or any other string)."""
    if not state.strip():
        raise InvalidArgument("state is required")
    return metadata_record("conversation", conversation_id, {"state": state})


def remove_state(conversation_id: str) -> records_pb2.MetadataRecord:
    """Remove a conversation's state."""
    return metadata_record("conversation", conversation_id, {}, ("state",))


def update_contact(conversation_id: str, display_name: str) -> records_pb2.MetadataRecord:
    """Rename a conversation's contact."""
    if not display_name.strip():
        raise InvalidArgument("display_name is required")
    return metadata_record("conversation", conversation_id, {"contact": {"display_name": display_name}})


def mark_read(conversation_id: str, read_until: str) -> records_pb2.MetadataRecord:
    """Mark a conversation read up to `read_until` (RFC 3339: its newest message's time)."""
    return metadata_record("conversation", conversation_id, {"read_until": read_until})
