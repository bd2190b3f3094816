"""Viber REST bot API callbacks: X-Viber-Content-Signature, messages, receipts, subscriptions."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from sources import viber
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

AUTH_TOKEN = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"
CONFIG = SourceConfig(auth_token=AUTH_TOKEN)
URL = "https://parley.example.com/viber"
USER_ID = "01234567890A="
#: Callbacks as Viber's REST bot API documents them, as raw bytes: message_token must stay a
#: JSON number above 2^53 (json.dumps of a Python dict would hide the precision question).
MESSAGE = (
    b'{"event":"message","timestamp":1457764197627,"chat_hostname":"SN-376_",'
    b'"message_token":5741311803571721087,'
    b'"sender":{"id":"01234567890A=","name":"John McClane","avatar":"http://avatar.example.com",'
    b'"country":"UK","language":"en","api_version":1},'
    b'"message":{"type":"text","text":"a message to the service","tracking_data":"tracking data"}}'
)
LOCATION = (
    b'{"event":"message","timestamp":1457764197628,"chat_hostname":"SN-376_",'
    b'"message_token":4912661846655238146,"sender":{"id":"01234567890A=","api_version":1},'
    b'"message":{"type":"location","location":{"lat":50.76891,"lon":6.11499}}}'
)
DELIVERED = (
    b'{"event":"delivered","timestamp":1457764197627,"chat_hostname":"SN-chat-01_",'
    b'"message_token":4912661846655238145,"user_id":"01234567890A="}'
)
SEEN = (
    b'{"event":"seen","timestamp":1457764197627,"message_token":4912661846655238145,'
    b'"user_id":"01234567890A="}'
)
FAILED = (
    b'{"event":"failed","timestamp":1457764197627,"chat_hostname":"SN-chat-01_",'
    b'"message_token":4912661846655238145,"user_id":"01234567890A=","desc":"failure description"}'
)
USER = (
    b'{"id":"01234567890A=","name":"John McClane","avatar":"http://avatar.example.com",'
    b'"country":"UK","language":"en","api_version":1}'
)
SUBSCRIBED = (
    b'{"event":"subscribed","timestamp":1457764197627,"chat_hostname":"SN-chat-01_","user":'
    + USER
    + b',"message_token":4912661846655238145}'
)
CONVERSATION_STARTED = (
    b'{"event":"conversation_started","timestamp":1457764197627,"chat_hostname":"SN-chat-01_",'
    b'"message_token":4912661846655238145,"type":"open","context":"context information","user":'
    + USER
    + b',"subscribed":false}'
)
UNSUBSCRIBED = (
    b'{"event":"unsubscribed","timestamp":1457764197627,"chat_hostname":"SN-chat-01_",'
    b'"user_id":"01234567890A=","message_token":4912661846655238145}'
)
WEBHOOK = (
    b'{"event":"webhook","timestamp":1457764197627,"chat_hostname":"SN-chat-01_",'
    b'"message_token":241256543215}'
)


TEXT = {"type": "text", "text": "a message to the service", "tracking_data": "tracking data"}
CONTACT = {"contact": {"display_name": "John McClane", "avatar_url": "http://avatar.example.com"}}


def raw(body: bytes) -> RawEvent:
    return RawEvent(body=body, content_type="application/json", received_at_ms=1)


def sign(body: bytes, token: str = AUTH_TOKEN) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def request(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {} if signature is None else {"x-viber-content-signature": signature}
    return WebhookRequest(body=body, headers=headers, url=URL)


# --- verify ---


@pytest.mark.parametrize("body", [MESSAGE, DELIVERED, WEBHOOK])
def test_a_correct_signature_passes(body: bytes) -> None:
    viber.verify(request(body, sign(body)), CONFIG)


def test_a_signature_in_upper_case_hex_passes() -> None:
    viber.verify(request(MESSAGE, sign(MESSAGE).upper()), CONFIG)


@pytest.mark.parametrize("signature", [None, "", "  "])
def test_no_signature_is_missing(signature: str | None) -> None:
    with pytest.raises(SignatureMissing):
        viber.verify(request(MESSAGE, signature), CONFIG)


@pytest.mark.parametrize(
    "signature",
    [
        sign(MESSAGE, "another-token"),
        sign(MESSAGE + b" "),
        hmac.new(AUTH_TOKEN.encode(), MESSAGE, hashlib.sha1).hexdigest(),
        "zz" * 32,
        "é" * 64,  # non-ASCII must not raise anything else
    ],
)
def test_a_wrong_signature_is_invalid(signature: str) -> None:
    with pytest.raises(SignatureInvalid):
        viber.verify(request(MESSAGE, signature), CONFIG)


def test_without_an_auth_token_every_request_is_invalid() -> None:
    with pytest.raises(SignatureInvalid):
        viber.verify(request(MESSAGE, sign(MESSAGE, "")), SourceConfig())


# --- translate: messages ---


def test_a_message_becomes_a_message_of_the_contact() -> None:
    message, contact = viber.translate(raw(MESSAGE))
    assert message == InboundMessage(
        source="viber",
        source_channel_id="viber",  # one bot per install
        source_conversation_key=USER_ID,
        source_message_id="5741311803571721087",
        from_contact=True,
        sent_at_ms=1457764197627,  # Viber's own timestamp
        content=TEXT,
        sender_id=USER_ID,
        sender_name="John McClane",
        sender_avatar_url="http://avatar.example.com",
    )
    assert contact == MetadataUpdate(
        source="viber",
        source_channel_id="viber",
        subject="conversation",
        source_conversation_key=USER_ID,
        data=CONTACT,
    )


def test_the_64_bit_message_token_keeps_every_digit() -> None:
    [message, _] = viber.translate(raw(MESSAGE))
    assert isinstance(message, InboundMessage)
    # A double would have turned it into 5741311803571721216.
    assert message.source_message_id == "5741311803571721087"
    assert str(int(float(5741311803571721087))) != message.source_message_id
    assert b'"message_token":' + message.source_message_id.encode() + b"," in MESSAGE


def test_a_small_message_token_is_its_digits_too() -> None:
    body = MESSAGE.replace(b"5741311803571721087", b"241256543215")
    [message, _] = viber.translate(raw(body))
    assert isinstance(message, InboundMessage)
    assert message.source_message_id == "241256543215"


def test_a_location_is_kept_untouched_and_a_nameless_sender_gives_no_contact() -> None:
    [message] = viber.translate(raw(LOCATION))
    assert isinstance(message, InboundMessage)
    assert message.content == {"type": "location", "location": {"lat": 50.76891, "lon": 6.11499}}
    assert message.source_message_id == "4912661846655238146"
    assert (message.sender_name, message.sender_avatar_url) == ("", "")


# --- translate: receipts ---


@pytest.mark.parametrize(("body", "state"), [(DELIVERED, "delivered"), (SEEN, "read")])
def test_receipts_set_the_delivery_state(body: bytes, state: str) -> None:
    assert viber.translate(raw(body)) == [
        MetadataUpdate(
            source="viber",
            source_channel_id="viber",
            subject="message",
            source_conversation_key=USER_ID,
            source_message_id="4912661846655238145",
            data={"source": {"delivery_state": state}},
        )
    ]


def test_a_failed_callback_carries_its_description() -> None:
    [update] = viber.translate(raw(FAILED))
    assert isinstance(update, MetadataUpdate)
    assert update.source_message_id == "4912661846655238145"
    assert update.data == {"source": {"delivery_state": "failed", "error": "failure description"}}


# --- translate: subscription events ---


@pytest.mark.parametrize("body", [SUBSCRIBED, CONVERSATION_STARTED])
def test_subscriptions_give_the_contacts_name(body: bytes) -> None:
    assert viber.translate(raw(body)) == [
        MetadataUpdate(
            source="viber",
            source_channel_id="viber",
            subject="conversation",
            source_conversation_key=USER_ID,
            data=CONTACT,
        )
    ]


@pytest.mark.parametrize("body", [UNSUBSCRIBED, WEBHOOK, b'{"event":"a_new_event","timestamp":1}'])
def test_other_events_give_nothing(body: bytes) -> None:
    assert viber.translate(raw(body)) == []


# --- translate: garbage ---


@pytest.mark.parametrize(
    "body",
    [
        b"\xff not json",
        b"[]",
        b'{"timestamp":1457764197627}',  # no event
        b'{"event":42}',
        MESSAGE.replace(b'"sender":{"id":"01234567890A=",', b'"sender":{'),  # no sender id
        MESSAGE.replace(b"5741311803571721087", b"5.7e18"),  # a token that is no integer
        MESSAGE.replace(b"5741311803571721087", b'"abc"'),
        MESSAGE.replace(b"1457764197627", b'"2016-03-12"'),  # a time that is no epoch ms
        DELIVERED.replace(b',"user_id":"01234567890A="', b""),
        DELIVERED.replace(b',"message_token":4912661846655238145', b""),
        json.dumps({"event": "message", "sender": {"id": USER_ID}, "timestamp": 1}).encode(),
    ],
)
def test_an_unreadable_body_is_a_translation_error(body: bytes) -> None:
    with pytest.raises(TranslationError):
        viber.translate(raw(body))


# --- routing_key ---


@pytest.mark.parametrize(
    "body", [MESSAGE, DELIVERED, SEEN, FAILED, SUBSCRIBED, CONVERSATION_STARTED, UNSUBSCRIBED]
)
def test_routing_key_is_the_users_id(body: bytes) -> None:
    assert viber.routing_key(body) == USER_ID


@pytest.mark.parametrize("body", [WEBHOOK, b"", b"\xff", b"[]", b"null"])
def test_routing_key_falls_back_to_the_channel_and_never_raises(body: bytes) -> None:
    assert viber.routing_key(body) == "viber"
