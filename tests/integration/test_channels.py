"""Channels through Envoy: connect, list, info, update, disconnect for every source; bad input;
tokens stored but never returned or logged."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from runtime import ids
from runtime.settings import Settings
from tests.integration.helpers import post


def _digits() -> str:
    return str(uuid.uuid4().int)[:12]


TOKEN = f"secret-token-{uuid.uuid4().hex}"
CONNECTS: list[tuple[str, dict[str, Any], str]] = [
    ("facebook", {"page_id": "p" + _digits(), "page_token": TOKEN, "name": "Page"}, "page_id"),
    ("instagram", {"page_id": "p" + _digits(), "account_id": "a" + _digits(), "page_token": TOKEN,
                   "name": "IG"}, "account_id"),
    ("google", {"gbm_id": str(uuid.uuid4()), "name": "Agent"}, "gbm_id"),
    ("twilio.sms", {"phone_number": "+1500" + _digits()[:7], "name": "SMS"}, "phone_number"),
    ("twilio.whatsapp", {"phone_number": "whatsapp:+1500" + _digits()[:7], "name": "WA"}, "phone_number"),
    ("whatsapp", {"phone_number_id": _digits(), "user_token": TOKEN, "name": "Cloud"}, "phone_number_id"),
    ("chatplugin", {"name": "Website"}, ""),
]


@pytest.mark.parametrize("source, body, key", CONNECTS, ids=[c[0] for c in CONNECTS])
def test_connect_list_info_update_disconnect(
    live_stack: Settings, base_url: str, source: str, body: dict[str, Any], key: str
) -> None:
    connected = post(base_url, f"/channels.{source}.connect", {**body, "image_url": "http://i/x.png"})
    assert connected.status_code == 200, connected.text
    channel = connected.json()
    assert TOKEN not in connected.text
    assert channel["source"] == source and channel["connected"] is True
    assert channel["metadata"] == {"name": body["name"], "image_url": "http://i/x.png"}
    if key:
        expected = body[key].removeprefix("whatsapp:")
        assert channel["source_channel_id"] == expected
        assert channel["id"] == ids.channel_id(source, expected)

    listed = post(base_url, "/channels.list", {"source": source}).json()["data"]
    assert channel in listed
    assert all(c["source"] == source for c in listed)
    info = post(base_url, "/channels.info", {"channel_id": channel["id"]})
    assert info.json() == channel

    updated = post(base_url, "/channels.update", {"channel_id": channel["id"], "name": "Renamed"})
    assert updated.json()["metadata"] == {"name": "Renamed", "image_url": "http://i/x.png"}

    for _ in range(2):  # disconnecting twice is fine
        assert post(base_url, f"/channels.{source}.disconnect", {"channel_id": channel["id"]}).json() == {}
    assert channel["id"] not in [c["id"] for c in post(base_url, "/channels.list", {}).json()["data"]]
    assert post(base_url, "/channels.info", {"channel_id": channel["id"]}).json()["connected"] is False

    # Never logged either.
    logs = Path(live_stack.data_dir, "logs")
    assert not [p.name for p in logs.glob("*.log") if TOKEN in p.read_text(errors="replace")]


def test_viber_connects_its_one_bot(base_url: str) -> None:
    channel = post(base_url, "/channels.viber.connect", {"name": "Bot"}).json()
    assert channel["source_channel_id"] == "viber"


@pytest.mark.parametrize(
    "path, body, fragment",
    [
        ("/channels.facebook.connect", {"page_id": "1"}, "page_token"),
        ("/channels.instagram.connect", {"page_id": "1", "page_token": "t"}, "account_id"),
        ("/channels.google.connect", {"gbm_id": "x"}, "name"),
        ("/channels.twilio.sms.connect", {"phone_number": "12345", "name": "n"}, "E.164"),
        ("/channels.whatsapp.connect", {"phone_number_id": "1", "name": "n"}, "user_token"),
        ("/channels.chatplugin.connect", {}, "name"),
        ("/channels.facebook.disconnect", {}, "channel_id"),
    ],
)
def test_bad_input_is_400_and_writes_nothing(base_url: str, path: str, body: dict[str, Any],
                                             fragment: str) -> None:
    before = post(base_url, "/channels.list", {}).json()["data"]
    reply = post(base_url, path, body)
    assert reply.status_code == 400
    assert fragment in reply.json()["message"]
    assert post(base_url, "/channels.list", {}).json()["data"] == before


def test_unknown_channels_are_404(base_url: str) -> None:
    assert post(base_url, "/channels.info", {"channel_id": "nope"}).status_code == 404
    assert post(base_url, "/channels.update", {"channel_id": "nope", "name": "x"}).status_code == 404
    assert post(base_url, "/channels.google.disconnect", {"channel_id": "nope"}).status_code == 404
    page = post(base_url, "/channels.facebook.connect",
                 {"page_id": "p" + _digits(), "page_token": TOKEN}).json()
    # A channel of another source is not found through this source's endpoint.
    assert post(base_url, "/channels.viber.disconnect", {"channel_id": page["id"]}).status_code == 404
