"""Instagram Messaging: signature, handshake, translation of every event kind, routing key.

Payloads follow Meta's "Webhooks for Instagram Messaging" examples (messages with text and media,
echoes, messaging_postbacks, messaging_seen, message_reactions, messaging_referral).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sources import instagram, meta
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

IGID = "17841405822304914"
IGSID = "6583251401696339"
OTHER_IGSID = "7069583876458521"
_MID_PREFIX = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcx"
MID = _MID_PREFIX + "MDMwMTI0NDI1"
ECHO_MID = _MID_PREFIX + "MDMwMTI0NDI2"
CONFIG = SourceConfig(app_secret=SECRET, verify_token="ig-verify-token")

TEXT = {
    "sender": {"id": IGSID},
    "recipient": {"id": IGID},
    "timestamp": 1569262485349,
    "message": {"mid": MID, "text": "Is this still available?"},
}
MEDIA = {
    "sender": {"id": IGSID},
    "recipient": {"id": IGID},
    "timestamp": 1569262485400,
    "message": {
        "mid": MID + "Mw",
        "attachments": [
            {
                "type": "image",
                "payload": {"url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"},
            }
        ],
    },
}
ECHO = {
    "sender": {"id": IGID},
    "recipient": {"id": IGSID},
    "timestamp": 1569262486000,
    "message": {"mid": ECHO_MID, "text": "Yes, it is!", "is_echo": True},
}
POSTBACK = {
    "sender": {"id": IGSID},
    "recipient": {"id": IGID},
    "timestamp": 1502905976377,
    "postback": {
        "mid": MID + "UA",
        "title": "What are your opening hours?",
        "payload": "ICEBREAKER_HOURS",
        "referral": {"ref": "bio-link", "source": "SHORTLINKS", "type": "OPEN_THREAD"},
    },
}
SEEN = {
    "sender": {"id": IGSID},
    "recipient": {"id": IGID},
    "timestamp": 1569262487000,
    "read": {"mid": ECHO_MID},
}
REACTION = {
    "sender": {"id": IGSID},
    "recipient": {"id": IGID},
    "timestamp": 1569262488000,
    "reaction": {"mid": ECHO_MID, "action": "react", "reaction": "love", "emoji": "\u2764\ufe0f"},
}
# Instagram leaves "reaction" and "emoji" out when the user removes a reaction.
UNREACT = {
    "sender": {"id": IGSID},
    "recipient": {"id": IGID},
    "timestamp": 1569262489000,
    "reaction": {"mid": ECHO_MID, "action": "unreact"},
}
REFERRAL = {
    "sender": {"id": IGSID},
    "recipient": {"id": IGID},
    "timestamp": 1569262490000,
    "referral": {"ref": "bio-link", "source": "SHORTLINKS", "type": "OPEN_THREAD"},
}


def body(*items: dict[str, Any], account: str = IGID) -> bytes:
    entries = [{"id": account, "time": 1569262486134, "messaging": [item]} for item in items]
    return json.dumps({"object": "instagram", "entry": entries}).encode()


def translate(*items: dict[str, Any]) -> list[Any]:
    return instagram.translate(RawEvent(body(*items), "application/json", 1_700_000_000_000))


def request(payload: bytes, headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest(body=payload, headers=headers, url="https://parley.example.com/instagram")


def test_name_and_verify_delegate_to_meta() -> None:
    payload = body(TEXT)
    assert instagram.NAME == "instagram"
    instagram.verify(request(payload, {"x-hub-signature-256": sign(payload)}), CONFIG)
    with pytest.raises(SignatureInvalid):
        instagram.verify(request(payload, {"x-hub-signature-256": sign(payload, "other")}), CONFIG)
    with pytest.raises(SignatureMissing):
        instagram.verify(request(payload, {}), CONFIG)


def test_handshake() -> None:
    challenge = "1700000000"
    assert meta.verify_subscription("subscribe", "ig-verify-token", challenge, CONFIG) == challenge
    with pytest.raises(SignatureInvalid):
        meta.verify_subscription("subscribe", "fb-verify-token", "1700000000", CONFIG)


def test_a_text_message() -> None:
    assert translate(TEXT) == [
        InboundMessage("instagram", IGID, IGSID, MID, True, 1569262485349, TEXT["message"], IGSID)
    ]


def test_a_media_message_keeps_its_content_untouched() -> None:
    (message,) = translate(MEDIA)
    assert message.content == MEDIA["message"]
    assert message.source_message_id == MID + "Mw"
    assert message.sent_at_ms == 1569262485400


def test_an_echo_is_the_accounts_own_message() -> None:
    assert translate(ECHO) == [
        InboundMessage(
            "instagram", IGID, IGSID, ECHO_MID, False, 1569262486000, ECHO["message"], IGID
        )
    ]


def test_a_postback() -> None:
    (postback,) = translate(POSTBACK)
    assert postback == InboundMessage(
        "instagram", IGID, IGSID, MID + "UA", True, 1502905976377, POSTBACK["postback"], IGSID
    )


def test_a_seen_event_marks_the_named_message_read() -> None:
    assert translate(SEEN) == [
        MetadataUpdate(
            "instagram", IGID, "message", IGSID, ECHO_MID, {"source": {"delivery_state": "read"}}
        )
    ]


def test_a_reaction_and_its_removal() -> None:
    react, unreact = translate(REACTION, UNREACT)
    assert react == MetadataUpdate(
        "instagram", IGID, "message", IGSID, ECHO_MID,
        {"reactions": {IGSID: {"emoji": "\u2764\ufe0f", "sent_at": 1569262488000}}},
    )
    assert unreact == MetadataUpdate(
        "instagram", IGID, "message", IGSID, ECHO_MID,
        {"reactions": {IGSID: {"emoji": "", "sent_at": 1569262489000}}},
    )


def test_other_events_are_ignored() -> None:
    assert translate(REFERRAL) == []


def test_several_entries() -> None:
    events = translate(TEXT, ECHO, SEEN, REFERRAL, UNREACT)
    assert [(type(e).__name__, e.source_message_id) for e in events] == [
        ("InboundMessage", MID),
        ("InboundMessage", ECHO_MID),
        ("MetadataUpdate", ECHO_MID),
        ("MetadataUpdate", ECHO_MID),
    ]
    assert {e.source_conversation_key for e in events} == {IGSID}


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b'{"object": "instagram", "entry": "x"}',
        body(TEXT).replace(b'"instagram"', b'"page"'),
        body({**REACTION, "reaction": {"action": "react", "emoji": "x"}}),
    ],
)
def test_garbage_is_a_translation_error(payload: bytes) -> None:
    with pytest.raises(TranslationError):
        instagram.translate(RawEvent(payload, "application/json", 0))


def test_routing_key() -> None:
    assert instagram.routing_key(body(TEXT, ECHO, SEEN, REACTION)) == IGSID
    assert instagram.routing_key(body(ECHO)) == IGSID
    assert instagram.routing_key(body(TEXT, {**TEXT, "sender": {"id": OTHER_IGSID}})) == IGID
    assert instagram.routing_key(body(TEXT).replace(b'"instagram"', b'"page"')) == ""
    assert instagram.routing_key(b"\x89PNG\r\n") == ""


def test_a_persons_profile_is_their_name_else_their_username() -> None:
    profile = instagram.SOURCE.profile
    assert profile is not None
    assert profile.request("https://g", "igsid", {"page_token": "pt"}).url.params["fields"] == (
        "name,username,profile_pic")
    assert profile.read({"name": "Ada", "username": "ada"}).display_name == "Ada"
    assert profile.read({"username": "ada", "profile_pic": "https://p"}) == meta.Profile("ada", "https://p")
    assert profile.read({}).display_name == ""
