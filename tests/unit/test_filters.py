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
    parsed = filters.parse("channel_id:x AND display_name:*anna*")
    assert filters.index_plan(parsed) is None
    grams = filters.SetOp("and", (filters.IndexSet("gram", "ann"), filters.IndexSet("gram", "nna")))
    assert filters.narrowing_plan(parsed) == filters.SetOp(
        "and", (filters.IndexSet("channel", "x"), grams))
    assert filters.narrowing_plan(filters.parse("display_name:*anna*")) == grams
    assert filters.narrowing_plan(filters.parse("display_name:*ab*")) is None  # too short to narrow
    assert filters.narrowing_plan(filters.parse("metadata.read_until:x OR display_name:anna")) is None


def test_every_exact_term_and_range_has_an_index() -> None:
    def plan(query: str) -> filters.Plan | None:
        return filters.index_plan(filters.parse(query))

    assert plan("metadata.crm.tier:gold") == filters.IndexSet("meta", "crm.tier=gold")
    assert plan('metadata.crm.tier:"gold"') == filters.IndexSet("meta", "crm.tier=gold")
    assert plan("metadata.crm:*") == filters.IndexSet("has", "crm")
    assert plan("id:c1") == filters.IndexSet("id", "c1")
    assert plan("created_at:[2026-11-20 TO *]") == filters.ScoreRange(
        "created", 1_795_132_800_000, None)
    assert plan("unread_count:{0 TO 3]") == filters.ScoreRange("unread_count", 0, 3, False, True)
    assert plan("unread_count:2") == filters.ScoreRange("unread_count", 2, 2)
    assert plan("metadata.unread_count:[2 TO *]") == filters.ScoreRange("unread_count", 2, None)
    # A 3-character name fragment is one trigram: its index answers it exactly.
    assert plan("display_name:*AnN*") == filters.IndexSet("gram", "ann")
    assert plan("channel_id:x AND display_name:*ann*") == filters.SetOp(
        "and", (filters.IndexSet("channel", "x"), filters.IndexSet("gram", "ann")))
    # The served contact name and the read marker are not the stored document's: evaluated.
    assert plan("metadata.contact.display_name:anna") is None
    assert plan("metadata.read_until:*") is None


def test_metadata_wildcards_and_ranges_unite_the_indexes_of_the_texts_that_match() -> None:
    def plan(query: str) -> filters.Plan | None:
        return filters.index_plan(filters.parse(query))

    prefix = plan("metadata.crm.tier:go*")
    assert prefix == filters.ValueMatch("crm.tier", pattern="go*")
    assert isinstance(prefix, filters.ValueMatch) and prefix.literal_start() == "go"
    inner = plan("metadata.crm.tier:*ol*")
    assert isinstance(inner, filters.ValueMatch) and inner.literal_start() == ""
    assert [t for t in ("gold", "bold", "silver", "ol") if inner.holds(t)] == ["gold", "bold", "ol"]
    ranged = plan("metadata.crm.n:{2 TO 4]")
    assert ranged == filters.ValueMatch(
        "crm.n", within=filters.ScoreRange("value", 2, 4, include_low=False))
    assert isinstance(ranged, filters.ValueMatch)
    assert [t for t in ("2", "3", "4", "4.0", "5", "x", "nan") if ranged.holds(t)] == ["3", "4", "4.0"]
    # The served contact name and read marker are not indexed texts: still evaluated.
    assert plan("metadata.read_until:[1 TO *]") is None


@pytest.mark.parametrize("query", ["unread_count:[a TO 3]", "created_at:[yesterday TO *]",
                                   "metadata.n:[1 TO x]"])
def test_range_bounds_must_be_numbers_or_times(query: str) -> None:
    with pytest.raises(InvalidArgument, match="range bound"):
        filters.parse(query)


def test_metadata_terms_are_what_matches_finds() -> None:
    document = {"crm": {"tier": "gold", "n": 3.0, "ok": True, "empty": "", "none": None},
                "labels": ["a", 2.5], "read_until": "2026-11-20T10:00:00.000Z"}
    paths, terms = filters.metadata_terms(document)
    assert paths == {"crm", "crm.tier", "crm.n", "crm.ok", "labels"}
    assert terms == {("crm.tier", "gold"), ("crm.n", "3"), ("crm.ok", "true"), ("crm.empty", ""),
                     ("labels", "a"), ("labels", "2.5")}
    conversation = {**CONVERSATION, "metadata": document}
    for path in paths:
        assert _matches(f"metadata.{path}:*", conversation)
    for path, text in terms - {("crm.empty", "")}:
        assert _matches(f"metadata.{path}:{text}", conversation)
    assert not _matches("metadata.crm.none:*", conversation)
    assert not _matches("metadata.crm.empty:*", conversation)


def test_name_grams() -> None:
    assert filters.name_grams("Anna") == {"ann", "nna"}
    assert filters.name_grams("Al") == set()


def test_a_range_holds_the_values_between_its_bounds() -> None:
    closed, open_low = filters.ScoreRange("unread_count", 2, 4), filters.ScoreRange(
        "unread_count", 0, None, include_low=False)
    assert [closed.holds(v) for v in (None, 1, 2, 3, 4, 5)] == [False, False, True, True, True, False]
    assert [open_low.holds(v) for v in (0, 0.5, 10**9)] == [False, True, True]
    assert not filters.ScoreRange("created", None, 5, include_high=False).holds(5)


@pytest.mark.parametrize(("query", "message"), [
    ("(" * 1000 + "a" + ")" * 1000, "nested more than 32 deep"),
    ("NOT " * 1000 + "a", "nested more than 32 deep"),
    ("-" * 5000 + "a", "nested more than 32 deep"),
    (" OR ".join(f"id:c{i}" for i in range(30_000)), "characters; at most 8192"),
    (" OR ".join(f"id:c{i}" for i in range(257)), "more than 256 terms"),
])
def test_queries_are_bounded(query: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        filters.parse(query)


def test_queries_within_the_bounds_parse() -> None:
    filters.parse("(" * 30 + "a" + ")" * 30)
    filters.parse(" OR ".join(f"id:c{i}" for i in range(256)))
