"""Positions in the realtime event log and the resume tokens that write them (pure functions).

The log is one Redis stream per partition number and a global one (`StoreKeys.event_streams`), so
a position is a vector: per stream ("slot", the global one last), the entry id (ms, seq) of the
last event read, (0, 0) for none. A resume token is `<slot>.<ms>-<seq>` parts joined by `_`, the
slot being the partition number or `g` for the global stream, streams at 0-0 left out ("g.0-0"
when all are): e.g. `0.1718000000000-0_2.1718000000123-4_g.1718000000050-0`. Every character is
URL-safe, so a token travels as is in query strings, SSE `id:` lines and Last-Event-ID headers.
"""

from __future__ import annotations

import re

from runtime.errors import InvalidArgument

Position = tuple[int, int]
Vector = tuple[Position, ...]
ORIGIN: Position = (0, 0)
GLOBAL = "g"

# Canonical numbers only (no leading zeros, no sign): one position has one spelling.
_PART = re.compile(r"(g|0|[1-9]\d{0,4})\.(0|[1-9]\d{0,19})-(0|[1-9]\d{0,19})")
#: A token of the log before it was partitioned: one stream's entry id.
_SINGLE_STREAM = re.compile(r"\d{1,20}-\d{1,20}")
#: Longest part: a slot of 5 digits, ms and seq of 20 digits each, the separators.
_PART_CHARS = 5 + 1 + 20 + 1 + 20 + 1
#: Redis stream ids are two unsigned 64-bit numbers.
_ID_LIMIT = 2**64


def label(slot: int, streams: int) -> str:
    """The name of stream `slot` (of `streams`) in tokens and event ids."""
    return GLOBAL if slot == streams - 1 else str(slot)


def entry_position(entry_id: str) -> Position:
    """A stream entry id ("<ms>-<seq>") as a comparable position."""
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def event_id(slot: int, streams: int, entry_id: str) -> str:
    """The id of one event, unique across the streams: `<slot>.<entry id>`."""
    return f"{label(slot, streams)}.{entry_id}"


def origin(streams: int) -> Vector:
    """The position before every event."""
    return (ORIGIN,) * streams


def advanced(vector: Vector, slot: int, position: Position) -> Vector:
    """`vector` with stream `slot` at `position`."""
    return vector[:slot] + (position,) + vector[slot + 1:]


def later(a: Vector, b: Vector) -> Vector:
    """Per stream, the later of the two positions."""
    return tuple(max(x, y) for x, y in zip(a, b, strict=True))


def encode(vector: Vector) -> str:
    """The resume token of `vector`."""
    parts = [f"{label(slot, len(vector))}.{ms}-{seq}"
             for slot, (ms, seq) in enumerate(vector) if (ms, seq) != ORIGIN]
    return "_".join(parts) or f"{GLOBAL}.0-0"


def decode(token: str, streams: int) -> Vector:
    """The position a resume token of a log of `streams` streams stands for; InvalidArgument for
    anything else, a token of the log before it was partitioned included."""
    if _SINGLE_STREAM.fullmatch(token):
        raise InvalidArgument(f"resume_token {token!r} is of the event log before it was "
                              "partitioned; subscribe without one and reload what you show")
    vector = _parsed(token, streams)
    if vector is None:
        raise InvalidArgument(f"resume_token {token[:60]!r} is not a resume token")
    return vector


def _parsed(token: str, streams: int) -> Vector | None:
    if not token or len(token) > streams * _PART_CHARS:
        return None
    slots = {label(slot, streams): slot for slot in range(streams)}
    found: dict[int, Position] = {}
    for part in token.split("_"):
        match = _PART.fullmatch(part)
        slot = slots.get(match.group(1)) if match else None
        if match is None or slot is None or slot in found:
            return None
        position = int(match.group(2)), int(match.group(3))
        if max(position) >= _ID_LIMIT:
            return None
        found[slot] = position
    return tuple(found.get(slot, ORIGIN) for slot in range(streams))
