"""Outbound records and limits (pure): content checks, pending/delivered/failed records, backoff."""

from __future__ import annotations

from typing import Any, cast

import pytest
from google.protobuf import json_format, struct_pb2

from messaging import policy, sends
from runtime import ids
from runtime.errors import InvalidArgument


def _value(data: object) -> struct_pb2.Value:
    # The stubs take only a JSON object, but a Value parses from any JSON value.
    return json_format.ParseDict(cast(dict[str, Any], data), struct_pb2.Value())


@pytest.mark.parametrize("data", [None, "", "  ", {}, []])
def test_empty_messages_are_refused(data: object) -> None:
    with pytest.raises(InvalidArgument, match="must not be empty"):
        sends.check_content(_value(data), present=True)
    with pytest.raises(InvalidArgument):
        sends.check_content(struct_pb2.Value(), present=False)


def test_a_message_is_forwarded_as_it_is() -> None:
    content = _value({"text": "hi", "quick_replies": [{"title": "a"}]})
    sends.check_content(content, present=True)
    record = sends.pending("m1", content, conversation_id="c", channel_id="ch", contact_id="k",
                           source="facebook", recipient="psid", now_ms=1_700_000_000_000,
                           sender="agent")
    assert record.message.content == content
    assert (record.message.delivery_state, record.message.state) == ("pending", "pending")
    assert record.pending_since_ms == record.sent_at_ms == 1_700_000_000_000
    assert record.recipient_source_id == "psid" and not record.message.from_contact

    delivered = sends.delivered(record, "mid.1")
    assert delivered.message.delivery_state == "delivered"
    assert json_format.MessageToDict(delivered.message.metadata) == {"source": {"id": "mid.1"}}
    assert record.message.delivery_state == "pending"  # the original is left alone
    failed = sends.failed(record, "(#100) No matching user found")
    assert failed.message.delivery_state == "failed"
    assert json_format.MessageToDict(failed.message.metadata) == {
        "error": "(#100) No matching user found"}
    resent = sends.resent(failed, 1_700_000_100_000)
    assert resent.message.state == "pending" and resent.pending_since_ms == 1_700_000_100_000
    assert resent.sent_at_ms == record.sent_at_ms  # its place in the conversation stays
    assert "error" not in resent.message.metadata.fields  # tried again: no error yet


def test_idempotency_keys() -> None:
    sends.check_idempotency_key("k" * 255)
    with pytest.raises(InvalidArgument, match="longer than 255"):
        sends.check_idempotency_key("k" * 256)
    assert ids.sent_message_id("bot", "a") == ids.sent_message_id("bot", "a")
    assert ids.sent_message_id("bot", "a") != ids.sent_message_id("bot", "b")
    # Keys are the sender's own; ("ab", "c") is not ("a", "bc").
    assert ids.sent_message_id("bot", "a") != ids.sent_message_id("crm", "a")
    assert ids.sent_message_id("ab", "c") != ids.sent_message_id("a", "bc")


def test_policy_from_the_environment() -> None:
    loaded = policy.load({"PARLEY_MESSAGING_ATTEMPTS": "0", "PARLEY_MESSAGING_STALE_AFTER_S": "60"})
    assert loaded.retry.attempts == 1 and loaded.retry.pause_after(1) is None
    assert loaded.stale_after_s == 60
    assert policy.load({}) == policy.SendPolicy()
    assert policy.SendPolicy().retry.attempts == 5
