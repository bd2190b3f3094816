"""Channel commands as records (pure)."""

from __future__ import annotations

import pytest

from runtime import ids
from runtime.errors import InvalidArgument, NotFound
from sources import twilio
from store import channel_commands as commands


def test_connect_derives_the_id_and_keeps_secrets_apart() -> None:
    record = commands.connect("facebook", "123", "Page", "", {"page_token": "s3cr3t-token"})
    assert record.channel.id == ids.channel_id("facebook", "123")
    assert record.channel.connected and dict(record.secrets) == {"page_token": "s3cr3t-token"}
    assert "s3cr3t-token" not in str(record.channel)


def test_disconnect_drops_the_secrets_and_checks_the_source() -> None:
    record = commands.connect("facebook", "123", "Page", "", {"page_token": "s3cr3t-token"})
    off = commands.disconnect(record, "facebook", record.channel.id)
    assert not off.channel.connected and not off.secrets
    with pytest.raises(NotFound):
        commands.disconnect(record, "viber", record.channel.id)
    with pytest.raises(NotFound):
        commands.disconnect(None, "facebook", "x")


@pytest.mark.parametrize("raw, normal", [("+15005550006", "+15005550006"),
                                         ("whatsapp:+15005550006", "+15005550006")])
def test_phone_numbers_are_e164(raw: str, normal: str) -> None:
    assert twilio.phone_number(raw) == normal


@pytest.mark.parametrize("bad", ["15005550006", "+0123", "+1 500 555", ""])
def test_other_phone_numbers_are_invalid(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        twilio.phone_number(bad)


def test_require_names_every_missing_field() -> None:
    with pytest.raises(InvalidArgument, match="page_id, page_token"):
        commands.require(page_id="", page_token="", name="x")
