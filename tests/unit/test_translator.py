"""Normalized events -> application records (pure), and the translator's handling of a record
that cannot be translated."""

from __future__ import annotations

import asyncio
import dataclasses
import json

from aiokafka.structs import ConsumerRecord
from google.protobuf import json_format

from sources.inbound import InboundMessage, MetadataUpdate, RawEvent
from ingest.translator import to_outputs
from ingest.translator_worker import Translator
from parley.v1 import records_pb2
from runtime import ids
from runtime import settings as settings_module

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
    # Keyed by the message's conversation: it lands on that conversation's partition.
    assert output.key == ids.conversation_id(CHANNEL, RECEIPT.source_conversation_key)
    assert json_format.MessageToDict(record.data) == RECEIPT.data
    assert record.updated_at_ms == RAW.received_at_ms


def test_events_of_unconnected_channels_are_reported_not_written() -> None:
    outputs, unknown = to_outputs([MESSAGE, RECEIPT], RAW, lambda c: False)
    assert outputs == [] and unknown == {CHANNEL}


def test_translating_twice_gives_the_same_bytes() -> None:
    assert to_outputs([MESSAGE, RECEIPT], RAW, lambda c: True) == to_outputs(
        [MESSAGE, RECEIPT], RAW, lambda c: True)


class _Producer:
    """What the translator writes (no Kafka): outputs by `send`, dead letters by `send_and_wait`."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.dead: list[records_pb2.DeadLetterRecord] = []

    async def send(self, topic: str, value: bytes, key: bytes,
                   headers: list[tuple[str, bytes]]) -> asyncio.Future[object]:
        self.sent.append((topic, value))
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None,
                            headers: list[tuple[str, bytes]]) -> None:
        assert topic == "test.parley.deadletter"
        self.dead.append(records_pb2.DeadLetterRecord.FromString(value))


class _Channels:
    complete_as_of_ms = 0

    def is_connected(self, channel_id: str) -> bool:
        return True


def _raw_record(offset: int, text: str) -> ConsumerRecord:
    body = json.dumps({"object": "page", "entry": [{"id": "page", "messaging": [{
        "sender": {"id": "psid"}, "recipient": {"id": "page"}, "timestamp": 1_700_000_000_000,
        "message": {"mid": f"mid.{offset}", "text": text}}]}]}).encode()
    return ConsumerRecord("test.source.facebook.events", 0, offset, 1_700_000_000_000, 0, b"psid",
                          body, None, len(b"psid"), len(body), [])


def test_a_record_the_outputs_cannot_be_made_of_is_dead_lettered_and_the_next_translated() -> None:
    settings = dataclasses.replace(settings_module.load(), namespace="test")
    producer = _Producer()
    translator = Translator(settings, _Channels(), producer)  # type: ignore[arg-type]

    async def both() -> tuple[list[asyncio.Future[object]], list[asyncio.Future[object]]]:
        # A lone surrogate (JSON "\ud800") reads as text, but no protobuf string can hold it.
        bad = await translator.process(_raw_record(7, "\ud800"))
        good = await translator.process(_raw_record(8, "hello"))
        return bad, good

    bad, good = asyncio.run(both())
    assert bad == [] and len(good) == 1
    (letter,) = producer.dead
    assert (letter.topic, letter.offset) == ("test.source.facebook.events", 7)
    assert letter.reason.startswith("UnicodeEncodeError:") and "surrogates" in letter.reason
    ((topic, value),) = producer.sent
    assert topic == "test.parley.messages"
    written = records_pb2.MessageRecord.FromString(value)
    assert written.message.content.struct_value["text"] == "hello"
