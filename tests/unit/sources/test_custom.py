"""Custom sources' batches: items to events with the source's own ids, sent_at in both forms,
and a bad item named by its place."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sources import custom
from sources.inbound import InboundMessage, MetadataUpdate, RawEvent, TranslationError

MESSAGE = {"source_message_id": "m1", "source_conversation_id": "c1", "source_channel_id": "inbox",
           "source_sender_id": "u1", "content": {"text": "hi"}, "from_contact": True,
           "sent_at": 1603661094560}
METADATA = {"subject": "conversation", "source_id": "c1", "source_channel_id": "inbox",
            "data": {"contact": {"display_name": "Margaret"}}}


def _raw(batch: dict[str, Any]) -> RawEvent:
    return RawEvent(json.dumps(batch).encode(), "application/json", 0)


def test_a_batch_becomes_messages_and_metadata_of_the_source() -> None:
    batch = {"source_id": "crm", "messages": [MESSAGE, {**MESSAGE, "source_message_id": "m2",
                                                        "sent_at": "2020-10-25T21:24:54.560Z",
                                                        "from_contact": False, "content": "plain"}],
             "metadata": [METADATA, {**METADATA, "subject": "message", "source_id": "m1",
                                     "data": {"reaction": "+1"}}]}
    assert custom.translate(_raw(batch)) == [
        InboundMessage(source="crm", source_channel_id="inbox", source_conversation_key="c1",
                       source_message_id="m1", from_contact=True, sent_at_ms=1603661094560,
                       content={"text": "hi"}, sender_id="u1"),
        InboundMessage(source="crm", source_channel_id="inbox", source_conversation_key="c1",
                       source_message_id="m2", from_contact=False, sent_at_ms=1603661094560,
                       content="plain", sender_id="u1"),
        MetadataUpdate(source="crm", source_channel_id="inbox", subject="conversation",
                       source_conversation_key="c1", data={"contact": {"display_name": "Margaret"}}),
        MetadataUpdate(source="crm", source_channel_id="inbox", subject="message",
                       source_conversation_key="", source_message_id="m1",
                       data={"reaction": "+1"}),
    ]
    assert custom.routing_key(json.dumps(batch).encode()) == "crm"
    assert custom.routing_key(b"not json") == ""


@pytest.mark.parametrize(("change", "error"), [
    ({"source_sender_id": ""}, "messages[0]: source_sender_id is required"),
    ({"content": None}, "messages[0]: content is required"),
    ({"sent_at": "yesterday"}, "messages[0]: sent_at must be"),
    ({"sent_at": -5}, "messages[0]: sent_at must be"),
    ({"sent_at": 253402300800000}, "messages[0]: sent_at must be .* from 1970 to 9999"),
    ({"sent_at": 1e300}, "messages[0]: sent_at must be .* from 1970 to 9999"),
    ({"sent_at": float("nan")}, "messages[0]: sent_at must be .* from 1970 to 9999"),
    ({"sent_at": "0001-01-01T00:00:00Z"}, "messages[0]: sent_at must be .* from 1970 to 9999"),
    ({"source_channel_id": 7}, "messages[0]: source_channel_id is required"),
])
def test_a_bad_message_is_named(change: dict[str, Any], error: str) -> None:
    with pytest.raises(TranslationError, match=error.replace("[", r"\[").replace("]", r"\]")):
        custom.events({"source_id": "crm", "messages": [{**MESSAGE, **change}]})


@pytest.mark.parametrize(("change", "error"), [
    ({"subject": "channel"}, "subject must be one of"),
    ({"data": {}}, "data must be a non-empty object"),
    ({"source_id": ""}, "source_id is required"),
])
def test_bad_metadata_is_named(change: dict[str, Any], error: str) -> None:
    with pytest.raises(TranslationError, match=r"metadata\[1\]: " + error):
        custom.events({"source_id": "crm", "metadata": [METADATA, {**METADATA, **change}]})
