"""The one timestamp format of the API: RFC 3339, UTC, milliseconds (`2020-10-25T21:24:54.560Z`)."""

from __future__ import annotations

import time
from datetime import datetime, UTC


def now_ms() -> int:
    """Now, in milliseconds since the epoch."""
    return int(time.time() * 1000)


def format_ms(epoch_ms: int) -> str:
    """Milliseconds since the epoch as RFC 3339 UTC with exactly three fraction digits."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def parse_ms(text: str) -> int:
    """An RFC 3339 timestamp (any offset, any fraction) as milliseconds since the epoch.

    Raises ValueError for text that is not RFC 3339 or has no offset (a naive time is ambiguous).
    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {text!r}")
    return round(moment.timestamp() * 1000)
