"""Twilio Programmable Messaging: SMS and WhatsApp on one inbound path, `/twilio`.

Twilio posts `application/x-www-form-urlencoded` forms: an incoming message (`MessageSid`, `From`,
`To`, `Body`, `NumMedia`, `MediaUrl0`..., and for WhatsApp `ProfileName`, `WaId`), or a status
callback of a message Parley sent (`MessageStatus`/`SmsStatus`, `ErrorCode` on failures).

Ids. The source is "twilio.whatsapp" when the address starts with `whatsapp:`, else "twilio.sms".
Channels are connected with a bare `phone_number` ("+15005550006"), so the `whatsapp:` prefix is
stripped from both numbers: `source_channel_id` is Parley's own number (`To` of an incoming
message, `From` of a status callback) and the conversation key is the contact's number (the other
one). The source name already tells SMS and WhatsApp apart, so a number connected on both still
gives two channels.

Time. Twilio's webhook carries no timestamp, so `sent_at_ms` is the time Parley received the
webhook (`RawEvent.received_at_ms`), which a replay keeps, so ids and order stay stable.

Signature. `X-Twilio-Signature` is checked by the official `twilio` package over the public URL
and every form field (Twilio adds fields without notice, so none may be left out). Webhooks
signed with a Twilio SharedKey (`X-Twilio-Webhooks-Signature-Settings`) are not supported: only
the auth token is configured, so they fail as invalid.

Sending: Twilio Programmable Messaging: SMS and WhatsApp through the Message resource.

Follows https://www.twilio.com/docs/messaging/api/message-resource: POST
`/2010-04-01/Accounts/<Account SID>/Messages.json`, HTTP Basic auth (Account SID, auth token), a
form with `To`, `From` and the message's parameters (`Body`, `MediaUrl`, ...). WhatsApp addresses
are "whatsapp:+<number>", SMS ones bare E.164 numbers. Created is 201 with the Message resource
(`sid`); errors are `{"code", "message", "more_info", "status"}`
(https://www.twilio.com/docs/usage/twilios-response).
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
from twilio.request_validator import RequestValidator

from runtime.errors import InvalidArgument
from sources.inbound import (Event, InboundMessage, MetadataUpdate, RawEvent, SignatureInvalid,
                             SourceConfig, TranslationError, WebhookRequest, contact_update,
                             signature, signing_key)
from sources.outbound import (ConnectorConfig, Delivered, Outbound, Outcome, by_status, json_body)
from sources.settings import SourceSettings, api_url, secret
from sources.spec import ChannelKind, Connector, Reply, Source, Webhook
from sources.whatsapp import conversation_key as _digits
from sources.whatsapp import dialable

SIGNATURE_HEADER = "X-Twilio-Signature"

NAME = "twilio"

_WHATSAPP_PREFIX = "whatsapp:"
#: Statuses of a message arriving at Parley's number; every other status is a status callback.
_INBOUND_STATES = frozenset({"received", "receiving"})


class _Form(dict[str, list[str]]):
    """Parsed form fields with every value of a repeated field, in the `getlist` shape that
    RequestValidator reads (a plain dict of lists would be signed wrongly)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def _parse(body: bytes, strict: bool) -> _Form:
    text = body.decode("utf-8", errors="strict" if strict else "replace")
    fields = parse_qs(
        text,
        keep_blank_values=True,
        strict_parsing=strict,
        errors="strict" if strict else "replace",
    )
    return _Form(fields)


def verify(request: WebhookRequest, config: SourceConfig) -> None:
    """Check `X-Twilio-Signature` (HMAC-SHA1 of the URL and the fields, by the auth token)."""
    provided = signature(request, SIGNATURE_HEADER)
    signing_key(config.auth_token, "the Twilio auth token")
    # A body that is no form cannot match a signature; parse leniently and let it fail below.
    params = _parse(request.body, strict=False)
    # RequestValidator compares in constant time.
    if not RequestValidator(config.auth_token).validate(request.url, params, provided):
        raise SignatureInvalid(f"{SIGNATURE_HEADER} does not match the body")


def _bare(address: str) -> str:
    return address.removeprefix(_WHATSAPP_PREFIX)


def _source(*addresses: str) -> str:
    whatsapp = any(a.startswith(_WHATSAPP_PREFIX) for a in addresses)
    return "twilio.whatsapp" if whatsapp else "twilio.sms"


def _status(fields: dict[str, Any]) -> str:
    return _text(fields, "MessageStatus", "SmsStatus")


def _is_status_callback(fields: dict[str, Any]) -> bool:
    status = _status(fields)
    return bool(status) and status not in _INBOUND_STATES


def _text(fields: dict[str, Any], *keys: str) -> str:
    """The first of `keys` holding a non-empty single value, else ""."""
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _flat(form: _Form) -> dict[str, Any]:
    # Twilio sends each field once; a repeated one keeps all its values rather than losing any.
    return {key: values[0] if len(values) == 1 else values for key, values in form.items()}


def routing_key(body: bytes) -> str:
    """The contact's number: `From` of an incoming message, `To` of a status callback."""
    try:
        fields = _flat(_parse(body, strict=False))
        return _bare(_text(fields, "To" if _is_status_callback(fields) else "From"))
    except Exception:  # noqa: BLE001 - the contract: never raises
        return ""


def translate(raw: RawEvent) -> list[Event]:
    """An incoming message, or a status callback's delivery state, as normalized events."""
    try:
        fields = _flat(_parse(raw.body, strict=True))
    except (UnicodeDecodeError, ValueError) as error:
        raise TranslationError(f"twilio body is not a form: {error}") from error
    sender, recipient = _text(fields, "From"), _text(fields, "To")
    sid = _text(fields, "MessageSid", "SmsMessageSid", "SmsSid")
    if not (sender and recipient and sid):
        raise TranslationError("twilio form lacks MessageSid, From or To")
    source = _source(sender, recipient)

    if _is_status_callback(fields):
        state: dict[str, Any] = {"delivery_state": _status(fields)}
        if error_code := _text(fields, "ErrorCode"):
            state["error_code"] = error_code
        # Parley sent this message: From is its own number, To the contact.
        return [
            MetadataUpdate(
                source=source,
                source_channel_id=_bare(sender),
                subject="message",
                source_conversation_key=_bare(recipient),
                source_message_id=sid,
                data={"source": state},
            )
        ]

    channel, contact = _bare(recipient), _bare(sender)
    name = _text(fields, "ProfileName")
    events: list[Event] = [
        InboundMessage(
            source=source,
            source_channel_id=channel,
            source_conversation_key=contact,
            source_message_id=sid,
            from_contact=True,
            sent_at_ms=raw.received_at_ms,
            content=fields,
            sender_id=contact,
            sender_name=name,
        )
    ]
    return events + contact_update(source, channel, contact, {"display_name": name})


# Sending.

def conversation_key(recipient: str) -> str:
    """The bare E.164 number ingest keys the contact's replies with ("whatsapp:+49 151-234" ->
    "+49151234"); "" unless `recipient` is a number with its "+" and country code."""
    number = dialable(recipient)
    digits = _digits(number)
    return "+" + digits if digits and number.startswith("+") else ""


def _address(source: str, number: str) -> str:
    bare = number.removeprefix(_WHATSAPP_PREFIX)
    return _WHATSAPP_PREFIX + bare if source == "twilio.whatsapp" else bare


def request(outbound: Outbound, config: ConnectorConfig) -> httpx.Request:
    """POST the Message resource: the content's Twilio parameters (e.g. `{"Body": "hi"}`, sent as
    they are; other content is sent as `Body`), `To` the recipient, `From` the channel's number."""
    content = outbound.content
    fields = content if isinstance(content, dict) else {"Body": str(content)}
    credentials = f"{config.account_id}:{config.auth_token}".encode()
    return httpx.Request(
        "POST",
        f"{config.api_url}/2010-04-01/Accounts/{quote(config.account_id, safe='')}/Messages.json",
        headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()},
        # The addressing goes last: content must not send the message to someone else.
        data={**fields, "To": _address(outbound.source, outbound.recipient),
              "From": _address(outbound.source, outbound.source_channel_id)},
    )


def outcome(response: httpx.Response) -> Outcome:
    """Delivered under the Message's `sid`, else Twilio's error message and code."""
    body = json_body(response)
    sid = body.get("sid")
    if response.is_success and isinstance(sid, str) and sid:
        return Delivered(sid)
    message, code = body.get("message"), body.get("code")
    error = message if isinstance(message, str) else ""
    if error and code is not None:
        error = f"{error} (Twilio error {code})"
    return by_status(response, error)


# Connecting.

_PHONE = re.compile(r"^\+[1-9][0-9]{4,15}$")


def phone_number(number: str) -> str:
    """A connect request's `phone_number` in E.164 (`+15005550006`); a `whatsapp:` prefix is
    dropped. InvalidArgument for anything else."""
    number = number.removeprefix(_WHATSAPP_PREFIX).strip()
    if not _PHONE.match(number):
        raise InvalidArgument(f"phone_number must be E.164 like +15005550006, got {number!r}")
    return number


#: Twilio expects TwiML; an empty document means "no automatic reply".
EMPTY_TWIML = Reply("text/xml",
                    b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>')

SOURCE = Source(
    name=NAME,
    translate=translate,
    webhook=Webhook(rpc="Twilio", verify=verify, routing_key=routing_key, reply=EMPTY_TWIML),
    channels=tuple(
        ChannelKind(source=f"{NAME}.{kind}", label=label, required=("phone_number", "name"),
                    channel_key=lambda request: phone_number(request.phone_number))
        for kind, label in (("sms", "SMS"), ("whatsapp", "WhatsApp"))),
    connector=Connector(default_api_url="https://api.twilio.com", request=request,
                        outcome=outcome, conversation_key=conversation_key,
                        can_start_conversations=True),
    settings=SourceSettings(
        auth_token=secret("PARLEY_TWILIO_AUTH_TOKEN",
                          "Twilio auth token (SMS and WhatsApp): verifies its webhooks, "
                          "authenticates sending"),
        account_sid=secret("PARLEY_TWILIO_ACCOUNT_SID",
                           "Twilio Account SID (sending SMS and WhatsApp)"),
        api_url=api_url(NAME)),
)
