"""Normalized events -> application records (pure)."""

from __future__ import annotations

from google.protobuf import json_format

from ingest.sources.base import InboundMessage, MetadataUpdate, RawEvent
from ingest.translator import to_outputs
from parley.v1 import records_pb2
from runtime import ids

RAW = RawEvent(body=b"{}", content_type="application/json", received_at_ms=1_700_000_009_000)
MESSAGE = InboundMessage(
    source="facebook", source_channel_id="page", source_conversation_key="psid",
    source_message_id="mid.1", from_contact=True, sent_at_ms=1_700_000_000_123,
    content={"text": "hi", "big": "5741311803571721087"}, sender_id="psid", sender_name="Ann",
)
RECEIPT = MetadataUpdate(
    source="facebook", source_channel_id="page", subject="message",
    source_conversation_key="psid", source_message_id="mid.1",
    data={"source": {"delivery_state": "read"}},
)
CHANNEL = ids.channel_id("facebook", "page")


def test_a_message_of_a_connected_channel_becomes_a_message_record() -> None:
    (output,), unknown = to_outputs([MESSAGE], RAW, lambda c: c == CHANNEL)
    assert unknown == set()
    record = records_pb2.MessageRecord.FromString(output.value)
    conversation = ids.conversation_id(CHANNEL, "psid")
    assert (output.topic, output.key) == ("parley.messages", conversation)
    assert record.conversation_id == conversation and record.channel_id == CHANNEL
    assert record.contact_id == ids.contact_id(CHANNEL, "psid")
    assert record.message.id == ids.message_id(CHANNEL, "mid.1")
    assert record.message.sent_at == "2023-11-14T22:13:20.123Z"
    assert record.sent_at_ms == MESSAGE.sent_at_ms
    assert json_format.MessageToDict(record.message.content) == MESSAGE.content
    assert record.message.sender.name == "Ann" and record.message.from_contact
    assert json_format.MessageToDict(record.message.metadata) == {"source": {"id": "mid.1"}}


def test_a_receipt_becomes_a_metadata_record_of_the_message() -> None:
    (output,), _ = to_outputs([RECEIPT], RAW, lambda c: True)
    record = records_pb2.MetadataRecord.FromString(output.value)
    assert (record.subject, record.identifier) == ("message", ids.message_id(CHANNEL, "mid.1"))
    assert output.key == f"message:{record.identifier}"
    assert json_format.MessageToDict(record.data) == RECEIPT.data
    assert record.updated_at_ms == RAW.received_at_ms


def test_events_of_unconnected_channels_are_reported_not_written() -> None:
    outputs, unknown = to_outputs([MESSAGE, RECEIPT], RAW, lambda c: False)
    assert outputs == [] and unknown == {CHANNEL}


def test_translating_twice_gives_the_same_bytes() -> None:
    assert to_outputs([MESSAGE, RECEIPT], RAW, lambda c: True) == to_outputs(
        [MESSAGE, RECEIPT], RAW, lambda c: True)
