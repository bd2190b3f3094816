"""Signed webhooks of every source, with fresh ids per call, shaped like the sources' documented
payloads (the unit tests of `sources` hold the full catalogue of event kinds)."""

from __future__ import annotations

import base64
import hmac
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from twilio.request_validator import RequestValidator

from runtime import ids, timestamps
from tests.conftest import TEST_ENV
from tests.integration.helpers import api


def _digits(n: int) -> str:
    return "".join(random.choice("0123456789") for _ in range(n))


def _secret(name: str) -> str:
    return TEST_ENV[f"PARLEY_{name}"]


@dataclass
class Webhook:
    """A webhook of one conversation of one channel, and what Parley should make of it."""

    source: str  # the channel's source ("twilio.sms", ...)
    path: str
    connect_path: str
    connect_body: dict[str, Any]
    source_channel_id: str
    contact: str
    text: str
    sent_at_ms: int | None  # None: the source sends no time (Twilio)
    sender_name: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def channel_id(self) -> str:
        return ids.channel_id(self.source, self.source_channel_id)

    @property
    def conversation_id(self) -> str:
        return ids.conversation_id(self.channel_id, self.contact)

    def post(self, base_url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST this webhook (with its signature unless `headers` replace them)."""
        return httpx.post(f"{base_url}{self.path}", content=self.body,
                          headers=self.headers if headers is None else headers, timeout=15)

    def connect(self, base_url: str) -> dict[str, Any]:
        """Connect this webhook's channel through the API."""
        reply = api.post(f"{base_url}{self.connect_path}", json=self.connect_body, timeout=15)
        assert reply.status_code == 200, reply.text
        return dict(reply.json())


def _meta(obj: str, items: list[dict[str, Any]], account: str) -> bytes:
    entries = [{"id": account, "time": int(time.time() * 1000), "messaging": [i]} for i in items]
    return json.dumps({"object": obj, "entry": entries}).encode()


def _hmac(secret: str, body: bytes, digest: str) -> bytes:
    return hmac.new(_secret(secret).encode(), body, digest).digest()


def signed_headers(path: str, body: bytes) -> dict[str, str]:
    """The headers that sign `body` as the source of webhook path `path` does (Twilio signs the
    URL and the form fields of the body)."""
    json_type = {"content-type": "application/json"}
    meta = {"/facebook": "FACEBOOK_APP_SECRET", "/instagram": "INSTAGRAM_APP_SECRET",
            "/whatsapp": "WHATSAPP_APP_SECRET"}
    if path in meta:
        return {**json_type, "x-hub-signature-256": "sha256=" + _hmac(meta[path], body,
                                                                      "sha256").hex()}
    if path == "/google":
        return {**json_type, "x-goog-signature": base64.b64encode(
            _hmac("GOOGLE_CLIENT_TOKEN", body, "sha512")).decode()}
    if path == "/viber":
        return {**json_type,
                "x-viber-content-signature": _hmac("VIBER_AUTH_TOKEN", body, "sha256").hex()}
    assert path == "/twilio", path
    fields = dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
    signature = RequestValidator(_secret("TWILIO_AUTH_TOKEN")).compute_signature(
        TEST_ENV["PARLEY_PUBLIC_URL"] + path, fields)
    return {"content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": signature}


def facebook(text: str = "hello, world!", sent_at_ms: int = 1_700_000_000_000,
             page: str = "", psid: str = "") -> Webhook:
    """A Messenger text message (messages webhook of a Page)."""
    page, psid = page or "9" + _digits(14), psid or "8" + _digits(15)
    item = {"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": sent_at_ms,
            "message": {"mid": f"m_{uuid.uuid4().hex}", "text": text}}
    return facebook_event(page, psid, item, text, sent_at_ms)


def facebook_event(page: str, psid: str, item: dict[str, Any], text: str = "",
                   sent_at_ms: int | None = None) -> Webhook:
    """Any Messenger webhook item (echo, delivery, reaction, ...) of the conversation with `psid`."""
    body = _meta("page", [item], page)
    return Webhook("facebook", "/facebook", "/channels.facebook.connect",
                   {"page_id": page, "page_token": f"page-token-{uuid.uuid4().hex}", "name": "Page"},
                   page, psid, text, sent_at_ms, body=body,
                   headers=signed_headers("/facebook", body))


def instagram(text: str = "hi from instagram", sent_at_ms: int = 1_700_000_100_000) -> Webhook:
    """An Instagram direct message."""
    account, igsid = "17841" + _digits(12), "65" + _digits(14)
    item = {"sender": {"id": igsid}, "recipient": {"id": account}, "timestamp": sent_at_ms,
            "message": {"mid": f"aWdf{uuid.uuid4().hex}", "text": text}}
    body = _meta("instagram", [item], account)
    return Webhook("instagram", "/instagram", "/channels.instagram.connect",
                   {"page_id": "1" + _digits(14), "account_id": account,
                    "page_token": f"page-token-{uuid.uuid4().hex}", "name": "IG"},
                   account, igsid, text, sent_at_ms, body=body,
                   headers=signed_headers("/instagram", body))


def whatsapp(text: str = "hi from whatsapp", sent_at_s: int = 1_700_000_200) -> Webhook:
    """A WhatsApp Cloud API text message with the contact's profile name."""
    phone_number_id, wa_id = "1065" + _digits(11), "1650" + _digits(7)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": str(sent_at_s),
                      "type": "text", "text": {"body": text}}],
    }
    body = json.dumps({"object": "whatsapp_business_account", "entry": [
        {"id": "1022" + _digits(11), "changes": [{"value": value, "field": "messages"}]}]}).encode()
    return Webhook("whatsapp", "/whatsapp", "/channels.whatsapp.connect",
                   {"phone_number_id": phone_number_id, "user_token": f"user-token-{uuid.uuid4().hex}",
                    "name": "WA"},
                   phone_number_id, wa_id, text, sent_at_s * 1000, sender_name="Kerry Fisher",
                   body=body, headers=signed_headers("/whatsapp", body))


def twilio(whatsapp_prefix: bool, text: str = "hi over twilio") -> Webhook:
    """An incoming Twilio SMS, or a Twilio WhatsApp message (`whatsapp:` numbers)."""
    to, sender = "+1500" + _digits(7), "+1415" + _digits(7)
    sid = "SM" + uuid.uuid4().hex
    prefix = "whatsapp:" if whatsapp_prefix else ""
    fields = {
        "ToCountry": "US", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid,
        "SmsStatus": "received", "Body": text, "To": prefix + to, "NumSegments": "1",
        "MessageSid": sid, "AccountSid": "AC" + uuid.uuid4().hex, "From": prefix + sender,
        "ApiVersion": "2010-04-01",
    }
    if whatsapp_prefix:
        fields |= {"ProfileName": "Ann Example", "WaId": sender.lstrip("+")}
    source = "twilio.whatsapp" if whatsapp_prefix else "twilio.sms"
    body = urlencode(fields).encode()
    return Webhook(source, "/twilio", f"/channels.{source}.connect",
                   {"phone_number": to, "name": "Twilio"}, to, sender, text, None,
                   sender_name="Ann Example" if whatsapp_prefix else "",
                   body=body, headers=signed_headers("/twilio", body))


GOOGLE_CREATE_TIME = "2026-11-20T10:15:30.250123Z"


def google(text: str = "hi from google") -> Webhook:
    """A Business Messages user message with the user's display name."""
    agent, conversation, message_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    payload = {
        "agent": f"brands/{uuid.uuid4()}/agents/{agent}",
        "conversationId": conversation,
        "customAgentId": "",
        "requestId": str(uuid.uuid4()),
        "message": {"name": f"conversations/{conversation}/messages/{message_id}",
                    "text": text, "messageId": message_id,
                    "createTime": GOOGLE_CREATE_TIME},
        "context": {"userInfo": {"displayName": "Gina Google", "userDeviceLocale": "en-US"}},
        "sendTime": "2026-11-20T10:15:30.500000Z",
    }
    body = json.dumps(payload).encode()
    return Webhook("google", "/google", "/channels.google.connect",
                   {"gbm_id": agent, "name": "GBM"}, agent, conversation, text,
                   timestamps.parse_ms(GOOGLE_CREATE_TIME),
                   sender_name="Gina Google", body=body, headers=signed_headers("/google", body))


def viber(text: str = "a message to the service", token: int = 0) -> Webhook:
    """A Viber message callback; its 64-bit message_token (random unless given; Viber's are
    unique) must survive exactly."""
    token = token or random.randrange(2**60, 2**63)
    user = base64.b64encode(uuid.uuid4().bytes[:9]).decode()
    payload = {
        "event": "message", "timestamp": 1_700_000_300_000, "chat_hostname": "SN-376_",
        "message_token": token,
        "sender": {"id": user, "name": "John McClane", "avatar": "http://avatar.example.com",
                   "language": "en", "country": "UK", "api_version": 1},
        "message": {"type": "text", "text": text, "tracking_data": "tracking data"},
        "silent": False,
    }
    body = json.dumps(payload).encode()
    return Webhook("viber", "/viber", "/channels.viber.connect", {"name": "Viber bot"},
                   "viber", user, text, 1_700_000_300_000, sender_name="John McClane", body=body,
                   headers=signed_headers("/viber", body))


def every_source() -> list[Webhook]:
    """One fresh webhook per source."""
    return [facebook(), instagram(), whatsapp(), twilio(False), twilio(True), google(), viber()]
