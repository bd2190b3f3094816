"""What every source's inbound side works with: the webhook request, app-level secrets, raw
events, and the normalized events a `translate` returns (`sources.spec.Source` says what each
source provides)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from runtime import json_values, timestamps


class SignatureMissing(Exception):
    """The request carries no signature (HTTP 401)."""


class SignatureInvalid(Exception):
    """The request's signature does not match, or the source is not configured (HTTP 403)."""


class TranslationError(Exception):
    """The raw payload cannot be translated; the message says why."""


def signature(request: WebhookRequest, header: str) -> str:
    """The signature in `header` (case-insensitive name); SignatureMissing when absent or blank."""
    value = request.headers.get(header.lower(), "").strip()
    if not value:
        raise SignatureMissing(f"{header} header is missing")
    return value


def signing_key(secret: str, what: str) -> bytes:
    """The configured secret as a key; SignatureInvalid when none is configured (an empty key
    would accept forged bodies)."""
    if not secret:
        raise SignatureInvalid(f"{what} is not configured")
    return secret.encode()


def check_signature(expected: bytes, provided: str, header: str) -> None:
    """Compare in constant time; SignatureInvalid on a mismatch. The provided side is attacker
    input: bytes on both sides, since compare_digest rejects non-ASCII str."""
    if not hmac.compare_digest(expected, provided.encode("utf-8", "replace")):
        raise SignatureInvalid(f"{header} does not match the body")


def epoch_ms(value: Any, what: str) -> int:
    """A source's time, epoch milliseconds, as an int; TranslationError unless it is a time from
    1970 to 9999 (`timestamps.check_ms`: no RFC 3339 text can hold others)."""
    try:
        return timestamps.check_ms(value, what)
    except ValueError as exc:
        raise TranslationError(str(exc)) from None


def json_field(body: bytes, name: str) -> str:
    """The top-level field `name` of a JSON object `body` as text, "" when there is none or the
    body is unreadable (never raises: routing keys come from it)."""
    try:
        payload = json_values.loads(body)
        value = payload.get(name, "") if isinstance(payload, dict) else ""
        return value if isinstance(value, str) else ""
    except Exception:  # noqa: BLE001 - the contract: never raises
        return ""


@dataclass(frozen=True)
class WebhookRequest:
    """An inbound webhook as Envoy handed it over."""

    #: The body, byte for byte.
    body: bytes
    #: Request headers, names in lower case.
    headers: Mapping[str, str]
    #: The public URL the source called: configured public base URL + original path and query.
    url: str


@dataclass(frozen=True)
class SourceConfig:
    """App-level secrets of one source, from configuration (never logged, never returned)."""

    #: Meta app secret: key of X-Hub-Signature-256.
    app_secret: str = ""
    #: Meta verify token of the GET subscription handshake.
    verify_token: str = ""
    #: Twilio auth token (X-Twilio-Signature) or Viber auth token (X-Viber-Content-Signature).
    auth_token: str = ""
    #: Google Business Messages client token (X-Goog-Signature).
    client_token: str = ""


@dataclass(frozen=True)
class RawEvent:
    """A record of a raw topic, as `translate` receives it."""

    #: The webhook body, byte for byte.
    body: bytes
    #: Its content type (Twilio posts forms, the others JSON).
    content_type: str
    #: When Parley received it, Unix epoch milliseconds (for sources that give no time).
    received_at_ms: int


@dataclass(frozen=True)
class InboundMessage:
    """A message of a conversation, from the contact or (echo) from the channel's own side."""

    #: Source name as channels carry it: "facebook", "twilio.sms", "twilio.whatsapp", ...
    source: str
    #: The source's id of the channel (page id, phone number, GBM agent id, ...).
    source_channel_id: str
    #: The source's id of the contact, which keys the conversation (PSID, From number, ...).
    source_conversation_key: str
    #: The source's message id (mid, wamid, MessageSid, message_token, messageId).
    source_message_id: str
    #: True for the contact's messages, False for the channel's own (echoes).
    from_contact: bool
    #: The source's own timestamp, Unix epoch milliseconds.
    sent_at_ms: int
    #: The source's message payload, untouched (JSON-compatible; big integers as strings).
    content: Any
    #: The sender's source id.
    sender_id: str
    #: The sender's display name, when the source gives it.
    sender_name: str = ""
    #: The sender's avatar URL, when the source gives it.
    sender_avatar_url: str = ""


@dataclass(frozen=True)
class MetadataUpdate:
    """A deep-merge update of a message's or a conversation's metadata.

    Conventions: delivery and read receipts -> subject "message",
    data {"source": {"delivery_state": "delivered"|"read"}}; reactions -> subject "message",
    data {"reactions": {<sender id>: {"emoji": ..., "sent_at": ...}}} ("" emoji = removed);
    contact names and avatars -> subject "conversation",
    data {"contact": {"display_name": ..., "avatar_url": ...}}.
    """

    source: str
    source_channel_id: str
    subject: Literal["message", "conversation"]
    source_conversation_key: str
    #: For subject "message": the source's id of the message the update is about.
    source_message_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)


Event = InboundMessage | MetadataUpdate


def contact_update(source: str, channel: str, conversation_key: str,
                   contact: dict[str, str]) -> list[Event]:
    """The conversation metadata naming its contact (`display_name`, `avatar_url`), none when
    the source named nothing."""
    found = {key: value for key, value in contact.items() if value}
    if not found:
        return []
    return [MetadataUpdate(source=source, source_channel_id=channel, subject="conversation",
                           source_conversation_key=conversation_key, data={"contact": found})]
