"""Outbound connectors (pure): the exact request each source API gets, what its documented answers
mean, and conversation keys equal to the ones ingest gives the contact's replies."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from messaging.connectors import config_for
from sources import CONNECTORS as BY_KIND
from sources import REGISTRY as INGEST
from sources.inbound import RawEvent
from sources.outbound import ConnectorConfig, Delivered, Outbound, Outcome, Rejected, Retry
from tests.integration import webhooks

#: The connector of each kind of channel.
CONNECTORS = {kind: connector for kind, (_, connector) in BY_KIND.items()}

CONFIG = ConnectorConfig(api_url="https://api.test", account_id="AC123", auth_token="app-token")
SECRETS = {"page_token": "page-token", "user_token": "user-token"}
#: Longer than the 28 characters Viber takes as a sender name.
CHANNEL_NAME = "Acme Support — Customer Care Team"
#: (source_channel_id, recipient) of each source's sample message.
ADDRESSES = {
    "facebook": ("1234567890", "PSID-1"), "instagram": ("17841400000", "IGSID-1"),
    "whatsapp": ("106540352242922", "4915112345678"),
    "twilio.sms": ("+15005550006", "+4915112345678"),
    "twilio.whatsapp": ("+15005550006", "+4915112345678"),
    "viber": ("viber", "01234567890A="), "google": ("agent-1", "conv-1"),
}
GRAPH_ERROR = {"error": {"message": "(#100) No matching user found", "type": "OAuthException",
                         "code": 100, "error_subcode": 2018001, "fbtrace_id": "AbCdEf"}}


def _outbound(source: str, content: Any) -> Outbound:
    channel, recipient = ADDRESSES[source]
    return Outbound(message_id="msg-1", conversation_id="conv-1", source=source,
                    source_channel_id=channel,
                    channel_name=CHANNEL_NAME, recipient=recipient, content=content,
                    secrets=SECRETS)


def _body(request: httpx.Request) -> Any:
    if request.headers["content-type"] == "application/json":
        return json.loads(request.content)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return parse_qs(request.content.decode(), strict_parsing=True)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


META_BODY = {"recipient": {"id": "PSID-1"}, "message": {"text": "hi"}, "messaging_type": "RESPONSE"}


@pytest.mark.parametrize(("source", "content", "url", "auth", "body"), [
    ("facebook", {"text": "hi"}, "https://api.test/me/messages?access_token=page-token", {},
     META_BODY),
    ("instagram", {"text": "hi"}, "https://api.test/me/messages?access_token=page-token", {},
     META_BODY | {"recipient": {"id": "IGSID-1"}}),
    ("whatsapp", {"type": "text", "text": {"body": "hi"}},
     "https://api.test/106540352242922/messages", {"authorization": "Bearer user-token"},
     {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "4915112345678",
      "type": "text", "text": {"body": "hi"}}),
    ("twilio.sms", {"Body": "hi", "MediaUrl": ["https://x.test/a.png", "https://x.test/b.png"]},
     "https://api.test/2010-04-01/Accounts/AC123/Messages.json",
     {"authorization": _basic("AC123", "app-token")},
     {"To": ["+4915112345678"], "From": ["+15005550006"], "Body": ["hi"],
      "MediaUrl": ["https://x.test/a.png", "https://x.test/b.png"]}),
    ("twilio.whatsapp", {"Body": "hi"}, "https://api.test/2010-04-01/Accounts/AC123/Messages.json",
     {"authorization": _basic("AC123", "app-token")},
     {"To": ["whatsapp:+4915112345678"], "From": ["whatsapp:+15005550006"], "Body": ["hi"]}),
    ("viber", {"type": "text", "text": "hi"}, "https://api.test/pa/send_message",
     {"x-viber-auth-token": "app-token"},
     {"receiver": "01234567890A=", "min_api_version": 1,
      "sender": {"name": "Acme Support — Customer Care"}, "type": "text", "text": "hi"}),
    ("google", {"text": "hi"}, "https://api.test/v1/conversations/conv-1/messages",
     {"authorization": "Bearer app-token"},
     {"messageId": "msg-1", "representative": {"representativeType": "BOT"}, "text": "hi"}),
])
def test_each_source_gets_its_documented_request(source: str, content: Any, url: str,
                                                 auth: dict[str, str], body: Any) -> None:
    request = CONNECTORS[source].request(_outbound(source, content), CONFIG)
    assert (request.method, str(request.url)) == ("POST", url)
    credentials = {k: v for k, v in request.headers.items()
                   if k in ("authorization", "x-viber-auth-token")}
    assert credentials == auth
    assert _body(request) == body


@pytest.mark.parametrize(("source", "content", "expected"), [
    # Content that is not an object is sent as a text message.
    ("facebook", "hi", {"message": {"text": "hi"}}),
    ("whatsapp", "hi", {"type": "text", "text": {"body": "hi"}}),
    ("twilio.sms", "hi", {"Body": ["hi"]}),
    ("viber", "hi", {"type": "text", "text": "hi"}),
    ("google", "hi", {"text": "hi"}),
    # Content may set the source's options, but never readdress the message.
    ("whatsapp", {"type": "text", "text": {"body": "hi"}, "to": "999", "recipient_type": "group"},
     {"to": "4915112345678", "recipient_type": "individual"}),
    ("twilio.sms", {"Body": "hi", "To": "+999", "From": "+998"},
     {"To": ["+4915112345678"], "From": ["+15005550006"]}),
    ("viber", {"type": "text", "text": "hi", "receiver": "other", "min_api_version": 7,
               "sender": {"name": "Bot", "avatar": "https://x.test/a.png"}},
     {"receiver": "01234567890A=", "min_api_version": 7,
      "sender": {"name": "Bot", "avatar": "https://x.test/a.png"}}),
    ("google", {"text": "hi", "messageId": "other", "representative": {
        "representativeType": "HUMAN"}},
     {"messageId": "msg-1", "representative": {"representativeType": "HUMAN"}}),
])
def test_content_is_sent_as_text_or_as_given_but_never_readdressed(
        source: str, content: Any, expected: dict[str, Any]) -> None:
    body = _body(CONNECTORS[source].request(_outbound(source, content), CONFIG))
    assert {key: body.get(key) for key in expected} == expected


def _response(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, content=body) if isinstance(body, bytes) else httpx.Response(
        status, json=body)


@pytest.mark.parametrize(("source", "status", "body", "expected"), [
    ("facebook", 200, {"recipient_id": "PSID-1", "message_id": "m_AG5Hz2U"}, Delivered("m_AG5Hz2U")),
    ("facebook", 400, GRAPH_ERROR, Rejected("400: (#100) No matching user found")),
    # Meta answers rate limits with HTTP 400 too; the documented error code says to retry.
    ("facebook", 400, {"error": {"message": "(#4) Application request limit reached",
                                 "type": "OAuthException", "code": 4, "fbtrace_id": "A"}},
     Retry("400: (#4) Application request limit reached")),
    ("instagram", 200, {"recipient_id": "IGSID-1", "message_id": "aWdfZAG1"},
     Delivered("aWdfZAG1")),
    ("instagram", 403, {"error": {"message": "(#10) This message is sent outside of allowed "
                                             "window.", "type": "OAuthException", "code": 10}},
     Rejected("403: (#10) This message is sent outside of allowed window.")),
    ("whatsapp", 200, {"messaging_product": "whatsapp",
                       "contacts": [{"input": "+4915112345678", "wa_id": "4915112345678"}],
                       "messages": [{"id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1"}]},
     Delivered("wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1")),
    ("whatsapp", 400, {"error": {
        "message": "(#131030) Recipient phone number not in allowed list", "type": "OAuthException",
        "code": 131030, "error_data": {"messaging_product": "whatsapp",
                                       "details": "Recipient phone number not in allowed list: "
                                                  "Add recipient phone number to recipient list"},
        "fbtrace_id": "B"}},
     Rejected("400: (#131030) Recipient phone number not in allowed list: Recipient phone number "
              "not in allowed list: Add recipient phone number to recipient list")),
    ("whatsapp", 400, {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException",
                                 "code": 130429, "error_data": {
                                     "messaging_product": "whatsapp",
                                     "details": "Cloud API message throughput has been reached."}}},
     Retry("400: (#130429) Rate limit hit: Cloud API message throughput has been reached.")),
    ("twilio.sms", 201, {"sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "status": "queued"},
     Delivered("SM1f0e8ae6ade43cb3c0ce4525424e404f")),
    ("twilio.whatsapp", 400, {"code": 21211, "message": "The 'To' number 5551234567 is not a "
                              "valid phone number.", "more_info":
                              "https://www.twilio.com/docs/errors/21211", "status": 400},
     Rejected("400: The 'To' number 5551234567 is not a valid phone number. (Twilio error 21211)")),
    ("viber", 200, {"status": 0, "status_message": "ok", "message_token": 5741311803571721087,
                    "chat_hostname": "SN-CHAT-05_"}, Delivered("5741311803571721087")),
    # Beyond 2^53 a float would change the digits; the token is kept exactly.
    ("viber", 200, b'{"status":0,"status_message":"ok","message_token":9223372036854775807}',
     Delivered("9223372036854775807")),
    # Viber answers HTTP 200 to failures: its own status decides.
    ("viber", 200, {"status": 6, "status_message": "notSubscribed"},
     Rejected("notSubscribed (Viber status 6)")),
    ("viber", 200, {"status": 12, "status_message": "Too many requests",
                    "message_token": "1234567890", "chat_hostname": "SN-CHAT-0x_"},
     Retry("Too many requests (Viber status 12)")),
    ("viber", 200, {"status": 0, "status_message": "ok"},
     Rejected("Viber status 0 without a message_token")),
    ("google", 200, {"name": "conversations/conv-1/messages/msg-1", "messageId": "msg-1",
                     "representative": {"representativeType": "BOT"}, "text": "hi"},
     Delivered("msg-1")),
    ("google", 200, {"name": "conversations/conv-1/messages/msg-2"}, Delivered("msg-2")),
    ("google", 403, {"error": {"code": 403, "message": "The caller does not have permission",
                               "status": "PERMISSION_DENIED"}},
     Rejected("403: The caller does not have permission (PERMISSION_DENIED)")),
])
def test_documented_answers(source: str, status: int, body: Any, expected: Outcome) -> None:
    assert CONNECTORS[source].outcome(_response(status, body)) == expected


@pytest.mark.parametrize("source", ["facebook", "instagram", "whatsapp", "twilio.sms", "viber",
                                    "google"])
@pytest.mark.parametrize(("status", "body", "expected"), [
    (429, {}, Retry("HTTP 429")),
    (500, {}, Retry("HTTP 500")),
    (502, b"<html><body>502 Bad Gateway</body></html>", Retry("HTTP 502")),
    # A success status without the source's message id: not retried, it may have been sent.
    (200, {}, Rejected("HTTP 200")),
])
def test_failures_every_source_shares(source: str, status: int, body: Any,
                                      expected: Outcome) -> None:
    assert CONNECTORS[source].outcome(_response(status, body)) == expected


def test_a_throttled_answer_keeps_the_sources_message() -> None:
    assert CONNECTORS["facebook"].outcome(httpx.Response(429, json=GRAPH_ERROR)) == Retry(
        "429: (#100) No matching user found")
    assert CONNECTORS["google"].outcome(httpx.Response(503, json={"error": {
        "code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"
    }})) == Retry("503: The service is currently unavailable. (UNAVAILABLE)")


@pytest.mark.parametrize(("source", "written", "key"), [
    ("whatsapp", "+49 151-234", "49151234"),
    ("whatsapp", "whatsapp:+49 (151) 234.5", "491512345"),
    ("whatsapp", "49151234", "49151234"),
    ("twilio.sms", "+49 151-234", "+49151234"),
    ("twilio.whatsapp", "whatsapp:+49151234", "+49151234"),
    # Not a number: "" (messages.send refuses it).
    ("whatsapp", "ann@example.com", ""),
    ("whatsapp", "+", ""),
    ("whatsapp", "+49 ١٥١", ""),
    # Without "+" the country is unknown; Twilio keys contacts by E.164 numbers.
    ("twilio.sms", "0151234", ""),
    ("twilio.whatsapp", "whatsapp:", ""),
])
def test_conversation_keys_of_written_numbers(source: str, written: str, key: str) -> None:
    assert CONNECTORS[source].conversation_key(written) == key


_SAME: Callable[[str], str] = str


@pytest.mark.parametrize(("make", "written"), [
    (webhooks.facebook, _SAME), (webhooks.instagram, _SAME), (webhooks.google, _SAME),
    (webhooks.viber, _SAME),
    (webhooks.whatsapp, lambda wa_id: f"+{wa_id[:1]} {wa_id[1:4]}-{wa_id[4:]}"),
    (lambda: webhooks.twilio(False), lambda number: f"{number[:2]} {number[2:]}"),
    (lambda: webhooks.twilio(True), lambda number: "whatsapp:" + number),
], ids=["facebook", "instagram", "google", "viber", "whatsapp", "twilio.sms", "twilio.whatsapp"])
def test_a_recipients_key_is_the_one_ingest_gives_their_replies(
        make: Callable[[], webhooks.Webhook], written: Callable[[str], str]) -> None:
    hook = make()
    raw = RawEvent(hook.body, hook.headers.get("content-type", "application/json"), 0)
    reply = INGEST[hook.source.split(".")[0]].translate(raw)[0]
    assert CONNECTORS[hook.source].conversation_key(written(hook.contact)) == (
        reply.source_conversation_key)


def test_every_source_has_a_connector_configured_by_its_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert {kind: name for kind, (name, _) in BY_KIND.items()} == {
        "facebook": "facebook", "instagram": "instagram", "whatsapp": "whatsapp",
        "twilio.sms": "twilio", "twilio.whatsapp": "twilio", "viber": "viber", "google": "google"}
    assert [kind for kind, connector in CONNECTORS.items() if connector.can_start_conversations] == [
        "whatsapp", "twilio.sms", "twilio.whatsapp"]
    monkeypatch.setenv("PARLEY_TWILIO_API_URL", "http://127.0.0.1:18099/twilio/")
    monkeypatch.setenv("PARLEY_TWILIO_ACCOUNT_SID", "AC1")
    monkeypatch.setenv("PARLEY_TWILIO_AUTH_TOKEN", "secret")
    assert config_for("twilio.whatsapp") == ConnectorConfig("http://127.0.0.1:18099/twilio", "AC1",
                                                            "secret")
    monkeypatch.delenv("PARLEY_GOOGLE_API_URL", raising=False)
    assert config_for("google").api_url == CONNECTORS["google"].default_api_url
