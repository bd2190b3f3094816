"""Text Parley takes from outside is Unicode it can write: valid UTF-8 without lone surrogates.

JSON can escape half of a surrogate pair alone (`"\\ud800"`): Python reads it into a `str` that no
UTF-8 encoder (protobuf's, Kafka keys', Redis's) accepts, so such a body is refused where it
enters rather than failing wherever it is written.
"""

from __future__ import annotations

import json
from typing import Any


def encodable(text: str) -> bool:
    """True when `text` can be written as UTF-8 (it holds no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def unencodable(data: Any) -> str | None:
    """The first string (object key or value) of JSON `data` that is not `encodable`, None when
    there is none. Iterative: the depth of a body is the sender's choice."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not encodable(item):
                return item
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def check_body(body: bytes) -> None:
    """ValueError unless `body` is UTF-8 and, when it is JSON, none of its strings holds a lone
    surrogate. A body that is not JSON passes: reading it is its source's translator's job."""
    try:
        decoded = body.decode()
    except UnicodeDecodeError as exc:
        raise ValueError(f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    if "\\u" not in decoded:
        return  # only a \u escape makes a lone surrogate out of valid UTF-8
    try:
        data = json.loads(decoded)
    except (ValueError, RecursionError):
        return
    found = unencodable(data)
    if found is not None:
        raise ValueError(f"body holds text that is not valid Unicode (a lone surrogate in "
                         f"{found[:40]!r})")
