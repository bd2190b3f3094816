"""The one timestamp format of the API: RFC 3339, UTC, milliseconds (`2020-10-25T21:24:54.560Z`)."""

from __future__ import annotations

import time
from datetime import datetime


#: The times Parley takes from outside, in epoch milliseconds: from 1970 to the end of year 9999
#: (beyond it neither RFC 3339 nor Python's datetime can write a time).
MIN_MS = 0
MAX_MS = 253_402_300_799_999


def now_ms() -> int:
    """Now, in milliseconds since the epoch."""
    return int(time.time() * 1000)


def format_ms(epoch_ms: int) -> str:
    """Milliseconds since the epoch as RFC 3339 UTC with exactly three fraction digits."""
    seconds, ms = divmod(epoch_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds)) + f"{ms:03d}Z"


def check_ms(value: object, what: str) -> int:
    """`value`, a number of epoch milliseconds, as an int; ValueError naming `what` unless it is a
    number from MIN_MS to MAX_MS (NaN, infinities, bools and other types included)."""
    # The comparison is False for NaN too.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            MIN_MS <= value <= MAX_MS):
        raise ValueError(f"{what} must be a time from 1970 to 9999 as epoch milliseconds "
                         f"({MIN_MS} to {MAX_MS}), got {value!r}")
    return int(value)


def parse_ms(text: str) -> int:
    """An RFC 3339 timestamp (any offset, any fraction) as milliseconds since the epoch.

    Raises ValueError for text that is not RFC 3339 or has no offset (a naive time is ambiguous).
    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {text!r}")
    return round(moment.timestamp() * 1000)
