"""Google Business Messages: an agent's message in a conversation.

Follows conversations.messages.create:
https://developers.google.com/business-communications/business-messages/reference/rest/v1/conversations.messages/create
POST `/v1/conversations/<conversation id>/messages` with `Authorization: Bearer <access token>`
and a Message (`messageId`, `representative`, `text`, ...); answered with the created Message
(`name` "conversations/<c>/messages/<id>", `messageId`). Errors are Google's
`{"error": {"code", "message", "status"}}` (https://cloud.google.com/apis/design/errors).
"""

from __future__ import annotations

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

SOURCES = ("google",)
DEFAULT_API_URL = "https://businessmessages.googleapis.com"
#: Conversations exist only once a user opened one with the agent.
CAN_START_CONVERSATIONS = False


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
