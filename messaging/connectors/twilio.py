"""Twilio Programmable Messaging: SMS and WhatsApp through the Message resource.

Follows https://www.twilio.com/docs/messaging/api/message-resource: POST
`/2010-04-01/Accounts/<Account SID>/Messages.json`, HTTP Basic auth (Account SID, auth token), a
form with `To`, `From` and the message's parameters (`Body`, `MediaUrl`, ...). WhatsApp addresses
are "whatsapp:+<number>", SMS ones bare E.164 numbers. Created is 201 with the Message resource
(`sid`); errors are `{"code", "message", "more_info", "status"}`
(https://www.twilio.com/docs/usage/twilios-response).
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import httpx

from messaging.connectors.base import (
    ConnectorConfig,
    Delivered,
    Outbound,
    Outcome,
    by_status,
    json_body,
)
from messaging.connectors.whatsapp import dialable

# WhatsApp's key of a number is its digits (a wa_id), "" for anything else.
from messaging.connectors.whatsapp import conversation_key as _digits

SOURCES = ("twilio.sms", "twilio.whatsapp")
DEFAULT_API_URL = "https://api.twilio.com"
CAN_START_CONVERSATIONS = True

_WHATSAPP_PREFIX = "whatsapp:"


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
