"""Viber REST bot API: send a message to a subscriber of the bot.

Follows https://creators.viber.com/docs/bots-api/resources/messaging/send-message: POST
`/pa/send_message` with `X-Viber-Auth-Token: <bot token>` and `{"receiver", "sender": {"name"},
"min_api_version", "type", ...}`. Viber answers HTTP 200 whatever happened: `status` 0 and a 64-bit
`message_token` on success, else a failure `status` and `status_message`
(https://creators.viber.com/docs/bots-api/errors).
"""

from __future__ import annotations

from typing import Any

import httpx

from messaging.connectors.base import (
    ConnectorConfig,
    Delivered,
    Outbound,
    Outcome,
    Rejected,
    Retry,
    by_status,
    json_body,
)

SOURCES = ("viber",)
DEFAULT_API_URL = "https://chatapi.viber.com"
#: A bot may only write to users who subscribed or wrote to it first.
CAN_START_CONVERSATIONS = False

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


def _token(value: Any) -> str:
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
        token = _token(body.get("message_token"))
        return Delivered(token) if token else Rejected("Viber status 0 without a message_token")
    error = f"{message} (Viber status {status})"
    return Retry(error) if status == _TOO_MANY_REQUESTS else Rejected(error)
