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
the ingest service answers it before `verify` (`Webhook.unsigned_answer`): when
`verification_secret` returns a secret, it replies 200 with it as the plain-text body and writes
nothing to Kafka. Should such a body reach the raw topic anyway, `translate` returns no events.

Sending: Google Business Messages: an agent's message in a conversation.

Follows conversations.messages.create:
https://developers.google.com/business-communications/business-messages/reference/rest/v1/conversations.messages/create
POST `/v1/conversations/<conversation id>/messages` with `Authorization: Bearer <access token>`
and a Message (`messageId`, `representative`, `text`, ...); answered with the created Message
(`name` "conversations/<c>/messages/<id>", `messageId`). Errors are Google's
`{"error": {"code", "message", "status"}}` (https://cloud.google.com/apis/design/errors).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote

import httpx

from runtime import json_values, timestamps
from sources.inbound import (Event, InboundMessage, MetadataUpdate, RawEvent, SourceConfig,
                             TranslationError, WebhookRequest, check_signature, contact_update,
                             epoch_ms, signature, signing_key)
from sources.outbound import (ConnectorConfig, Delivered, Outbound, Outcome, by_status, json_body)
from sources.settings import SourceSettings, api_url, secret
from sources.spec import ChannelKind, Connector, Source, Webhook

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
    return events + contact_update(NAME, channel, conversation, {"display_name": name})


# Sending.

def conversation_key(recipient: str) -> str:
    """The conversation id as given: ingest keys a conversation by GBM's `conversationId`."""
    return recipient


def request(outbound: Outbound, config: ConnectorConfig) -> httpx.Request:
    """POST `{api_url}/v1/conversations/{recipient}/messages`: the content (e.g. `{"text": "hi"}`)
    as a BOT message (content may set `representative`) under Parley's message id. Content that
    is not an object is sent as text (its `str`)."""
    content = outbound.content
    message = content if isinstance(content, dict) else {"text": str(content)}
    return httpx.Request(
        "POST",
        f"{config.api_url}/v1/conversations/{quote(outbound.recipient, safe='')}/messages",
        headers={"Authorization": f"Bearer {config.auth_token}"},
        # GBM takes the agent's own unique id; Parley's id is it, so content cannot replace it.
        json={"representative": {"representativeType": "BOT"}, **message,
              "messageId": outbound.message_id},
    )


def outcome(response: httpx.Response) -> Outcome:
    """Delivered under the Message's `messageId` (else the last segment of its `name`, as
    receipts name it), else Google's error message and status."""
    body = json_body(response)
    message_id, name = body.get("messageId"), body.get("name")
    if not (isinstance(message_id, str) and message_id) and isinstance(name, str):
        message_id = name.rsplit("/", 1)[-1]
    if response.is_success and isinstance(message_id, str) and message_id:
        return Delivered(message_id)
    error = body.get("error")
    error = error if isinstance(error, dict) else {}
    message, status = error.get("message"), error.get("status")
    text = message if isinstance(message, str) else ""
    if text and isinstance(status, str) and status:
        text = f"{text} ({status})"
    return by_status(response, text)


SOURCE = Source(
    name=NAME,
    translate=translate,
    webhook=Webhook(rpc="Google", verify=verify, routing_key=routing_key,
                    unsigned_answer=verification_secret),
    channels=(ChannelKind(source=NAME, label="Google", required=("gbm_id", "name"),
                          channel_key=lambda request: request.gbm_id),),
    # Conversations exist only once a user opened one with the agent.
    connector=Connector(default_api_url="https://businessmessages.googleapis.com",
                        request=request, outcome=outcome, conversation_key=conversation_key),
    settings=SourceSettings(
        client_token=secret("PARLEY_GOOGLE_CLIENT_TOKEN",
                            "Google Business Messages client token: verifies its webhooks"),
        auth_token=secret("PARLEY_GOOGLE_AUTH_TOKEN",
                          "OAuth access token of the Business Messages API (sending)"),
        api_url=api_url(NAME)),
)
