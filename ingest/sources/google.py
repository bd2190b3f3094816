"""Google Business Messages (GBM): the agent webhook's `UserMessage` JSON on `/google`.

Events of one user message carry exactly one payload: `message` (text, or other content, kept
untouched), `suggestionResponse` (the user tapped a suggested reply or action: a message of its
own), `receipts` (DELIVERED/READ of Parley's messages), and `userStatus`, `surveyResponse`,
`authenticationResponse`, which Parley ignores (no event).

Ids. `source_channel_id` is the agent id, the last segment of `agent`
("brands/<brand id>/agents/<agent id>"), the `gbm_id` channels are connected with. The
conversation key and the sender id are `conversationId` (GBM gives one per user and agent). A
message's id is `message.messageId`; a suggestion response has none of its own, so it uses the
event's `requestId` (GBM's dedupe key), else a hash of the raw bytes. A receipt names the message
as "conversations/<conversation id>/messages/<message id>"; its id is the last segment.

Verification request. When a webhook is configured, Google POSTs `{"clientToken", "secret"}`
once; its guide documents no `X-Goog-Signature` on it (the token in the body is the proof), so
the ingest service must answer it before `verify`: when `verification_secret` returns a
secret, reply 200 with it as the plain-text body and write nothing to Kafka. Should such a body reach the raw topic anyway, `translate` returns no events.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from ingest.sources.base import (
    Event,
    InboundMessage,
    MetadataUpdate,
    RawEvent,
    SourceConfig,
    TranslationError,
    WebhookRequest,
    check_signature,
    epoch_ms,
    signature,
    signing_key,
)
from runtime import json_values, timestamps

SIGNATURE_HEADER = "X-Goog-Signature"

NAME = "google"

#: Payloads of a user message Parley has no use for.
_IGNORED = ("userStatus", "surveyResponse", "authenticationResponse")
_RECEIPT_STATES = {"DELIVERED": "delivered", "READ": "read"}


def verify(request: WebhookRequest, config: SourceConfig) -> None:
    """Check `X-Goog-Signature` = base64(HMAC-SHA512(client token, raw body))."""
    provided = signature(request, SIGNATURE_HEADER)
    key = signing_key(config.client_token, "the Google client token")
    expected = base64.b64encode(hmac.new(key, request.body, hashlib.sha512).digest())
    check_signature(expected, provided, SIGNATURE_HEADER)


#: Larger than any verification request (`{"clientToken": ..., "secret": ...}`): only a body
#: this small is parsed before its signature is checked.
_MAX_VERIFICATION_BYTES = 4096


def verification_secret(request: WebhookRequest, config: SourceConfig) -> str | None:
    """The secret to echo (200, text/plain) if this is Google's webhook verification request
    carrying the configured client token; None for any other request."""
    if len(request.body) > _MAX_VERIFICATION_BYTES:
        return None
    try:
        payload = json_values.loads(request.body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict) or not config.client_token:
        return None
    token, secret = payload.get("clientToken"), payload.get("secret")
    if not (isinstance(token, str) and isinstance(secret, str)):
        return None
    if not hmac.compare_digest(token.encode(), config.client_token.encode()):
        return None
    return secret


def _agent_id(payload: dict[str, Any]) -> str:
    agent = payload.get("agent")
    agent_id = agent.rsplit("/", 1)[-1] if isinstance(agent, str) else ""
    if not agent_id:
        raise TranslationError("google event has no agent")
    return agent_id


def routing_key(body: bytes) -> str:
    """The `conversationId`, else the agent id (the channel key)."""
    try:
        payload = json_values.loads(body)
        conversation = payload.get("conversationId")
        if isinstance(conversation, str) and conversation:
            return conversation
        return _agent_id(payload)
    except Exception:  # noqa: BLE001 - the contract: never raises
        return ""


def _time_ms(value: Any, what: str) -> int:
    try:
        return epoch_ms(timestamps.parse_ms(value), f"google {what}")
    except (TypeError, ValueError, AttributeError, OverflowError) as error:
        raise TranslationError(f"google {what} is not an RFC 3339 time: {value!r}") from error


def _display_name(payload: dict[str, Any]) -> str:
    context = payload.get("context")
    user = context.get("userInfo") if isinstance(context, dict) else None
    name = user.get("displayName") if isinstance(user, dict) else None
    return name if isinstance(name, str) else ""


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    if not isinstance(value, dict):
        raise TranslationError(f"google {key} is not an object")
    return value


def _receipts(payload: dict[str, Any], channel: str, conversation: str) -> list[Event]:
    receipts = _object(payload, "receipts").get("receipts")
    if not isinstance(receipts, list):
        raise TranslationError("google receipts.receipts is not a list")
    events: list[Event] = []
    for receipt in receipts:
        if not isinstance(receipt, dict) or not isinstance(receipt.get("message"), str):
            raise TranslationError(f"google receipt unreadable: {receipt!r}")
        kind = receipt.get("receiptType")
        state = _RECEIPT_STATES.get(kind) if isinstance(kind, str) else None
        if state is None:  # RECEIPT_TYPE_UNSPECIFIED says nothing
            continue
        events.append(
            MetadataUpdate(
                source=NAME,
                source_channel_id=channel,
                subject="message",
                source_conversation_key=conversation,
                source_message_id=receipt["message"].rsplit("/", 1)[-1],
                data={"source": {"delivery_state": state}},
            )
        )
    return events


def translate(raw: RawEvent) -> list[Event]:
    """A user message or suggestion response as a message, receipts as delivery states."""
    try:
        payload = json_values.loads(raw.body)
    except (UnicodeDecodeError, ValueError) as error:
        raise TranslationError(f"google body is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise TranslationError("google body is not a JSON object")
    if "clientToken" in payload and "secret" in payload:
        return []  # the one-time webhook verification request: no conversation in it
    conversation = payload.get("conversationId")
    if not isinstance(conversation, str) or not conversation:
        raise TranslationError("google event has no conversationId")
    if any(key in payload for key in _IGNORED):
        return []
    channel = _agent_id(payload)
    if "receipts" in payload:
        return _receipts(payload, channel, conversation)

    if "message" in payload:
        content = _object(payload, "message")
        message_id = content.get("messageId")
        sent_at_ms = _time_ms(content.get("createTime"), "message.createTime")
    elif "suggestionResponse" in payload:
        content = _object(payload, "suggestionResponse")
        message_id = payload.get("requestId") or "sha256:" + hashlib.sha256(raw.body).hexdigest()
        sent_at_ms = _time_ms(content.get("createTime"), "suggestionResponse.createTime")
    else:
        raise TranslationError(f"google event of unknown kind: {sorted(payload)}")
    if not isinstance(message_id, str) or not message_id:
        raise TranslationError("google message has no messageId")

    name = _display_name(payload)
    events: list[Event] = [
        InboundMessage(
            source=NAME,
            source_channel_id=channel,
            source_conversation_key=conversation,
            source_message_id=message_id,
            from_contact=True,
            sent_at_ms=sent_at_ms,
            content=content,
            sender_id=conversation,
            sender_name=name,
        )
    ]
    if name:
        events.append(
            MetadataUpdate(
                source=NAME,
                source_channel_id=channel,
                subject="conversation",
                source_conversation_key=conversation,
                data={"contact": {"display_name": name}},
            )
        )
    return events
