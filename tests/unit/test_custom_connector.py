"""The custom sources' connector: the signed `message.send` action and what its answers mean."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from sources import custom
from sources.outbound import ConnectorConfig, Delivered, Outbound, Rejected, Retry
from parley.v1 import records_pb2, sources_pb2

TOKEN = "psrc_secret-token"
CONFIG = ConnectorConfig(api_url="https://crm.example.com/action", auth_token=TOKEN)
OUTBOUND = Outbound(message_id="msg-1", conversation_id="conv-1", source="crm",
                    source_channel_id="inbox", channel_name="Inbox", recipient="c-42",
                    content={"text": "hi"})


def test_the_action_is_posted_signed_with_the_source_token() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    request = custom.request(OUTBOUND, CONFIG, now=now)
    assert (request.method, str(request.url)) == ("POST", "https://crm.example.com/action")
    body = json.loads(request.content)
    assert body == {"type": "message.send", "payload": {
        "message": {"id": "msg-1", "content": {"text": "hi"},
                    "sent_at": now.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
        "conversation": {"id": "conv-1", "source_conversation_id": "c-42",
                         "source_channel_id": "inbox"}}}
    headers = dict(request.headers)
    assert (headers["webhook-id"], headers["webhook-timestamp"]) == ("msg-1", str(int(now.timestamp())))
    # A receiver verifies it with the token, as Standard Webhooks says; another key fails.
    assert Verifier(TOKEN.encode()).verify(request.content, headers) == body
    with pytest.raises(WebhookVerificationError):
        Verifier(b"another key").verify(request.content, headers)


def test_answers() -> None:
    def answer(status: int, body: object) -> object:
        return custom.outcome(httpx.Response(status, json=body))

    assert answer(200, {"source_message_id": "ext-1", "metadata": {}}) == Delivered("ext-1")
    assert answer(200, {}) == Rejected("HTTP 200 without a source_message_id")
    assert answer(400, {"error": "malformed content"}) == Rejected("400: malformed content")
    assert answer(503, {}) == Retry("HTTP 503")
    assert answer(429, {"error": "slow down"}) == Retry("429: slow down")


def test_the_configuration_comes_from_the_source_record() -> None:
    record = records_pb2.SourceRecord(
        source=sources_pb2.Source(source_id="crm", action_endpoint="https://x/a"), token=TOKEN)
    assert custom.config_for_source(record) == ConnectorConfig(api_url="https://x/a",
                                                                auth_token=TOKEN)
