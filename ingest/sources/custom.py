"""Custom sources: batches posted to `/sources.webhook` by an app with a source token.

There is no webhook to verify: `SourcesService` authenticates the calling source by its token,
checks the batch with `events` (so a bad item is a 400 and nothing is written), and appends the
batch, with the source's id added, to `source.custom.events`:

    {"source_id": "my-crm", "messages": [...], "metadata": [...]}

Items are as `/sources.webhook` takes them (`SourceMessage`, `SourceMetadata` in
`proto/parley/v1/sources.proto`). Ids derive from the source's own ids (its channel, conversation
and message ids), so posting a batch again changes nothing. `sent_at` is RFC 3339 or a number of
epoch milliseconds, as the seeds' API accepts both.
"""

from __future__ import annotations

from typing import Any

from ingest.sources.base import (
    Event,
    InboundMessage,
    MetadataUpdate,
    RawEvent,
    TranslationError,
    epoch_ms,
    json_field,
)
from runtime import json_values, timestamps

NAME = "custom"

#: Subjects a source's metadata item may name.
SUBJECTS = ("conversation", "message")


def routing_key(body: bytes) -> str:
    """The source's id: one source's batches stay in order on one partition."""
    return json_field(body, "source_id")


def _text(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value.strip():
        raise TranslationError(f"{where}: {name} is required")
    return value


def sent_at_ms(value: Any, where: str) -> int:
    """Epoch milliseconds of a `sent_at` given as RFC 3339 text or a number of milliseconds, a
    time from 1970 to 9999."""
    try:
        return epoch_ms(timestamps.parse_ms(value) if isinstance(value, str) else value, "sent_at")
    except (ValueError, OverflowError, TranslationError):
        raise TranslationError(f"{where}: sent_at must be an RFC 3339 time or epoch milliseconds "
                               f"from 1970 to 9999, got {value!r}") from None


def _message(source_id: str, item: dict[str, Any], where: str) -> InboundMessage:
    content = item.get("content")
    if content in (None, "", {}, []):
        raise TranslationError(f"{where}: content is required")
    sender = _text(item, "source_sender_id", where)
    return InboundMessage(
        source=source_id,
        source_channel_id=_text(item, "source_channel_id", where),
        source_conversation_key=_text(item, "source_conversation_id", where),
        source_message_id=_text(item, "source_message_id", where),
        from_contact=bool(item.get("from_contact", False)),
        sent_at_ms=sent_at_ms(item.get("sent_at"), where),
        content=content,
        sender_id=sender,
    )


def _metadata(source_id: str, item: dict[str, Any], where: str) -> MetadataUpdate:
    subject = item.get("subject")
    if subject not in SUBJECTS:
        raise TranslationError(f"{where}: subject must be one of {', '.join(SUBJECTS)}")
    data = item.get("data")
    if not isinstance(data, dict) or not data:
        raise TranslationError(f"{where}: data must be a non-empty object")
    subject_id = _text(item, "source_id", where)
    return MetadataUpdate(
        source=source_id,
        source_channel_id=_text(item, "source_channel_id", where),
        subject=subject,
        source_conversation_key=subject_id if subject == "conversation" else "",
        source_message_id=subject_id if subject == "message" else "",
        data=data,
    )


def events(batch: dict[str, Any]) -> list[Event]:
    """The events of a batch; TranslationError naming the first bad item (e.g. `messages[2]`)."""
    source_id = batch.get("source_id")
    if not isinstance(source_id, str) or not source_id:
        raise TranslationError("source_id is missing")
    found: list[Event] = []
    for list_name, read in (("messages", _message), ("metadata", _metadata)):
        items = batch.get(list_name) or []
        if not isinstance(items, list):
            raise TranslationError(f"{list_name} must be a list")
        for index, item in enumerate(items):
            where = f"{list_name}[{index}]"
            if not isinstance(item, dict):
                raise TranslationError(f"{where} must be an object")
            found.append(read(source_id, item, where))
    return found


def translate(raw: RawEvent) -> list[Event]:
    """The events of one batch as `SourcesService` wrote it."""
    try:
        batch = json_values.loads(raw.body)
    except ValueError as exc:
        raise TranslationError(f"custom source batch is not JSON: {exc}") from exc
    if not isinstance(batch, dict):
        raise TranslationError("custom source batch is not a JSON object")
    return events(batch)
