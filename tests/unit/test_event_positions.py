"""Positions in the partitioned event log and their resume tokens (pure functions)."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.errors import InvalidArgument
from store import event_positions as ep

ids = st.integers(min_value=0, max_value=2**64 - 1)
vectors = st.integers(min_value=1, max_value=65).flatmap(
    lambda n: st.lists(st.tuples(ids, ids), min_size=n, max_size=n).map(tuple))


@given(vectors)
def test_tokens_round_trip_and_are_url_safe(vector: ep.Vector) -> None:
    token = ep.encode(vector)
    assert ep.decode(token, len(vector)) == vector
    assert urllib.parse.quote(token, safe="") == token


def test_the_format_names_each_stream_past_its_origin() -> None:
    vector = ((5, 1), ep.ORIGIN, (7, 0), (9, 2))
    assert ep.encode(vector) == "0.5-1_2.7-0_g.9-2"
    assert ep.encode(ep.origin(4)) == "g.0-0"
    assert ep.decode("g.0-0", 4) == ep.origin(4)
    assert ep.decode("g.3-0_1.2-0", 3) == (ep.ORIGIN, (2, 0), (3, 0))  # any order


@pytest.mark.parametrize("bad", [
    "", "yesterday", "g", "g.", "g.1", "g.1-", "g.-1-0", "x.1-0", "3.1-0", "01.1-0", "1.01-0",
    "g.1-0_g.2-0", "g.1-0_", "_g.1-0", "g.1-0__0.1-0", "0.1-0.g.1-0", "g.1-0 ", "g.+1-0",
    f"g.{2**64}-0", "g.1-" + "9" * 21, "_".join(["0.1-0"] * 500),
])
def test_anything_else_is_invalid_argument(bad: str) -> None:
    with pytest.raises(InvalidArgument, match="is not a resume token"):
        ep.decode(bad, 3)


def test_a_token_of_the_single_stream_log_is_refused_saying_why() -> None:
    with pytest.raises(InvalidArgument, match="before it was partitioned"):
        ep.decode("1718000000000-0", 3)


def test_vectors_advance_per_stream() -> None:
    start = ep.origin(3)
    moved = ep.advanced(start, 1, (4, 2))
    assert moved == (ep.ORIGIN, (4, 2), ep.ORIGIN)
    assert ep.later(moved, ((1, 0), (3, 9), ep.ORIGIN)) == ((1, 0), (4, 2), ep.ORIGIN)
    assert ep.event_id(1, 3, "4-2") == "1.4-2" and ep.event_id(2, 3, "4-2") == "g.4-2"
