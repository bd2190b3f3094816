"""WhatsApp Cloud API webhooks (`object: "whatsapp_business_account"`), a channel per phone number.

Each `entry[].changes[].value` with `messaging_product: "whatsapp"` carries
`metadata.phone_number_id` (the channel), `contacts[]` (profile names), `messages[]` from users
and `statuses[]` of the business's own messages. Other changes (template or account updates)
concern no conversation.

Sending: WhatsApp Cloud API: send a message from a business phone number.

Follows https://developers.facebook.com/docs/whatsapp/cloud-api/messages/text-messages: POST
`/<phone number id>/messages` with `Authorization: Bearer <user token>` and
`{"messaging_product": "whatsapp", "recipient_type": "individual", "to": <wa_id>, "type": ...}`,
answered `{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": wamid}]}`.
Errors are Graph errors with `error_data.details` (see `facebook.graph_failure`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from sources import meta
from sources.facebook import DEFAULT_API_URL, graph_failure
from sources.inbound import (Event, InboundMessage, MetadataUpdate, RawEvent, SourceConfig,
                             TranslationError, WebhookRequest, contact_update, epoch_ms)
from sources.outbound import ConnectorConfig, Delivered, Outbound, Outcome, json_body
from sources.settings import meta_app
from sources.spec import ChannelKind, Connector, Source, Webhook

NAME = "whatsapp"
#: The webhook body's `object` for WhatsApp Business Account subscriptions.
OBJECT = "whatsapp_business_account"
#: Statuses that are delivery states; others ("deleted", "warning") say nothing about delivery.
_DELIVERY_STATES = frozenset({"sent", "delivered", "read", "failed"})


def verify(request: WebhookRequest, config: SourceConfig) -> None:
    """Check `X-Hub-Signature-256` (see `meta.verify_signature`)."""
    meta.verify_signature(request, config)


def _values(body: bytes) -> list[dict[str, Any]]:
    """The WhatsApp messaging `value` objects of every entry's changes."""
    values = []
    for entry in meta.load_entries(body, OBJECT):
        for change in meta.dict_list(entry.get("changes"), "entry.changes"):
            value = change.get("value")
            if isinstance(value, dict) and value.get("messaging_product") == "whatsapp":
                values.append(value)
    return values


def _phone_number_id(value: dict[str, Any]) -> str:
    metadata = value.get("metadata")
    return meta.text_id(metadata.get("phone_number_id")) if isinstance(metadata, dict) else ""


def _sent_at_ms(item: dict[str, Any], received_at_ms: int) -> int:
    seconds = meta.as_int(item.get("timestamp"))  # Unix seconds, as text
    return epoch_ms(seconds * 1000, "timestamp") if seconds is not None else received_at_ms


def translate(raw: RawEvent) -> list[Event]:
    """WhatsApp messages, reactions, contact names and statuses as normalized events.

    Raises `TranslationError` for an unreadable body (bad JSON, another `object`, no channel id).
    """
    events: list[Event] = []
    for value in _values(raw.body):
        channel = _phone_number_id(value)
        if not channel:
            raise TranslationError("value.metadata.phone_number_id is missing")
        names: dict[str, str] = {}
        for contact in meta.dict_list(value.get("contacts"), "contacts"):
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            if (wa_id := meta.text_id(contact.get("wa_id"))) and isinstance(name, str) and name:
                names[wa_id] = name
        # Messages first, so the conversation exists before metadata about it arrives.
        for message in meta.dict_list(value.get("messages"), "messages"):
            events.append(_message(channel, message, names, raw.received_at_ms))
        for wa_id, name in names.items():
            events.extend(contact_update(NAME, channel, wa_id, {"display_name": name}))
        for status in meta.dict_list(value.get("statuses"), "statuses"):
            events.extend(_status(channel, status))
    return events


def _message(
    channel: str, message: dict[str, Any], names: dict[str, str], received_at_ms: int
) -> Event:
    sender = meta.text_id(message.get("from"))
    wamid = meta.text_id(message.get("id"))
    if not sender or not wamid:
        raise TranslationError("message without from or id")
    sent_at = _sent_at_ms(message, received_at_ms)
    reaction = message.get("reaction")
    if message.get("type") == "reaction" and isinstance(reaction, dict):
        target = meta.text_id(reaction.get("message_id"))
        if not target:
            raise TranslationError("reaction without message_id")
        # WhatsApp omits `emoji` when the user removes the reaction: "" means removed.
        given = reaction.get("emoji")
        emoji = given if isinstance(given, str) else ""
        data = meta.reaction_data(sender, emoji, sent_at)
        return MetadataUpdate(NAME, channel, "message", sender, target, data)
    return InboundMessage(
        source=NAME,
        source_channel_id=channel,
        source_conversation_key=sender,
        source_message_id=wamid,
        from_contact=True,
        sent_at_ms=sent_at,
        content=message,
        sender_id=sender,
        sender_name=names.get(sender, ""),
    )


def _status(channel: str, status: dict[str, Any]) -> list[Event]:
    state = status.get("status")
    wamid = meta.text_id(status.get("id"))
    recipient = meta.text_id(status.get("recipient_id"))
    if state not in _DELIVERY_STATES:
        return []
    if not wamid or not recipient:
        raise TranslationError("status without id or recipient_id")
    data = meta.delivery_data(state)
    if state == "failed" and "errors" in status:
        data["source"]["errors"] = status["errors"]
    return [MetadataUpdate(NAME, channel, "message", recipient, wamid, data)]


def routing_key(body: bytes) -> str:
    """The user's wa_id when every message and status concerns one user, else the phone number
    id of the first change; "" for a body that cannot be read (never raises)."""
    try:
        values = _values(body)
        users = {meta.text_id(m.get("from")) for v in values for m in v.get("messages") or []}
        users |= {
            meta.text_id(s.get("recipient_id")) for v in values for s in v.get("statuses") or []
        }
        if len(users) == 1 and (user := users.pop()):
            return user
        return _phone_number_id(values[0]) if values else ""
    except Exception:  # the contract: a routing key, never an error, whatever the body
        return ""


# Sending.

_WHATSAPP_PREFIX = "whatsapp:"
#: What people write phone numbers with besides digits and "+".
_SEPARATORS = str.maketrans("", "", " \t-().")


def dialable(recipient: str) -> str:
    """`recipient` without a "whatsapp:" prefix, spaces, dashes, dots and parentheses."""
    return recipient.strip().removeprefix(_WHATSAPP_PREFIX).translate(_SEPARATORS)


def conversation_key(recipient: str) -> str:
    """The wa_id ingest keys the contact's replies with: the number's digits without "+"
    ("+49 151-234" -> "49151234"); "" when `recipient` is no phone number."""
    digits = dialable(recipient).removeprefix("+")
    return digits if digits.isascii() and digits.isdigit() else ""


def request(outbound: Outbound, config: ConnectorConfig) -> httpx.Request:
    """POST `{api_url}/{phone_number_id}/messages`: the content (e.g. `{"type": "text", "text":
    {"body": "hi"}}`) with the recipient. Content that is not an object is sent as a text message
    (its `str`)."""
    content = outbound.content
    message = content if isinstance(content, dict) else {"type": "text",
                                                           "text": {"body": str(content)}}
    return httpx.Request(
        "POST",
        f"{config.api_url}/{quote(outbound.source_channel_id, safe='')}/messages",
        headers={"Authorization": f"Bearer {outbound.secrets.get('user_token', '')}"},
        # The addressing goes last: content must not send the message to someone else.
        json={**message, "messaging_product": "whatsapp", "recipient_type": "individual",
              "to": outbound.recipient},
    )


def outcome(response: httpx.Response) -> Outcome:
    """Delivered under `messages[0].id` (the wamid), else the Graph error."""
    body = json_body(response)
    messages = body.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    wamid = first.get("id") if isinstance(first, dict) else None
    if response.is_success and isinstance(wamid, str) and wamid:
        return Delivered(wamid)
    return graph_failure(response, body)


SOURCE = Source(
    name=NAME,
    translate=translate,
    webhook=Webhook(rpc="Whatsapp", verify=verify, routing_key=routing_key, handshake=True),
    channels=(ChannelKind(source=NAME, label="WhatsApp",
                          required=("phone_number_id", "user_token", "name"),
                          channel_key=lambda request: request.phone_number_id,
                          secrets=("user_token",)),),
    # Any WhatsApp number can be written to (outside the 24-hour window WhatsApp wants a
    # template).
    connector=Connector(default_api_url=DEFAULT_API_URL, request=request, outcome=outcome,
                        conversation_key=conversation_key, can_start_conversations=True),
    settings=meta_app(NAME, "WhatsApp Cloud"),
)
