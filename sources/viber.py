"""Viber REST bot API callbacks on `/viber`.

Events: `message` (a user's message), `delivered` / `seen` / `failed` (receipts of Parley's
messages), `subscribed` and `conversation_started` (no message, but the user's name and avatar),
`unsubscribed` and `webhook` (nothing to record). Other event names are ignored.

Ids. Viber callbacks carry no bot id, and Parley connects one Viber bot per install (its auth
token is app-level configuration), so `source_channel_id` is the constant "viber". The
conversation key and sender id are the user's id (`sender.id`, `user.id` or `user_id`).
`message_token` is a 64-bit number: `runtime.json_values.loads` keeps one above 2^53 as its exact
decimal digits, and `source_message_id` is those digits, so no precision is ever lost.

Receipts map to {"source": {"delivery_state": "delivered"|"read"|"failed"}}; a `failed` one adds
Viber's description as "error".

Sending: Viber REST bot API: send a message to a subscriber of the bot.

Follows https://creators.viber.com/docs/bots-api/resources/messaging/send-message: POST
`/pa/send_message` with `X-Viber-Auth-Token: <bot token>` and `{"receiver", "sender": {"name"},
"min_api_version", "type", ...}`. Viber answers HTTP 200 whatever happened: `status` 0 and a 64-bit
`message_token` on success, else a failure `status` and `status_message`
(https://creators.viber.com/docs/bots-api/errors).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx

from runtime import json_values
from sources.inbound import (Event, InboundMessage, MetadataUpdate, RawEvent, SourceConfig,
                             TranslationError, WebhookRequest, check_signature, contact_update,
                             epoch_ms, signature, signing_key)
from sources.outbound import (ConnectorConfig, Delivered, Outbound, Outcome, Rejected, Retry,
                              by_status, json_body)
from sources.settings import SourceSettings, api_url, secret
from sources.spec import ChannelKind, Connector, Source, Webhook

SIGNATURE_HEADER = "X-Viber-Content-Signature"

NAME = "viber"
#: The one Viber bot of an install (see the module docstring).
CHANNEL_ID = "viber"

_RECEIPT_STATES = {"delivered": "delivered", "seen": "read", "failed": "failed"}
_CONTACT_EVENTS = ("subscribed", "conversation_started")


def verify(request: WebhookRequest, config: SourceConfig) -> None:
    """Check `X-Viber-Content-Signature` = hex(HMAC-SHA256(auth token, raw body))."""
    provided = signature(request, SIGNATURE_HEADER).lower()
    key = signing_key(config.auth_token, "the Viber auth token")
    expected = hmac.new(key, request.body, hashlib.sha256).hexdigest().encode()
    check_signature(expected, provided, SIGNATURE_HEADER)


def _user_id(payload: dict[str, Any]) -> str:
    """The user an event concerns, whichever field the event names it in."""
    holders = ((payload.get("sender"), "id"), (payload.get("user"), "id"), (payload, "user_id"))
    for holder, key in holders:
        value = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(value, str) and value:
            return value
    return ""


def routing_key(body: bytes) -> str:
    """The user's id, else the channel key."""
    try:
        payload = json_values.loads(body)
        return (_user_id(payload) if isinstance(payload, dict) else "") or CHANNEL_ID
    except Exception:  # noqa: BLE001 - the contract: never raises
        return CHANNEL_ID


def _token(payload: dict[str, Any]) -> str:
    token = payload.get("message_token")
    # loads gives an int up to 2^53 and the exact digits beyond it; both print the same digits.
    if isinstance(token, int) and not isinstance(token, bool):
        return str(token)
    if isinstance(token, str) and token.isascii() and token.lstrip("-").isdigit():
        return token
    raise TranslationError(f"viber message_token is not an integer: {token!r}")


def _contact(user: dict[str, Any]) -> dict[str, str]:
    """The display name and avatar URL a user object gives."""
    contact = {}
    for field, key in (("display_name", "name"), ("avatar_url", "avatar")):
        value = user.get(key)
        if isinstance(value, str) and value:
            contact[field] = value
    return contact


def _message(payload: dict[str, Any], user_id: str) -> list[Event]:
    sender, content = payload.get("sender"), payload.get("message")
    timestamp = payload.get("timestamp")
    if not isinstance(sender, dict) or not isinstance(content, dict):
        raise TranslationError("viber message event lacks sender or message")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise TranslationError(f"viber timestamp is not epoch milliseconds: {timestamp!r}")
    epoch_ms(timestamp, "viber timestamp")
    contact = _contact(sender)
    message = InboundMessage(
        source=NAME,
        source_channel_id=CHANNEL_ID,
        source_conversation_key=user_id,
        source_message_id=_token(payload),
        from_contact=True,
        sent_at_ms=timestamp,
        content=content,
        sender_id=user_id,
        sender_name=contact.get("display_name", ""),
        sender_avatar_url=contact.get("avatar_url", ""),
    )
    return [message, *contact_update(NAME, CHANNEL_ID, user_id, contact)]


def translate(raw: RawEvent) -> list[Event]:
    """A user's message, receipts as delivery states, and names from subscription events."""
    try:
        payload = json_values.loads(raw.body)
    except (UnicodeDecodeError, ValueError) as error:
        raise TranslationError(f"viber body is not JSON: {error}") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        raise TranslationError("viber body is not a callback (no event)")
    event = payload["event"]
    if event not in _RECEIPT_STATES and event not in _CONTACT_EVENTS and event != "message":
        return []  # unsubscribed, webhook, and events newer than this adapter
    user_id = _user_id(payload)
    if not user_id:
        raise TranslationError(f"viber {event} event names no user")

    if event == "message":
        return _message(payload, user_id)
    if event in _CONTACT_EVENTS:
        user = payload.get("user")
        return contact_update(NAME, CHANNEL_ID, user_id, _contact(user) if isinstance(user, dict) else {})
    state: dict[str, Any] = {"delivery_state": _RECEIPT_STATES[event]}
    if event == "failed" and isinstance(payload.get("desc"), str):
        state["error"] = payload["desc"]
    return [
        MetadataUpdate(
            source=NAME,
            source_channel_id=CHANNEL_ID,
            subject="message",
            source_conversation_key=user_id,
            source_message_id=_token(payload),
            data={"source": state},
        )
    ]


# Sending.

#: `status` 12, "Too many requests": Viber's rate limit (100 messages an hour to a user who does
#: not answer), the only failure it documents as passing; every other status is final.
_TOO_MANY_REQUESTS = 12
#: Viber refuses a longer `sender.name`.
_MAX_SENDER_NAME = 28


def conversation_key(recipient: str) -> str:
    """The Viber user id as given: ingest keys a conversation by the user's id as well."""
    return recipient


def request(outbound: Outbound, config: ConnectorConfig) -> httpx.Request:
    """POST `{api_url}/pa/send_message`: the content (e.g. `{"type": "text", "text": "hi"}`) from
    the channel's name. The content may set `min_api_version` (default 1) and `sender`; content
    that is not an object is sent as a text message (its `str`)."""
    content = outbound.content
    message = content if isinstance(content, dict) else {"type": "text", "text": str(content)}
    return httpx.Request(
        "POST",
        f"{config.api_url}/pa/send_message",
        headers={"X-Viber-Auth-Token": config.auth_token},
        json={"min_api_version": 1, "sender": {"name": outbound.channel_name[:_MAX_SENDER_NAME]},
              # The receiver goes last: content must not send the message to someone else.
              **message, "receiver": outbound.recipient},
    )


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _sent_token(value: Any) -> str:
    """The message token's digits, "" without one. json reads integers exactly, so a token beyond
    2^53 keeps every digit (it never goes through a float)."""
    text = str(value) if _integer(value) is not None or isinstance(value, str) else ""
    return text if text.isascii() and text.isdigit() else ""


def outcome(response: httpx.Response) -> Outcome:
    """Delivered under `message_token` when `status` is 0; Viber's `status_message` and status
    otherwise (retried for "Too many requests"); HTTP failures by their status."""
    body = json_body(response)
    status = _integer(body.get("status"))
    message = body.get("status_message")
    message = message if isinstance(message, str) else ""
    if not response.is_success or status is None:
        return by_status(response, message)
    if status == 0:
        token = _sent_token(body.get("message_token"))
        return Delivered(token) if token else Rejected("Viber status 0 without a message_token")
    error = f"{message} (Viber status {status})"
    return Retry(error) if status == _TOO_MANY_REQUESTS else Rejected(error)


SOURCE = Source(
    name=NAME,
    translate=translate,
    webhook=Webhook(rpc="Viber", verify=verify, routing_key=routing_key),
    channels=(ChannelKind(source=NAME, label="Viber", required=(),
                          channel_key=lambda request: CHANNEL_ID),),
    # A bot may only write to users who subscribed or wrote to it first.
    connector=Connector(default_api_url="https://chatapi.viber.com", request=request,
                        outcome=outcome, conversation_key=conversation_key),
    settings=SourceSettings(
        auth_token=secret("PARLEY_VIBER_AUTH_TOKEN",
                          "the Viber bot's auth token (one bot per install): verifies its "
                          "webhooks, authenticates sending"),
        api_url=api_url(NAME)),
)
