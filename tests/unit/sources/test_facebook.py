"""Facebook Messenger: signature, handshake, translation of every event kind, routing key.

Payloads follow the Messenger Platform webhook reference (messages, message_echoes,
messaging_postbacks, message_deliveries, message_reads, message_reactions, messaging_referrals).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sources import facebook, meta
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

PAGE_ID = "682498302938465"
PSID = "1254459154682919"
OTHER_PSID = "2028279607252615"
RECEIVED_AT_MS = 1_700_000_000_000
CONFIG = SourceConfig(app_secret=SECRET, verify_token="fb-verify-token")

TEXT = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "timestamp": 1458692752478,
    "message": {
        "mid": "mid.1457764197618:41d102a3e1ae206a38",
        "text": "hello, world!",
        "quick_reply": {"payload": "DEVELOPER_DEFINED_PAYLOAD"},
    },
}
ATTACHMENT = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "timestamp": 1518479195308,
    "message": {
        "mid": "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c",
        "attachments": [
            {
                "type": "image",
                "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/a.jpg"},
            }
        ],
    },
}
ECHO = {
    "sender": {"id": PAGE_ID},
    "recipient": {"id": PSID},
    "timestamp": 1457764197627,
    "message": {
        "is_echo": True,
        "app_id": 1517776481860111,
        "metadata": "DEVELOPER_DEFINED_METADATA_STRING",
        "mid": "mid.1458696618141:b4ef9d19ec21086067",
        "text": "hello, world!",
    },
}
POSTBACK = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "timestamp": 1527459824000,
    "postback": {
        "mid": "m_MESSAGE-ID",
        "title": "TITLE-FOR-THE-CTA",
        "payload": "USER-DEFINED-PAYLOAD",
    },
}
# Before Graph v11 (and for the Get Started button of older apps) a postback has no mid.
POSTBACK_WITHOUT_MID = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "timestamp": 1458692752478,
    "postback": {"title": "Get Started", "payload": "GET_STARTED_PAYLOAD"},
}
DELIVERY = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "delivery": {"mids": ["mid.1458668856218:ed81099e15d3f4f233"], "watermark": 1458668856253},
}
READ = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "timestamp": 1458668856463,
    "read": {"watermark": 1458668856253},
}
REACTION = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "timestamp": 1458668856463,
    "reaction": {
        "reaction": "love",
        "emoji": "\u2764\ufe0f",
        "action": "react",
        "mid": "mid.1458696618141:b4ef9d19ec21086067",
    },
}
UNREACT = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "timestamp": 1458668857000,
    "reaction": {
        "reaction": "love",
        "emoji": "\u2764\ufe0f",
        "action": "unreact",
        "mid": "mid.1458696618141:b4ef9d19ec21086067",
    },
}
REFERRAL = {
    "sender": {"id": PSID},
    "recipient": {"id": PAGE_ID},
    "timestamp": 1458692752478,
    "referral": {"ref": "summer-campaign", "source": "SHORTLINK", "type": "OPEN_THREAD"},
}


def body(*items: dict[str, Any], page: str = PAGE_ID) -> bytes:
    """A Page webhook body: one entry per item, as Meta batches them."""
    entries = [{"id": page, "time": 1458692752478, "messaging": [item]} for item in items]
    return json.dumps({"object": "page", "entry": entries}).encode()


def translate(*items: dict[str, Any]) -> list[Any]:
    return facebook.translate(RawEvent(body(*items), "application/json", RECEIVED_AT_MS))


def request(payload: bytes, headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest(body=payload, headers=headers, url="https://parley.example.com/facebook")


def test_name_and_verify_delegate_to_meta() -> None:
    payload = body(TEXT)
    assert facebook.NAME == "facebook"
    facebook.verify(request(payload, {"x-hub-signature-256": sign(payload)}), CONFIG)
    with pytest.raises(SignatureInvalid):
        facebook.verify(request(payload, {"x-hub-signature-256": sign(body(ECHO))}), CONFIG)
    with pytest.raises(SignatureMissing):
        facebook.verify(request(payload, {"content-type": "application/json"}), CONFIG)


def test_handshake() -> None:
    challenge = "CHALLENGE_ACCEPTED"
    assert meta.verify_subscription("subscribe", "fb-verify-token", challenge, CONFIG) == challenge
    with pytest.raises(SignatureInvalid):
        meta.verify_subscription("subscribe", "not-the-token", challenge, CONFIG)


def test_a_text_message_with_quick_reply() -> None:
    assert translate(TEXT) == [
        InboundMessage(
            source="facebook",
            source_channel_id=PAGE_ID,
            source_conversation_key=PSID,
            source_message_id="mid.1457764197618:41d102a3e1ae206a38",
            from_contact=True,
            sent_at_ms=1458692752478,
            content=TEXT["message"],
            sender_id=PSID,
        )
    ]


def test_a_media_attachment_keeps_its_content_untouched() -> None:
    (message,) = translate(ATTACHMENT)
    assert message.source_message_id == "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c"
    assert message.sent_at_ms == 1518479195308
    assert message.content == ATTACHMENT["message"]
    assert message.content["attachments"][0]["payload"]["url"].endswith("/a.jpg")


def test_an_echo_is_the_pages_own_message_in_the_users_conversation() -> None:
    (echo,) = translate(ECHO)
    assert isinstance(echo, InboundMessage)
    assert echo.from_contact is False
    assert echo.source_conversation_key == PSID
    assert echo.sender_id == PAGE_ID
    assert echo.source_message_id == "mid.1458696618141:b4ef9d19ec21086067"
    assert echo.sent_at_ms == 1457764197627
    assert echo.content == ECHO["message"]


def test_a_postback_with_mid() -> None:
    (postback,) = translate(POSTBACK)
    assert postback == InboundMessage(
        "facebook", PAGE_ID, PSID, "m_MESSAGE-ID", True, 1527459824000, POSTBACK["postback"], PSID
    )


def test_a_postback_without_mid_gets_a_deterministic_prefixed_id() -> None:
    (first,) = translate(POSTBACK_WITHOUT_MID)
    (again,) = translate(POSTBACK_WITHOUT_MID)
    other = {**POSTBACK_WITHOUT_MID, "postback": {"title": "Menu", "payload": "MENU_PAYLOAD"}}
    (different,) = translate(other)
    assert first.source_message_id == again.source_message_id
    assert first.source_message_id.startswith(meta.POSTBACK_ID_PREFIX)
    assert different.source_message_id != first.source_message_id
    assert first.content == {"title": "Get Started", "payload": "GET_STARTED_PAYLOAD"}
    assert first.sent_at_ms == 1458692752478


def test_a_delivery_marks_each_mid_delivered() -> None:
    two = {**DELIVERY, "delivery": {"mids": ["mid.1", "mid.2"], "watermark": 1458668856253}}
    assert translate(two) == [
        MetadataUpdate(
            "facebook", PAGE_ID, "message", PSID, mid, {"source": {"delivery_state": "delivered"}}
        )
        for mid in ("mid.1", "mid.2")
    ]
    # "mids" may be absent (watermark only): nothing names a message.
    assert translate({**DELIVERY, "delivery": {"watermark": 1458668856253}}) == []


def test_a_read_sets_the_conversations_read_watermark() -> None:
    assert translate(READ) == [
        MetadataUpdate(
            "facebook",
            PAGE_ID,
            "conversation",
            PSID,
            "",
            {"source": {"read_watermark": 1458668856253}},
        )
    ]


def test_a_reaction_and_its_removal() -> None:
    mid = "mid.1458696618141:b4ef9d19ec21086067"
    react, unreact = translate(REACTION, UNREACT)
    assert react == MetadataUpdate(
        "facebook", PAGE_ID, "message", PSID, mid,
        {"reactions": {PSID: {"emoji": "\u2764\ufe0f", "sent_at": 1458668856463}}},
    )
    assert unreact.source_message_id == mid
    assert unreact.data == {"reactions": {PSID: {"emoji": "", "sent_at": 1458668857000}}}


def test_other_events_are_ignored() -> None:
    assert translate(REFERRAL) == []


def test_several_entries_and_items_in_order() -> None:
    events = translate(TEXT, ECHO, DELIVERY, READ, REFERRAL, REACTION)
    assert [type(e).__name__ for e in events] == [
        "InboundMessage", "InboundMessage", "MetadataUpdate", "MetadataUpdate", "MetadataUpdate"
    ]
    # Several items in one entry's messaging[] are read too.
    entry = {"id": PAGE_ID, "time": 1458692752478, "messaging": [TEXT, ATTACHMENT]}
    payload = {"object": "page", "entry": [entry]}
    raw = RawEvent(json.dumps(payload).encode(), "application/json", RECEIVED_AT_MS)
    assert [e.source_message_id for e in facebook.translate(raw)] == [
        "mid.1457764197618:41d102a3e1ae206a38", "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c"
    ]


def test_standby_items_are_read_like_messaging_items() -> None:
    payload = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "standby": [ECHO]}]}
    (echo,) = facebook.translate(RawEvent(json.dumps(payload).encode(), "application/json", 0))
    assert isinstance(echo, InboundMessage)
    assert echo.source_message_id == "mid.1458696618141:b4ef9d19ec21086067"
    assert echo.from_contact is False


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        body(TEXT).replace(b'"page"', b'"instagram"'),
        json.dumps({"object": "page", "entry": [{"messaging": [TEXT]}]}).encode(),
        json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "messaging": {"x": 1}}]}).encode(),
        body({**TEXT, "message": {"text": "no mid"}}),
        body({**TEXT, "sender": {}}),
        body({**TEXT, "timestamp": 253402300800000}),  # year 10000: no RFC 3339 time
        body({**TEXT, "timestamp": -1}),
        body({**TEXT, "timestamp": str(10**30)}),
    ],
)
def test_garbage_is_a_translation_error(payload: bytes) -> None:
    with pytest.raises(TranslationError):
        facebook.translate(RawEvent(payload, "application/json", RECEIVED_AT_MS))


def test_routing_key() -> None:
    assert facebook.routing_key(body(TEXT)) == PSID
    assert facebook.routing_key(body(ECHO)) == PSID  # the user, not the page
    assert facebook.routing_key(body(TEXT, ECHO, DELIVERY, READ)) == PSID
    other_user = {**TEXT, "sender": {"id": OTHER_PSID}}
    assert facebook.routing_key(body(TEXT, other_user)) == PAGE_ID
    for garbage in (b"", b"\x00\xff", b"[1,2]", b'{"object":"page","entry":[{"messaging":7}]}'):
        assert facebook.routing_key(garbage) == ""


def test_a_persons_profile_is_asked_with_the_page_token_and_read() -> None:
    profile = facebook.SOURCE.profile
    assert profile is not None
    request = profile.request("https://graph.example/v19.0", "psid/1", {"page_token": "pt"})
    assert request.method == "GET" and request.url.raw_path.startswith(b"/v19.0/psid%2F1?")
    assert dict(request.url.params) == {"fields": "first_name,last_name,profile_pic", "access_token": "pt"}
    read = profile.read({"first_name": "Ada", "last_name": "Lovelace", "profile_pic": "https://p/a.jpg"})
    assert (read.display_name, read.avatar_url) == ("Ada Lovelace", "https://p/a.jpg")
    assert profile.read({"last_name": "Only", "profile_pic": 7}) == facebook.meta.Profile("Only", "")


def test_the_pages_a_user_manages_and_the_cursor_of_the_next_ones() -> None:
    first = facebook.pages_request("https://graph.example/v19.0", "user-token")
    assert first.url.path == "/v19.0/me/accounts" and "after" not in first.url.params
    assert first.url.params["access_token"] == "user-token"
    assert facebook.pages_request("https://g", "t", "A1").url.params["after"] == "A1"
    pages, after = facebook.read_pages({
        "data": [{"id": "1", "name": "One", "picture": {"data": {"url": "https://p/1.jpg"}}},
                 {"id": 2, "name": None}, {"name": "no id"}],
        "paging": {"cursors": {"after": "A1"}, "next": "https://graph.example/next"}})
    assert pages == [facebook.ManagedPage("1", "One", "https://p/1.jpg"), facebook.ManagedPage("2", "", "")]
    assert after == "A1"
    # Without `next` there are no more, whatever the cursors say.
    assert facebook.read_pages({"data": [], "paging": {"cursors": {"after": "A9"}}}) == ([], "")
    with pytest.raises(TranslationError):
        facebook.read_pages({"data": "not a list"})
