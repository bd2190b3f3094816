"""WhatsApp Cloud API: send a message from a business phone number.

Follows https://developers.facebook.com/docs/whatsapp/cloud-api/messages/text-messages: POST
`/<phone number id>/messages` with `Authorization: Bearer <user token>` and
`{"messaging_product": "whatsapp", "recipient_type": "individual", "to": <wa_id>, "type": ...}`,
answered `{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": wamid}]}`.
Errors are Graph errors with `error_data.details` (see `facebook.graph_failure`).
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from messaging.connectors.base import ConnectorConfig, Delivered, Outbound, Outcome, json_body
from messaging.connectors.facebook import DEFAULT_API_URL, graph_failure

__all__ = ["CAN_START_CONVERSATIONS", "DEFAULT_API_URL", "SOURCES", "conversation_key",
           "dialable", "outcome", "request"]

SOURCES = ("whatsapp",)
#: Any WhatsApp number can be written to (outside the 24-hour window WhatsApp wants a template).
CAN_START_CONVERSATIONS = True

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
