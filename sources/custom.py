"""Custom sources: batches posted to `/sources.webhook` by an app with a source token.

There is no webhook to verify: `SourcesService` authenticates the calling source by its token,
checks the batch with `events` (so a bad item is a 400 and nothing is written), and appends the
batch, with the source's id added, to `source.custom.events`:

    {"source_id": "my-crm", "messages": [...], "metadata": [...]}

Items are as `/sources.webhook` takes them (`SourceMessage`, `SourceMetadata` in
`proto/parley/v1/sources.proto`). Ids derive from the source's own ids (its channel, conversation
and message ids), so posting a batch again changes nothing. `sent_at` is RFC 3339 or a number of
epoch milliseconds, as the seeds' API accepts both.

Sending: Custom sources: a message is POSTed to the source's `action_endpoint`, signed.

Not keyed by a `Message.source` of its own: every custom source (a source id of its own making)
sends through this module, configured from its source record rather than the environment
(`config_for_source`): `api_url` is the action endpoint, `auth_token` the source's token.

The request is `{"type": "message.send", "payload": {"message": {id, content, sent_at},
"conversation": {id, source_conversation_id, source_channel_id}}}` with Standard Webhooks
headers (`webhook-id` = the message id, the same on every retry; `webhook-timestamp`;
`webhook-signature`) signed with the source's token as the key (its UTF-8 bytes; libraries that
take a `whsec_` string take `"whsec_" + base64(token)`). The endpoint answers 2xx with
`{"source_message_id"}` (delivered), a 4xx with `{"error"}` (failed with that error), or 429/5xx
(tried again, as for every source).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from parley.v1 import records_pb2

from runtime import json_values, timestamps
from runtime.standard_webhooks import signed_headers
from sources.inbound import (Event, InboundMessage, MetadataUpdate, RawEvent, TranslationError,
                             epoch_ms, json_field)
from sources.outbound import (ConnectorConfig, Delivered, Outbound, Outcome, Rejected, by_status,
                              json_body)
from sources.spec import Connector, Source

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


# Sending.

def config_for_source(record: records_pb2.SourceRecord) -> ConnectorConfig:
    """The connector configuration of a custom source: its action endpoint and its token."""
    return ConnectorConfig(api_url=record.source.action_endpoint, auth_token=record.token)


def conversation_key(recipient: str) -> str:
    """The source's conversation id, as the source ingested it."""
    return recipient


def request(outbound: Outbound, config: ConnectorConfig,
            now: datetime | None = None) -> httpx.Request:
    """POST the `message.send` action to the action endpoint, signed with the source's token."""
    sent_at = now or datetime.now(UTC)
    body = json.dumps({"type": "message.send", "payload": {
        "message": {"id": outbound.message_id, "content": outbound.content,
                    "sent_at": timestamps.format_ms(int(sent_at.timestamp() * 1000))},
        "conversation": {"id": outbound.conversation_id,
                         "source_conversation_id": outbound.recipient,
                         "source_channel_id": outbound.source_channel_id},
    }}, separators=(",", ":"))
    return httpx.Request("POST", config.api_url, content=body.encode(), headers=signed_headers(
        config.auth_token.encode(), outbound.message_id, body, sent_at))


def outcome(response: httpx.Response) -> Outcome:
    """Delivered under the answer's `source_message_id`; the answer's `error` otherwise."""
    body = json_body(response)
    if not response.is_success:
        error = body.get("error")
        return by_status(response, error if isinstance(error, str) else "")
    source_message_id = body.get("source_message_id")
    if isinstance(source_message_id, str) and source_message_id:
        return Delivered(source_message_id)
    return Rejected(f"HTTP {response.status_code} without a source_message_id")


#: The connector of every custom source, configured from its record (`config_for_source`). A
#: custom source's app starts conversations by ingesting them: Parley has no address book.
CONNECTOR = Connector(default_api_url="", request=request, outcome=outcome,
                      conversation_key=conversation_key)

#: Custom sources' channels are created by `/sources.webhook` batches, not connected.
SOURCE = Source(name=NAME, translate=translate)
