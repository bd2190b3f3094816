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


@pytest.mark.parametrize("value", [0, 1_700_000_000_000, 1_700_000_000_000.5, timestamps.MAX_MS])
def test_check_ms_takes_times_from_1970_to_9999(value: float) -> None:
    assert timestamps.check_ms(value, "sent_at") == int(value)
    timestamps.format_ms(timestamps.check_ms(value, "sent_at"))  # and they can be written


@pytest.mark.parametrize("value", [
    253402300800000,  # year 10000
    1e300, float("inf"), float("-inf"), float("nan"), -1, 10**400, True, "1700000000000", None,
])
def test_check_ms_refuses_what_is_not_a_time_in_range(value: object) -> None:
    with pytest.raises(ValueError, match="sent_at must be a time from 1970 to 9999"):
        timestamps.check_ms(value, "sent_at")
