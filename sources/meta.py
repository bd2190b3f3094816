"""What the three Meta sources (Messenger, Instagram, WhatsApp Cloud) share.

- `verify_signature`: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`;
- `verify_subscription`: the GET `hub.mode=subscribe&hub.verify_token&hub.challenge` handshake;
- `load_entries` and small readers for the `{"object", "entry": [...]}` envelope;
- `translate_messaging` / `messaging_routing_key`: the `entry[].messaging[]` events that Messenger
  and Instagram deliver in the same shape;
- `graph_profile`: the Graph API's profile of the person a Messenger or Instagram conversation is
  with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

import httpx

from runtime.json_values import loads
from sources.inbound import (Event, InboundMessage, MetadataUpdate, RawEvent, SignatureInvalid,
                             SourceConfig, TranslationError, WebhookRequest, check_signature,
                             epoch_ms, signature, signing_key)
from sources.spec import Profile, ProfileApi

#: Looked up in lower case (see `WebhookRequest.headers`).
SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE_PREFIX = "sha256="
#: Ids made up for postbacks that carry no `mid`. Meta's mids start with "m_", "mid." or are
#: base64 (Instagram), so this prefix can never equal a real mid.
POSTBACK_ID_PREFIX = "parley-postback:"


def verify_signature(request: WebhookRequest, config: SourceConfig) -> None:
    """Check `X-Hub-Signature-256` over the raw body, in constant time.

    Raises `SignatureMissing` without the header; `SignatureInvalid` when it is malformed or does
    not match, or when no app secret is configured (an empty key would accept forged bodies).
    """
    header = signature(request, SIGNATURE_HEADER)
    key = signing_key(config.app_secret, "the Meta app secret")
    if not header.startswith(_SIGNATURE_PREFIX):
        raise SignatureInvalid(f"{SIGNATURE_HEADER} is not of the form sha256=<hex>")
    expected = hmac.new(key, request.body, hashlib.sha256).hexdigest().encode()
    check_signature(expected, header[len(_SIGNATURE_PREFIX) :].lower(), SIGNATURE_HEADER)


def verify_subscription(mode: str, verify_token: str, challenge: str, config: SourceConfig) -> str:
    """Answer Meta's GET handshake: the challenge when mode is "subscribe" and the token matches.

    Raises `SignatureInvalid` otherwise; an empty configured token never matches.
    """
    expected = config.verify_token.encode()
    matches = hmac.compare_digest(expected, verify_token.encode("utf-8", "replace"))
    if mode != "subscribe" or not expected or not matches:
        raise SignatureInvalid("subscription handshake refused: wrong mode or verify token")
    return challenge


# --- Envelope readers ---------------------------------------------------------------------------


def load_entries(body: bytes, expected_object: str) -> list[dict[str, Any]]:
    """The `entry` list of a Meta webhook body whose `object` is `expected_object`.

    Raises `TranslationError` on invalid JSON, another `object`, or a malformed `entry`.
    """
    try:
        payload = loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise TranslationError(f"body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise TranslationError("body is not a JSON object")
    if payload.get("object") != expected_object:
        raise TranslationError(f"object is {payload.get('object')!r}, expected {expected_object!r}")
    entries = dict_list(payload.get("entry"), "entry")
    if not entries:
        raise TranslationError("body has no entry")
    return entries


def dict_list(value: Any, what: str) -> list[dict[str, Any]]:
    """A JSON array of objects; absent means empty. Raises `TranslationError` for another shape."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TranslationError(f"{what} is not an array of objects")
    return value


def text_id(value: Any) -> str:
    """An id as text: Meta sends strings, but a number is accepted (bools and others are not)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def as_int(value: Any) -> int | None:
    """An integer given as a number or as decimal text (WhatsApp sends timestamps as text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def reaction_data(sender_id: str, emoji: str, sent_at_ms: int) -> dict[str, Any]:
    """Metadata of a reaction (`""` emoji = removed), as `MetadataUpdate` documents it."""
    return {"reactions": {sender_id: {"emoji": emoji, "sent_at": sent_at_ms}}}


def delivery_data(state: str) -> dict[str, Any]:
    """Metadata of a delivery receipt: {"source": {"delivery_state": state}}."""
    return {"source": {"delivery_state": state}}


# --- Messenger / Instagram `messaging[]` --------------------------------------------------------


def _party(item: dict[str, Any], role: str) -> str:
    value = item.get(role)
    return text_id(value.get("id")) if isinstance(value, dict) else ""


def _is_echo(item: dict[str, Any]) -> bool:
    message = item.get("message")
    return isinstance(message, dict) and message.get("is_echo") is True


def _contact_key(channel: str, item: dict[str, Any]) -> str:
    """The user's id: the sender, or the recipient when the page / account itself is the sender."""
    sender = _party(item, "sender")
    if _is_echo(item) or (sender and sender == channel):
        return _party(item, "recipient")
    return sender


def _items(entry: dict[str, Any]) -> list[dict[str, Any]]:
    # `standby` carries the same events while another app owns the thread (handover protocol);
    # they belong to the conversation all the same, and ids are deterministic, so both are read.
    return dict_list(entry.get("messaging"), "entry.messaging") + dict_list(
        entry.get("standby"), "entry.standby"
    )


def translate_messaging(source: str, expected_object: str, raw: RawEvent) -> list[Event]:
    """Translate a Messenger (`object: "page"`) or Instagram (`"instagram"`) webhook body."""
    events: list[Event] = []
    for entry in load_entries(raw.body, expected_object):
        channel = text_id(entry.get("id"))
        if not channel:
            raise TranslationError("entry has no id")
        for item in _items(entry):
            events.extend(_translate_item(source, channel, item, raw.received_at_ms))
    return events


def _translate_item(
    source: str, channel: str, item: dict[str, Any], received_at_ms: int
) -> list[Event]:
    contact = _contact_key(channel, item)
    if not contact:
        raise TranslationError("messaging item has no sender / recipient id")
    timestamp = as_int(item.get("timestamp"))
    sent_at = epoch_ms(timestamp, "timestamp") if timestamp is not None else received_at_ms

    def update(
        subject: Literal["message", "conversation"], data: dict[str, Any], message_id: str = ""
    ) -> MetadataUpdate:
        return MetadataUpdate(source, channel, subject, contact, message_id, data)

    if isinstance(message := item.get("message"), dict):
        mid = text_id(message.get("mid"))
        if not mid:
            raise TranslationError("message has no mid")
        outgoing = _is_echo(item) or _party(item, "sender") == channel
        return [
            InboundMessage(
                source=source,
                source_channel_id=channel,
                source_conversation_key=contact,
                source_message_id=mid,
                from_contact=not outgoing,
                sent_at_ms=sent_at,
                content=message,
                sender_id=channel if outgoing else contact,
            )
        ]
    if isinstance(postback := item.get("postback"), dict):
        mid = text_id(postback.get("mid")) or _postback_id(contact, timestamp, postback)
        return [InboundMessage(source, channel, contact, mid, True, sent_at, postback, contact)]
    if isinstance(delivery := item.get("delivery"), dict):
        mids = delivery.get("mids") or []  # Meta: "mids" may be absent (watermark only)
        if not isinstance(mids, list):
            raise TranslationError("delivery.mids is not an array")
        delivered = delivery_data("delivered")
        return [update("message", delivered, text_id(m)) for m in mids if text_id(m)]
    if isinstance(read := item.get("read"), dict):
        events: list[Event] = []
        if (watermark := as_int(read.get("watermark"))) is not None:  # Messenger message_reads
            events.append(update("conversation", {"source": {"read_watermark": watermark}}))
        if mid := text_id(read.get("mid")):  # Instagram messaging_seen names the message read
            events.append(update("message", delivery_data("read"), mid))
        return events
    if isinstance(reaction := item.get("reaction"), dict):
        mid = text_id(reaction.get("mid"))
        if not mid:
            raise TranslationError("reaction has no mid")
        emoji = "" if reaction.get("action") == "unreact" else _emoji(reaction)
        reactor = _party(item, "sender") or contact
        return [update("message", reaction_data(reactor, emoji, sent_at), mid)]
    return []  # optin, referral, message_edit, handover...: nothing for the conversation store


def _emoji(reaction: dict[str, Any]) -> str:
    # A "react" without an emoji keeps its name ("love") so it never reads as a removal ("").
    for key in ("emoji", "reaction"):
        if isinstance(value := reaction.get(key), str) and value:
            return value
    return ""


def _postback_id(contact: str, timestamp: int | None, postback: dict[str, Any]) -> str:
    # Postbacks before Graph v11 carry no mid: derive one from what identifies the tap, so a
    # redelivery yields the same id.
    payload = json.dumps(postback.get("payload"), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(f"{contact}\x1f{timestamp}\x1f{payload}".encode()).hexdigest()
    return POSTBACK_ID_PREFIX + digest[:32]


def messaging_routing_key(body: bytes, expected_object: str) -> str:
    """The user's id when every `messaging[]` item concerns the same user, else the page /
    account id of the first entry; "" for a body that cannot be read (never raises)."""
    try:
        entries = load_entries(body, expected_object)
        keys = {_contact_key(text_id(e.get("id")), item) for e in entries for item in _items(e)}
        if len(keys) == 1 and (key := keys.pop()):
            return key
        return text_id(entries[0].get("id"))
    except Exception:  # the contract: a routing key, never an error, whatever the body
        return ""


def graph_profile(fields: str, name: Callable[[dict[str, Any]], str]) -> ProfileApi:
    """The Graph API's profile of a person who wrote to a Page or an Instagram account:
    `GET {api}/{id}?fields=...` with the channel's page token; `name` reads their name."""

    def request(api_url: str, contact_id: str, secrets: dict[str, str]) -> httpx.Request:
        return httpx.Request("GET", f"{api_url}/{quote(contact_id, safe='')}", params={
            "fields": fields, "access_token": secrets.get("page_token", "")})

    def read(body: dict[str, Any]) -> Profile:
        picture = body.get("profile_pic")
        return Profile(name(body), picture if isinstance(picture, str) else "")

    return ProfileApi(request=request, read=read)


def texts(body: dict[str, Any], *fields: str) -> list[str]:
    """The non-empty text values of `fields` in `body`, in that order."""
    return [v for f in fields if isinstance(v := body.get(f), str) and v]
