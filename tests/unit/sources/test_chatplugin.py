"""The chat plugin's visitor messages: the raw record Parley writes and what ingest makes of it."""

from __future__ import annotations

import pytest

from sources import chatplugin
from sources.inbound import InboundMessage, RawEvent, TranslationError


def test_a_visitor_message_round_trips() -> None:
    body = chatplugin.raw_message("site-1", "visitor-1", "msg-1", {"text": "hi"}, 1_700_000_000_000)
    assert chatplugin.routing_key(body) == "visitor-1"
    assert chatplugin.translate(RawEvent(body, "application/json", 0)) == [InboundMessage(
        source="chatplugin", source_channel_id="site-1", source_conversation_key="visitor-1",
        source_message_id="msg-1", from_contact=True, sent_at_ms=1_700_000_000_000,
        content={"text": "hi"}, sender_id="visitor-1")]


@pytest.mark.parametrize("body", [b"{}", b"[]", b"nope", b'{"visitor_id": "v"}'])
def test_a_malformed_record_is_a_translation_error(body: bytes) -> None:
    with pytest.raises(TranslationError, match="chat plugin record is malformed"):
        chatplugin.translate(RawEvent(body, "application/json", 0))
