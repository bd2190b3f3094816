"""Custom sources: a message is POSTed to the source's `action_endpoint`, signed.

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

import httpx

from messaging.connectors.base import (
    ConnectorConfig,
    Delivered,
    Outbound,
    Outcome,
    Rejected,
    by_status,
    json_body,
)
from parley.v1 import records_pb2
from runtime import timestamps
from runtime.standard_webhooks import signed_headers

#: A custom source's app starts conversations by ingesting them: Parley has no address book.
CAN_START_CONVERSATIONS = False


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
