"""WhatsApp Cloud API: signature, handshake, messages, reactions, contacts, statuses, routing key.

Payloads follow Meta's WhatsApp Business Platform "messages" webhook reference (text, image,
location, interactive and reaction messages; sent / delivered / read / failed statuses).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sources import meta, whatsapp
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
from tests.unit.sources.test_meta import SECRET, sign

OBJECT = "whatsapp_business_account"
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
WA_ID = "16505551234"
OTHER_WA_ID = "16315551181"
BUSINESS_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
CONFIG = SourceConfig(app_secret=SECRET, verify_token="wa-verify-token")

METADATA = {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID}
CONTACT = {"profile": {"name": "Kerry Fisher"}, "wa_id": WA_ID}
TEXT: dict[str, Any] = {
    "from": WA_ID,
    "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
    "timestamp": "1739321024",
    "type": "text",
    "text": {"body": "Does it come in another color?"},
}
IMAGE = {
    "from": WA_ID,
    "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUI2QjI4RDlBODVDODE2NzdFQQA=",
    "timestamp": "1739321030",
    "type": "image",
    "image": {
        "caption": "This is a caption",
        "mime_type": "image/jpeg",
        "sha256": "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3",
        "id": "2754859441498128",
    },
}
LOCATION = {
    "from": WA_ID,
    "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTc5RjY4QjlGRTRDOEE4QjNFMQA=",
    "timestamp": "1739321040",
    "type": "location",
    "location": {
        "address": "1 Hacker Way, Menlo Park, CA 94025",
        "latitude": 37.483872693672,
        "longitude": -122.14835758795,
        "name": "Main Office",
    },
}
BUTTON_REPLY = {
    "context": {"from": "15550783881", "id": BUSINESS_WAMID},
    "from": WA_ID,
    "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTlEMjE0NjQ3Q0Q5NkM0RTJBOQA=",
    "timestamp": "1739321050",
    "type": "interactive",
    "interactive": {
        "type": "button_reply",
        "button_reply": {"id": "cancel-button", "title": "Cancel"},
    },
}
REACTION = {
    "from": WA_ID,
    "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTY2MjA5MEI3QjQ5MTVBQzg3RQA=",
    "timestamp": "1739321060",
    "type": "reaction",
    "reaction": {"message_id": BUSINESS_WAMID, "emoji": "\U0001f44d"},
}
# WhatsApp omits "emoji" when the user removes a reaction.
UNREACT = {
    "from": WA_ID,
    "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUY3QTk0QUQ0NjQyMTVFNzAwRgA=",
    "timestamp": "1739321070",
    "type": "reaction",
    "reaction": {"message_id": BUSINESS_WAMID},
}


def status(state: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": BUSINESS_WAMID,
        "status": state,
        "timestamp": "1750857384",
        "recipient_id": WA_ID,
        **extra,
    }


SENT = status(
    "sent",
    conversation={
        "id": "a75d17ad06104c51166f948319b03c6a",
        "expiration_timestamp": "1750943820",
        "origin": {"type": "service"},
    },
    pricing={"billable": True, "pricing_model": "CBP", "category": "service"},
)
ERRORS = [
    {
        "code": 131026,
        "title": "Message undeliverable",
        "message": "Message undeliverable",
        "error_data": {"details": "Message Undeliverable."},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }
]
FAILED = status("failed", errors=ERRORS)


def value(**fields: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "metadata": METADATA, **fields}


def body(*values: dict[str, Any]) -> bytes:
    """One entry per value, as Meta batches them."""
    entries = [{"id": WABA_ID, "changes": [{"value": v, "field": "messages"}]} for v in values]
    return json.dumps({"object": OBJECT, "entry": entries}).encode()


def translate(*values: dict[str, Any]) -> list[Any]:
    return whatsapp.translate(RawEvent(body(*values), "application/json", 1_700_000_000_000))


def request(payload: bytes, headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest(body=payload, headers=headers, url="https://parley.example.com/whatsapp")


def test_name_and_verify_delegate_to_meta() -> None:
    payload = body(value(contacts=[CONTACT], messages=[TEXT]))
    assert whatsapp.NAME == "whatsapp"
    whatsapp.verify(request(payload, {"x-hub-signature-256": sign(payload)}), CONFIG)
    with pytest.raises(SignatureInvalid):
        whatsapp.verify(request(payload, {"x-hub-signature-256": "sha256=" + "0" * 64}), CONFIG)
    with pytest.raises(SignatureMissing):
        whatsapp.verify(request(payload, {"x-hub-signature": "sha1=abc"}), CONFIG)


def test_handshake() -> None:
    challenge = "799162938"
    assert meta.verify_subscription("subscribe", "wa-verify-token", challenge, CONFIG) == challenge
    with pytest.raises(SignatureInvalid):
        meta.verify_subscription("subscribe", "wa-verify-tokeN", challenge, CONFIG)


def test_a_text_message_with_the_contacts_name() -> None:
    assert translate(value(contacts=[CONTACT], messages=[TEXT])) == [
        InboundMessage(
            source="whatsapp",
            source_channel_id=PHONE_NUMBER_ID,
            source_conversation_key=WA_ID,
            source_message_id=TEXT["id"],
            from_contact=True,
            sent_at_ms=1739321024000,
            content=TEXT,
            sender_id=WA_ID,
            sender_name="Kerry Fisher",
        ),
        MetadataUpdate(
            "whatsapp", PHONE_NUMBER_ID, "conversation", WA_ID, "",
            {"contact": {"display_name": "Kerry Fisher"}},
        ),
    ]


@pytest.mark.parametrize("message", [IMAGE, LOCATION, BUTTON_REPLY], ids=lambda m: m["type"])
def test_media_location_and_interactive_messages_keep_their_content(
    message: dict[str, Any],
) -> None:
    event, _contact = translate(value(contacts=[CONTACT], messages=[message]))
    assert isinstance(event, InboundMessage)
    assert event.content == message
    assert event.source_message_id == message["id"]
    assert event.sent_at_ms == int(message["timestamp"]) * 1000
    assert event.sender_name == "Kerry Fisher"


def test_a_message_without_a_matching_contact_has_no_sender_name() -> None:
    other = {**TEXT, "from": OTHER_WA_ID}
    (event, _contact) = translate(value(contacts=[CONTACT], messages=[other]))
    assert event.source_conversation_key == OTHER_WA_ID
    assert event.sender_name == ""


def test_a_reaction_and_its_removal_update_the_reacted_message() -> None:
    react, unreact, _contact = translate(value(contacts=[CONTACT], messages=[REACTION, UNREACT]))
    assert react == MetadataUpdate(
        "whatsapp", PHONE_NUMBER_ID, "message", WA_ID, BUSINESS_WAMID,
        {"reactions": {WA_ID: {"emoji": "\U0001f44d", "sent_at": 1739321060000}}},
    )
    assert unreact.source_message_id == BUSINESS_WAMID
    assert unreact.data == {"reactions": {WA_ID: {"emoji": "", "sent_at": 1739321070000}}}


@pytest.mark.parametrize("state", ["sent", "delivered", "read"])
def test_statuses_set_the_delivery_state(state: str) -> None:
    given = SENT if state == "sent" else status(state)
    assert translate(value(statuses=[given])) == [
        MetadataUpdate(
            "whatsapp", PHONE_NUMBER_ID, "message", WA_ID, BUSINESS_WAMID,
            {"source": {"delivery_state": state}},
        )
    ]


def test_a_failed_status_carries_the_errors() -> None:
    (failed,) = translate(value(statuses=[FAILED]))
    assert failed.source_message_id == BUSINESS_WAMID
    assert failed.data == {"source": {"delivery_state": "failed", "errors": ERRORS}}


def test_non_delivery_statuses_and_other_fields_are_ignored() -> None:
    assert translate(value(statuses=[status("deleted")])) == []
    template_update = {
        "event": "APPROVED",
        "message_template_id": 594425479261596,
        "message_template_name": "order_confirmation",
        "message_template_language": "en_US",
    }
    change = {"value": template_update, "field": "message_template_status_update"}
    payload = {"object": OBJECT, "entry": [{"id": WABA_ID, "time": 1739321024, "changes": [change]}]}
    assert whatsapp.translate(RawEvent(json.dumps(payload).encode(), "application/json", 0)) == []


def test_several_entries_and_items() -> None:
    events = translate(
        value(contacts=[CONTACT], messages=[TEXT, IMAGE]),
        value(statuses=[SENT, status("delivered")]),
    )
    assert [(type(e).__name__, e.source_message_id) for e in events] == [
        ("InboundMessage", TEXT["id"]),
        ("InboundMessage", IMAGE["id"]),
        ("MetadataUpdate", ""),
        ("MetadataUpdate", BUSINESS_WAMID),
        ("MetadataUpdate", BUSINESS_WAMID),
    ]
    assert {e.source_channel_id for e in events} == {PHONE_NUMBER_ID}


@pytest.mark.parametrize(
    "payload",
    [
        b"<xml/>",
        body(value(messages=[TEXT])).replace(b"whatsapp_business_account", b"page"),
        body({"messaging_product": "whatsapp", "messages": [TEXT]}),  # no phone_number_id
        body(value(messages=[{**TEXT, "id": None}])),
        body(value(messages="not a list")),
        body(value(messages=[{**REACTION, "reaction": {"emoji": "x"}}])),
        body(value(messages=[{**TEXT, "timestamp": "253402300800"}])),  # seconds of year 10000
    ],
)
def test_garbage_is_a_translation_error(payload: bytes) -> None:
    with pytest.raises(TranslationError):
        whatsapp.translate(RawEvent(payload, "application/json", 0))


def test_routing_key() -> None:
    assert whatsapp.routing_key(body(value(contacts=[CONTACT], messages=[TEXT, REACTION]))) == WA_ID
    assert whatsapp.routing_key(body(value(statuses=[SENT]), value(messages=[TEXT]))) == WA_ID
    two_users = value(messages=[TEXT], statuses=[status("read", recipient_id=OTHER_WA_ID)])
    assert whatsapp.routing_key(body(two_users)) == PHONE_NUMBER_ID
    assert whatsapp.routing_key(body(value())) == PHONE_NUMBER_ID
    for garbage in (b"", b"{", b"null", body(value(messages=[1, 2]))):
        assert whatsapp.routing_key(garbage) == ""
