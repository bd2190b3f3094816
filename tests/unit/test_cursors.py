"""Message cursors and sorted-set members (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.errors import InvalidArgument
from store import cursors

epoch_ms = st.integers(min_value=0, max_value=10**14)
ids = st.uuids().map(str)


@given(st.sampled_from(["before", "after"]), epoch_ms, ids)
def test_cursor_round_trips(direction: cursors.Direction, sent: int, message_id: str) -> None:
    cursor = cursors.Cursor(direction, cursors.message_member(sent, message_id))
    assert cursors.decode(cursors.encode(cursor)) == cursor


@given(epoch_ms, ids, epoch_ms, ids)
def test_member_order_is_time_order(t1: int, id1: str, t2: int, id2: str) -> None:
    # Redis orders the members lexically; that must be (sent time, id) order.
    m1, m2 = cursors.message_member(t1, id1), cursors.message_member(t2, id2)
    assert (m1 < m2) == ((t1, id1) < (t2, id2))


@pytest.mark.parametrize("bad", ["%%%", "eA", cursors.encode(cursors.Cursor("before", "x"))[:-3] + "!!"])
def test_garbage_cursor_is_invalid_argument(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        cursors.decode(bad)
