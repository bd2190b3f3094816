"""The API's one timestamp format: RFC 3339 UTC with milliseconds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime import timestamps


def test_format_always_has_three_fraction_digits() -> None:
    assert timestamps.format_ms(1603661094560) == "2020-10-25T21:24:54.560Z"
    assert timestamps.format_ms(1603661094000) == "2020-10-25T21:24:54.000Z"


@given(st.integers(min_value=0, max_value=253402300799999))
def test_parse_inverts_format(epoch_ms: int) -> None:
    assert timestamps.parse_ms(timestamps.format_ms(epoch_ms)) == epoch_ms


def test_parse_honours_offsets() -> None:
    assert timestamps.parse_ms("2020-10-25T23:24:54.560+02:00") == 1603661094560


def test_parse_rejects_a_time_without_offset() -> None:
    with pytest.raises(ValueError):
        timestamps.parse_ms("2020-10-25T21:24:54")
