"""The filters language (pure): parsing, evaluation on one conversation, index plans."""

from __future__ import annotations

from typing import Any

import pytest

from runtime.errors import InvalidArgument
from store.search.match import matches
from store.search.plan import (IndexSet, Plan, ScoreRange, SetOp, ValueMatch, index_plan,
                               narrowing_plan)
from store.search.query import parse
from store.search.terms import conversation_fields, metadata_terms, name_grams

CONVERSATION: dict[str, Any] = {
    "id": "c1",
    "created_at": "2026-11-20T10:00:00.000Z",
    "channel": {"id": "ch1", "source": "facebook"},
    "metadata": {"contact": {"display_name": "Anna Smith"}, "unread_count": 2,
                 "tags": {"t1": "", "t2": ""}, "state": "OPEN", "crm": {"tier": "gold", "n": 3}},
}


def _matches(query: str, conversation: dict[str, Any] = CONVERSATION) -> bool:
    return matches(parse(query), conversation_fields(conversation),
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
        parse(query)


def test_indexed_queries_become_set_algebra() -> None:
    plan = index_plan(parse("tag_ids:(a AND b) AND unread_count:[1 TO *]"))
    assert plan == SetOp("and", (
        SetOp("and", (IndexSet("tag", "a"), IndexSet("tag", "b"))),
        IndexSet("unread"),
    ))
    assert index_plan(parse("id:* AND NOT metadata.state:CLOSED")) == SetOp(
        "and", (IndexSet("all"),
                SetOp("not", (IndexSet("state", "CLOSED"),))))


def test_other_queries_are_evaluated_after_narrowing_by_their_indexed_terms() -> None:
    parsed = parse("channel_id:x AND display_name:*anna*")
    assert index_plan(parsed) is None
    grams = SetOp("and", (IndexSet("gram", "ann"), IndexSet("gram", "nna")))
    assert narrowing_plan(parsed) == SetOp(
        "and", (IndexSet("channel", "x"), grams))
    assert narrowing_plan(parse("display_name:*anna*")) == grams
    assert narrowing_plan(parse("display_name:*ab*")) is None  # too short to narrow
    assert narrowing_plan(parse("metadata.read_until:x OR display_name:anna")) is None


def test_every_exact_term_and_range_has_an_index() -> None:
    def plan(query: str) -> Plan | None:
        return index_plan(parse(query))

    assert plan("metadata.crm.tier:gold") == IndexSet("meta", "crm.tier=gold")
    assert plan('metadata.crm.tier:"gold"') == IndexSet("meta", "crm.tier=gold")
    assert plan("metadata.crm:*") == IndexSet("has", "crm")
    assert plan("id:c1") == IndexSet("id", "c1")
    assert plan("created_at:[2026-11-20 TO *]") == ScoreRange(
        "created", 1_795_132_800_000, None)
    assert plan("unread_count:{0 TO 3]") == ScoreRange("unread_count", 0, 3, False, True)
    assert plan("unread_count:2") == ScoreRange("unread_count", 2, 2)
    assert plan("metadata.unread_count:[2 TO *]") == ScoreRange("unread_count", 2, None)
    # A 3-character name fragment is one trigram: its index answers it exactly.
    assert plan("display_name:*AnN*") == IndexSet("gram", "ann")
    assert plan("channel_id:x AND display_name:*ann*") == SetOp(
        "and", (IndexSet("channel", "x"), IndexSet("gram", "ann")))
    # The served contact name and the read marker are not the stored document's: evaluated.
    assert plan("metadata.contact.display_name:anna") is None
    assert plan("metadata.read_until:*") is None


def test_metadata_wildcards_and_ranges_unite_the_indexes_of_the_texts_that_match() -> None:
    def plan(query: str) -> Plan | None:
        return index_plan(parse(query))

    prefix = plan("metadata.crm.tier:go*")
    assert prefix == ValueMatch("crm.tier", pattern="go*")
    assert isinstance(prefix, ValueMatch) and prefix.literal_start() == "go"
    inner = plan("metadata.crm.tier:*ol*")
    assert isinstance(inner, ValueMatch) and inner.literal_start() == ""
    assert [t for t in ("gold", "bold", "silver", "ol") if inner.holds(t)] == ["gold", "bold", "ol"]
    ranged = plan("metadata.crm.n:{2 TO 4]")
    assert ranged == ValueMatch(
        "crm.n", within=ScoreRange("value", 2, 4, include_low=False))
    assert isinstance(ranged, ValueMatch)
    assert [t for t in ("2", "3", "4", "4.0", "5", "x", "nan") if ranged.holds(t)] == ["3", "4", "4.0"]
    # The served contact name and read marker are not indexed texts: still evaluated.
    assert plan("metadata.read_until:[1 TO *]") is None


@pytest.mark.parametrize("query", ["unread_count:[a TO 3]", "created_at:[yesterday TO *]",
                                   "metadata.n:[1 TO x]"])
def test_range_bounds_must_be_numbers_or_times(query: str) -> None:
    with pytest.raises(InvalidArgument, match="range bound"):
        parse(query)


def test_metadata_terms_are_what_matches_finds() -> None:
    document = {"crm": {"tier": "gold", "n": 3.0, "ok": True, "empty": "", "none": None},
                "labels": ["a", 2.5], "read_until": "2026-11-20T10:00:00.000Z"}
    paths, terms = metadata_terms(document)
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
    assert name_grams("Anna") == {"ann", "nna"}
    assert name_grams("Al") == set()


def test_a_range_holds_the_values_between_its_bounds() -> None:
    closed, open_low = ScoreRange("unread_count", 2, 4), ScoreRange(
        "unread_count", 0, None, include_low=False)
    assert [closed.holds(v) for v in (None, 1, 2, 3, 4, 5)] == [False, False, True, True, True, False]
    assert [open_low.holds(v) for v in (0, 0.5, 10**9)] == [False, True, True]
    assert not ScoreRange("created", None, 5, include_high=False).holds(5)


@pytest.mark.parametrize(("query", "message"), [
    ("(" * 1000 + "a" + ")" * 1000, "nested more than 32 deep"),
    ("NOT " * 1000 + "a", "nested more than 32 deep"),
    ("-" * 5000 + "a", "nested more than 32 deep"),
    (" OR ".join(f"id:c{i}" for i in range(30_000)), "characters; at most 8192"),
    (" OR ".join(f"id:c{i}" for i in range(257)), "more than 256 terms"),
])
def test_queries_are_bounded(query: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse(query)


def test_queries_within_the_bounds_parse() -> None:
    parse("(" * 30 + "a" + ")" * 30)
    parse(" OR ".join(f"id:c{i}" for i in range(256)))
