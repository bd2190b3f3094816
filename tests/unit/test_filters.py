"""The filters language (pure): parsing, evaluation on one conversation, index plans."""

from __future__ import annotations

from typing import Any

import pytest

from runtime.errors import InvalidArgument
from store import filters

CONVERSATION: dict[str, Any] = {
    "id": "c1",
    "created_at": "2026-11-20T10:00:00.000Z",
    "channel": {"id": "ch1", "source": "facebook"},
    "metadata": {"contact": {"display_name": "Anna Smith"}, "unread_count": 2,
                 "tags": {"t1": "", "t2": ""}, "state": "OPEN", "crm": {"tier": "gold", "n": 3}},
}


def _matches(query: str, conversation: dict[str, Any] = CONVERSATION) -> bool:
    return filters.matches(filters.parse(query), filters.conversation_fields(conversation),
                           conversation["metadata"])


@pytest.mark.parametrize("query, expected", [
    ("unread_count:[1 TO *]", True),
    ("unread_count:[3 TO *]", False),
    ("unread_count:{1 TO 2]", True),
    ("display_name:*ann*", True),
    ("display_name:*ANN*", True),
    ("display_name:*bob*", False),
    ("tag_ids:(t1 AND t2)", True),
    ("tag_ids:(t1 AND t3)", False),
    ("channel_id:(ch1 OR ch2)", True),
    ("source:facebook", True),
    ("id:* AND NOT metadata.state:CLOSED", True),
    ("NOT state:OPEN", False),
    ("-state:OPEN", False),
    ("created_at:[2026-11-01 TO 2026-12-01]", True),
    ('created_at:["2026-11-21T00:00:00Z" TO *]', False),
    ('created_at:["2026-11-20T09:59:59Z" TO *]', True),
    ("created_at:[2026-11-20T09\\:00\\:00Z TO 2026-11-20T11\\:00\\:00Z]", True),
    ("metadata.crm.tier:gold", True),
    ("metadata.crm.n:[2 TO 4]", True),
    ("metadata.missing:*", False),
    ("anna*", True),
    ("source:facebook (state:OPEN OR state:CLOSED)", True),
])
def test_queries_on_one_conversation(query: str, expected: bool) -> None:
    assert _matches(query) is expected


@pytest.mark.parametrize("query", ["channel_id:(a OR", "nope:1", "display_name:anna~2",
                                   "source:(channel_id:x)"])
def test_malformed_or_unsupported_queries_are_invalid(query: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid filters"):
        filters.parse(query)


def test_indexed_queries_become_set_algebra() -> None:
    plan = filters.index_plan(filters.parse("tag_ids:(a AND b) AND unread_count:[1 TO *]"))
    assert plan == filters.SetOp("and", (
        filters.SetOp("and", (filters.IndexSet("tag", "a"), filters.IndexSet("tag", "b"))),
        filters.IndexSet("unread"),
    ))
    assert filters.index_plan(filters.parse("id:* AND NOT metadata.state:CLOSED")) == filters.SetOp(
        "and", (filters.IndexSet("all"),
                filters.SetOp("not", (filters.IndexSet("state", "CLOSED"),))))


def test_other_queries_are_evaluated_after_narrowing_by_their_indexed_terms() -> None:
    parsed = filters.parse("channel_id:x AND display_name:*ann*")
    assert filters.index_plan(parsed) is None
    assert filters.narrowing_plan(parsed) == filters.SetOp(
        "and", (filters.IndexSet("channel", "x"), filters.IndexSet("gram", "ann")))
    assert filters.narrowing_plan(filters.parse("display_name:*ann*")) == filters.IndexSet("gram", "ann")
    assert filters.narrowing_plan(filters.parse("display_name:*ab*")) is None  # too short to narrow
    assert filters.narrowing_plan(filters.parse("metadata.x:1 OR display_name:anna")) is None


def test_name_grams() -> None:
    assert filters.name_grams("Anna") == {"ann", "nna"}
    assert filters.name_grams("Al") == set()
