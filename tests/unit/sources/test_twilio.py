"""Twilio (SMS and WhatsApp): X-Twilio-Signature, incoming messages, status callbacks."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from sources import twilio
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

AUTH_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
CONFIG = SourceConfig(auth_token=AUTH_TOKEN)
URL = "https://parley.example.com/twilio"
RECEIVED_AT_MS = 1700000000123
ACCOUNT = "AC1f2e3d4c5b6a79880716253443526170"
SMS_SID = "SM3b2f7d0c9a8e4f6b1c5d2e7a9f0b3c4d"

# Field sets as Twilio documents them for its request to the incoming message webhook.
INBOUND_SMS = {
    "ToCountry": "US",
    "ToState": "CA",
    "SmsMessageSid": SMS_SID,
    "NumMedia": "0",
    "ToCity": "",
    "FromZip": "94105",
    "SmsSid": SMS_SID,
    "FromState": "CA",
    "SmsStatus": "received",
    "FromCity": "SAN FRANCISCO",
    "Body": "Hi! Is my order #1234 on its way?",
    "FromCountry": "US",
    "To": "+15005550006",
    "ToZip": "",
    "NumSegments": "1",
    "MessageSid": SMS_SID,
    "AccountSid": ACCOUNT,
    "From": "+14155552671",
    "ApiVersion": "2010-04-01",
}
MMS_SID = "MM8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
INBOUND_MMS = {
    **INBOUND_SMS,
    "SmsMessageSid": MMS_SID,
    "SmsSid": MMS_SID,
    "MessageSid": MMS_SID,
    "Body": "",
    "NumMedia": "1",
    "MediaContentType0": "image/jpeg",
    "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{MMS_SID}"
    "/Media/ME0a1b2c3d4e5f60718293a4b5c6d7e8f9",
}
WA_SID = "SMa9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4"
INBOUND_WHATSAPP = {
    "SmsMessageSid": WA_SID,
    "NumMedia": "0",
    "ProfileName": "Ada Lovelace",
    "MessageType": "text",
    "SmsSid": WA_SID,
    "WaId": "14155552671",
    "SmsStatus": "received",
    "Body": "Hello from WhatsApp",
    "To": "whatsapp:+15005550006",
    "NumSegments": "1",
    "ReferralNumMedia": "0",
    "MessageSid": WA_SID,
    "AccountSid": ACCOUNT,
    "From": "whatsapp:+14155552671",
    "ApiVersion": "2010-04-01",
}
OUT_SID = "SM0f1e2d3c4b5a69788796a5b4c3d2e1f0"
STATUS_CALLBACK = {
    "SmsSid": OUT_SID,
    "SmsStatus": "delivered",
    "MessageStatus": "delivered",
    "To": "+14155552671",
    "MessagingServiceSid": "MG5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a",
    "MessageSid": OUT_SID,
    "AccountSid": ACCOUNT,
    "From": "+15005550006",
    "ApiVersion": "2010-04-01",
}


def form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def raw(fields: dict[str, str]) -> RawEvent:
    return RawEvent(
        body=form(fields),
        content_type="application/x-www-form-urlencoded",
        received_at_ms=RECEIVED_AT_MS,
    )


def request(body: bytes, signature: str | None, url: str = URL) -> WebhookRequest:
    headers = {} if signature is None else {"x-twilio-signature": signature}
    return WebhookRequest(body=body, headers=headers, url=url)


def sign(fields: dict[str, str], url: str = URL, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, fields)


# --- verify ---


def test_twilios_documented_signature_vector_passes() -> None:
    # The example of Twilio's webhook security docs and SDK tests: auth token "12345".
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    fields = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    documented = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    config = SourceConfig(auth_token="12345")
    twilio.verify(request(form(fields), documented, url=url), config)
    with pytest.raises(SignatureInvalid):
        twilio.verify(request(form({**fields, "Digits": "9999"}), documented, url=url), config)


@pytest.mark.parametrize("fields", [INBOUND_SMS, INBOUND_MMS, INBOUND_WHATSAPP, STATUS_CALLBACK])
def test_a_correct_signature_passes(fields: dict[str, str]) -> None:
    twilio.verify(request(form(fields), sign(fields)), CONFIG)


def test_a_blank_field_is_signed_too() -> None:
    # ToZip="" must reach the validator: dropping blank fields breaks real signatures.
    fields = {**INBOUND_SMS, "ToZip": ""}
    twilio.verify(request(form(fields), sign(fields)), CONFIG)


@pytest.mark.parametrize("signature", [None, "", "  "])
def test_no_signature_is_missing(signature: str | None) -> None:
    with pytest.raises(SignatureMissing):
        twilio.verify(request(form(INBOUND_SMS), signature), CONFIG)


@pytest.mark.parametrize(
    ("body", "signature", "url"),
    [
        (form(INBOUND_SMS), sign(INBOUND_SMS, token="another-token"), URL),  # wrong token
        (form({**INBOUND_SMS, "Body": "changed"}), sign(INBOUND_SMS), URL),  # tampered field
        (form({**INBOUND_SMS, "Extra": "1"}), sign(INBOUND_SMS), URL),  # added field
        (form(INBOUND_SMS), sign(INBOUND_SMS), URL + "?x=1"),  # another URL
        (form(INBOUND_SMS), "not-a-signature", URL),
        (form(INBOUND_SMS), "é" * 28, URL),  # non-ASCII must not raise anything else
        (b"\xff\xfe garbage", sign(INBOUND_SMS), URL),
    ],
)
def test_a_wrong_signature_is_invalid(body: bytes, signature: str, url: str) -> None:
    with pytest.raises(SignatureInvalid):
        twilio.verify(request(body, signature, url), CONFIG)


def test_without_an_auth_token_every_request_is_invalid() -> None:
    fields = INBOUND_SMS
    with pytest.raises(SignatureInvalid):
        twilio.verify(request(form(fields), sign(fields, token="")), SourceConfig())


# --- translate: incoming messages ---


def test_an_sms_becomes_a_message_of_the_contact() -> None:
    assert twilio.translate(raw(INBOUND_SMS)) == [
        InboundMessage(
            source="twilio.sms",
            source_channel_id="+15005550006",
            source_conversation_key="+14155552671",
            source_message_id=SMS_SID,
            from_contact=True,
            sent_at_ms=RECEIVED_AT_MS,  # Twilio sends no time: Parley's receipt time
            content=INBOUND_SMS,  # every field, strings untouched, blanks kept
            sender_id="+14155552671",
        )
    ]


def test_an_mms_keeps_its_media_fields() -> None:
    [message] = twilio.translate(raw(INBOUND_MMS))
    assert isinstance(message, InboundMessage)
    assert message.source_message_id == MMS_SID
    assert message.content["MediaUrl0"] == INBOUND_MMS["MediaUrl0"]
    assert message.content["MediaContentType0"] == "image/jpeg"
    assert message.content["Body"] == ""


def test_a_whatsapp_message_has_bare_numbers_and_the_profile_name() -> None:
    message, contact = twilio.translate(raw(INBOUND_WHATSAPP))
    assert message == InboundMessage(
        source="twilio.whatsapp",
        source_channel_id="+15005550006",
        source_conversation_key="+14155552671",
        source_message_id=WA_SID,
        from_contact=True,
        sent_at_ms=RECEIVED_AT_MS,
        content=INBOUND_WHATSAPP,
        sender_id="+14155552671",
        sender_name="Ada Lovelace",
    )
    assert contact == MetadataUpdate(
        source="twilio.whatsapp",
        source_channel_id="+15005550006",
        subject="conversation",
        source_conversation_key="+14155552671",
        data={"contact": {"display_name": "Ada Lovelace"}},
    )


def test_the_legacy_sid_alone_identifies_the_message() -> None:
    fields = {k: v for k, v in INBOUND_SMS.items() if k not in ("MessageSid", "SmsSid")}
    [message] = twilio.translate(raw(fields))
    assert isinstance(message, InboundMessage)
    assert message.source_message_id == SMS_SID


def test_the_same_webhook_translates_the_same() -> None:
    assert twilio.translate(raw(INBOUND_WHATSAPP)) == twilio.translate(raw(INBOUND_WHATSAPP))


# --- translate: status callbacks ---


@pytest.mark.parametrize("status", ["queued", "sent", "delivered", "read"])
def test_a_status_callback_sets_the_delivery_state(status: str) -> None:
    fields = {**STATUS_CALLBACK, "SmsStatus": status, "MessageStatus": status}
    assert twilio.translate(raw(fields)) == [
        MetadataUpdate(
            source="twilio.sms",
            source_channel_id="+15005550006",  # From: Parley's own number
            subject="message",
            source_conversation_key="+14155552671",  # To: the contact
            source_message_id=OUT_SID,
            data={"source": {"delivery_state": status}},
        )
    ]


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_a_failed_status_callback_carries_the_error_code(status: str) -> None:
    fields = {**STATUS_CALLBACK, "SmsStatus": status, "MessageStatus": status}
    fields["ErrorCode"] = "30003"  # Twilio's "Unreachable destination handset"
    [update] = twilio.translate(raw(fields))
    assert isinstance(update, MetadataUpdate)
    assert update.data == {"source": {"delivery_state": status, "error_code": "30003"}}


def test_a_whatsapp_read_receipt_is_a_whatsapp_update() -> None:
    fields = {
        **STATUS_CALLBACK,
        "SmsStatus": "read",
        "MessageStatus": "read",
        "ChannelPrefix": "whatsapp",
        "To": "whatsapp:+14155552671",
        "From": "whatsapp:+15005550006",
    }
    [update] = twilio.translate(raw(fields))
    assert update == MetadataUpdate(
        source="twilio.whatsapp",
        source_channel_id="+15005550006",
        subject="message",
        source_conversation_key="+14155552671",
        source_message_id=OUT_SID,
        data={"source": {"delivery_state": "read"}},
    )


# --- translate: garbage ---


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00garbage",  # not UTF-8
        b'{"MessageSid": "SM1", "From": "+1", "To": "+2"}',  # JSON, not a form
        b"Body=%FF%FE&From=%2B1",  # percent-encoded bytes that are not UTF-8
        b"",
        form({k: v for k, v in INBOUND_SMS.items() if "Sid" not in k or k == "AccountSid"}),
        form({k: v for k, v in INBOUND_SMS.items() if k != "From"}),
        form({k: v for k, v in STATUS_CALLBACK.items() if k != "To"}),
    ],
)
def test_an_unreadable_body_is_a_translation_error(body: bytes) -> None:
    with pytest.raises(TranslationError):
        twilio.translate(
            RawEvent(body=body, content_type="application/x-www-form-urlencoded", received_at_ms=1)
        )


# --- routing_key ---


def test_routing_key_is_the_contacts_number() -> None:
    assert twilio.routing_key(form(INBOUND_SMS)) == "+14155552671"
    assert twilio.routing_key(form(INBOUND_WHATSAPP)) == "+14155552671"
    assert twilio.routing_key(form(STATUS_CALLBACK)) == "+14155552671"  # To of a callback


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b"{not a form", b"To=%2B1"])
def test_routing_key_never_raises(body: bytes) -> None:
    assert isinstance(twilio.routing_key(body), str)
