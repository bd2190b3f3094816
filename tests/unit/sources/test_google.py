"""Google Business Messages: X-Goog-Signature, the verification request, user messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from sources import google
from sources.inbound import (
    InboundMessage,
    MetadataUpdate,
    RawEvent,
    SignatureInvalid,
    SignatureMissing,
    SourceConfig,
    TranslationError,
    WebhookRequest,
)

CLIENT_TOKEN = "SJENCPGJESMGUFPY"  # the example token of GBM's webhook guide
CONFIG = SourceConfig(client_token=CLIENT_TOKEN)
URL = "https://parley.example.com/google"
AGENT_ID = "7d2c6a1e-4b8f-4c3d-9e0a-5f1b2c3d4e5f"
AGENT = f"brands/3a9f1c2e-8d7b-4e6a-b5c4-d3e2f1a0b9c8/agents/{AGENT_ID}"
CONVERSATION = "c4b1e2f3-a5d6-4e7f-8a9b-0c1d2e3f4a5b"
MESSAGE_ID = "4f3e2d1c-0b9a-4876-a543-210fedcba987"
CONTEXT = {
    "entryPoint": "PLACESHEET",
    "placeId": "ChIJN1t_tDeuEmsRUsoyG83frY4",
    "userInfo": {"displayName": "Grace Hopper", "userDeviceLocale": "en-US"},
    "resolvedLocale": "en",
}


def user_message(**payload: Any) -> dict[str, Any]:
    """A UserMessage envelope as the agent webhook receives it, around one payload."""
    return {
        "requestId": "9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
        "conversationId": CONVERSATION,
        "customAgentId": "parley-support",
        "agent": AGENT,
        "context": CONTEXT,
        "sendTime": "2021-03-17T09:42:45.512Z",
        **payload,
    }


TEXT = {
    "messageId": MESSAGE_ID,
    "name": f"conversations/{CONVERSATION}/messages/{MESSAGE_ID}",
    "text": "Hi, are you open on Sunday?",
    "createTime": "2021-03-17T09:42:45.123456789Z",
}
SUGGESTION = {
    "message": f"conversations/{CONVERSATION}/messages/agent-msg-0001",
    "postbackData": base64.b64encode(b"opening-hours").decode(),
    "createTime": "2021-03-17T09:43:02.250Z",
    "text": "Opening hours",
    "type": "REPLY",
}


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def raw(payload: dict[str, Any]) -> RawEvent:
    return RawEvent(body=body_of(payload), content_type="application/json", received_at_ms=1)


def sign(body: bytes, token: str = CLIENT_TOKEN) -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha512).digest()).decode()


def request(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {} if signature is None else {"x-goog-signature": signature}
    return WebhookRequest(body=body, headers=headers, url=URL)


# --- verify ---

BODY = body_of(user_message(message=TEXT))


def test_a_correct_signature_passes() -> None:
    google.verify(request(BODY, sign(BODY)), CONFIG)


@pytest.mark.parametrize("signature", [None, "", " "])
def test_no_signature_is_missing(signature: str | None) -> None:
    with pytest.raises(SignatureMissing):
        google.verify(request(BODY, signature), CONFIG)


@pytest.mark.parametrize(
    "signature",
    [
        sign(BODY, "another-token"),
        sign(BODY + b" "),
        base64.b64encode(hmac.new(CLIENT_TOKEN.encode(), BODY, hashlib.sha256).digest()).decode(),
        hmac.new(CLIENT_TOKEN.encode(), BODY, hashlib.sha512).hexdigest(),  # hex, not base64
        "é" * 88,  # non-ASCII must not raise anything else
    ],
)
def test_a_wrong_signature_is_invalid(signature: str) -> None:
    with pytest.raises(SignatureInvalid):
        google.verify(request(BODY, signature), CONFIG)


def test_without_a_client_token_every_request_is_invalid() -> None:
    with pytest.raises(SignatureInvalid):
        google.verify(request(BODY, sign(BODY, "")), SourceConfig())


# --- the one-time webhook verification request ---

VERIFICATION = {"clientToken": CLIENT_TOKEN, "secret": "0123456789"}


def test_the_verification_request_gets_its_secret_back() -> None:
    assert google.verification_secret(request(body_of(VERIFICATION), None), CONFIG) == "0123456789"


@pytest.mark.parametrize(
    ("body", "config"),
    [
        (body_of({**VERIFICATION, "clientToken": "WRONGTOKEN"}), CONFIG),
        (body_of(VERIFICATION), SourceConfig()),  # no token configured
        (BODY, CONFIG),  # an ordinary event
        (b"not json", CONFIG),
        (b"[1, 2]", CONFIG),
        (b"[" * 4000 + b"]" * 4000, CONFIG),  # deeper than any parser recurses
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, CONFIG),  # too large to be a verification
    ],
)
def test_anything_else_gets_no_secret(body: bytes, config: SourceConfig) -> None:
    assert google.verification_secret(request(body, None), config) is None


def test_the_verification_request_translates_to_nothing() -> None:
    assert google.translate(raw(VERIFICATION)) == []


# --- translate ---


def test_a_text_message_becomes_a_message_of_the_contact() -> None:
    message, contact = google.translate(raw(user_message(message=TEXT)))
    assert message == InboundMessage(
        source="google",
        source_channel_id=AGENT_ID,  # the agent id, as channels are connected (gbm_id)
        source_conversation_key=CONVERSATION,
        source_message_id=MESSAGE_ID,
        from_contact=True,
        sent_at_ms=1615974165123,  # message.createTime, not sendTime nor the receipt time
        content=TEXT,
        sender_id=CONVERSATION,
        sender_name="Grace Hopper",
    )
    assert contact == MetadataUpdate(
        source="google",
        source_channel_id=AGENT_ID,
        subject="conversation",
        source_conversation_key=CONVERSATION,
        data={"contact": {"display_name": "Grace Hopper"}},
    )


def test_a_message_without_user_info_has_no_contact_update() -> None:
    payload = user_message(message=TEXT, context={"entryPoint": "PLACESHEET"})
    [message] = google.translate(raw(payload))
    assert isinstance(message, InboundMessage)
    assert message.sender_name == ""


def test_a_suggestion_response_is_a_message_too() -> None:
    payload = user_message(suggestionResponse=SUGGESTION)
    message, contact = google.translate(raw(payload))
    assert message == InboundMessage(
        source="google",
        source_channel_id=AGENT_ID,
        source_conversation_key=CONVERSATION,
        source_message_id=payload["requestId"],  # it has no messageId of its own
        from_contact=True,
        sent_at_ms=1615974182250,
        content=SUGGESTION,
        sender_id=CONVERSATION,
        sender_name="Grace Hopper",
    )
    assert isinstance(contact, MetadataUpdate)


def test_a_suggestion_response_without_request_id_is_keyed_by_its_bytes() -> None:
    payload = user_message(suggestionResponse=SUGGESTION)
    del payload["requestId"]
    [message, _] = google.translate(raw(payload))
    assert isinstance(message, InboundMessage)
    assert message.source_message_id == "sha256:" + hashlib.sha256(body_of(payload)).hexdigest()


def test_receipts_set_delivery_states() -> None:
    names = [f"conversations/{CONVERSATION}/messages/agent-msg-000{n}" for n in (1, 2, 3)]
    receipts = {
        "receipts": [
            {"message": names[0], "receiptType": "DELIVERED"},
            {"message": names[1], "receiptType": "READ"},
            {"message": names[2], "receiptType": "RECEIPT_TYPE_UNSPECIFIED"},
        ],
        "createTime": "2021-03-17T09:44:00.000Z",
    }

    def update(message_id: str, state: str) -> MetadataUpdate:
        return MetadataUpdate(
            source="google",
            source_channel_id=AGENT_ID,
            subject="message",
            source_conversation_key=CONVERSATION,
            source_message_id=message_id,
            data={"source": {"delivery_state": state}},
        )

    assert google.translate(raw(user_message(receipts=receipts))) == [
        update("agent-msg-0001", "delivered"),
        update("agent-msg-0002", "read"),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"userStatus": {"isTyping": True, "createTime": "2021-03-17T09:42:40.000Z"}},
        {"userStatus": {"requestedLiveAgent": True, "createTime": "2021-03-17T09:42:40.000Z"}},
        {
            "surveyResponse": {
                "survey": f"conversations/{CONVERSATION}/surveys/5e6f7a8b",
                "questionResponseText": "Yes",
                "createTime": "2021-03-17T10:00:00.000Z",
            }
        },
    ],
)
def test_typing_and_surveys_are_ignored(payload: dict[str, Any]) -> None:
    assert google.translate(raw(user_message(**payload))) == []


@pytest.mark.parametrize(
    "body",
    [
        b"\xff not json",
        b"[]",
        b'"text"',
        body_of({k: v for k, v in user_message(message=TEXT).items() if k != "conversationId"}),
        body_of({k: v for k, v in user_message(message=TEXT).items() if k != "agent"}),
        body_of(user_message()),  # no payload at all
        body_of(user_message(message={**TEXT, "messageId": None})),
        body_of(user_message(message={**TEXT, "createTime": "yesterday"})),
        body_of(user_message(message={k: v for k, v in TEXT.items() if k != "createTime"})),
        body_of(user_message(message="Hi")),
        body_of(user_message(receipts={"receipts": [{"receiptType": "READ"}]})),
    ],
)
def test_an_unreadable_body_is_a_translation_error(body: bytes) -> None:
    with pytest.raises(TranslationError):
        google.translate(RawEvent(body=body, content_type="application/json", received_at_ms=1))


# --- routing_key ---


def test_routing_key_is_the_conversation_id() -> None:
    assert google.routing_key(body_of(user_message(message=TEXT))) == CONVERSATION
    receipts = {"receipts": [{"message": "conversations/x/messages/y", "receiptType": "READ"}]}
    assert google.routing_key(body_of(user_message(receipts=receipts))) == CONVERSATION


@pytest.mark.parametrize("body", [b"", b"\xff", b"[]", b"null", body_of(VERIFICATION)])
def test_routing_key_never_raises(body: bytes) -> None:
    assert isinstance(google.routing_key(body), str)
