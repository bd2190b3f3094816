"""Opaque pagination cursors over a conversation's messages (pure functions)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Literal

from runtime import timestamps
from runtime.errors import InvalidArgument

Direction = Literal["before", "after"]


@dataclass(frozen=True)
class Cursor:
    """A position in a conversation: the page holds messages strictly `before` or `after` `member`."""

    direction: Direction
    member: str


def message_member(sent_at_ms: int, message_id: str) -> str:
    """The sorted-set member of a message: fixed-width time first, so lexical order is time order
    (the source's time, not ours), with the id breaking ties."""
    return f"{sent_at_ms:015d}:{message_id}"


def read_bound(conversation_metadata: dict[str, Any]) -> str:
    """The lexical lower bound (exclusive) of a conversation's unread contact messages: after its
    `read_until` marker (RFC 3339, set by mark-read), or "-" (all) when it was never read."""
    marker = conversation_metadata.get("read_until")
    if not isinstance(marker, str):
        return "-"
    # ';' sorts after ':', so every message of that very millisecond counts as read.
    return f"({timestamps.parse_ms(marker):015d};"


def is_unread(member: str, bound: str) -> bool:
    """True when the message `member` lies after `bound` (see `read_bound`)."""
    return bound == "-" or member > bound[1:]


def encode(cursor: Cursor) -> str:
    """The cursor as an opaque URL-safe string."""
    raw = f"{cursor.direction[0]}|{cursor.member}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


#: Longer than any cursor `encode` makes (a member is a time and an id); longer ones are refused
#: before they are decoded.
MAX_CURSOR_CHARS = 512


def decode(text: str) -> Cursor:
    """Parse a cursor made by `encode`; raise InvalidArgument for anything else."""
    invalid = InvalidArgument(f"invalid cursor {text[:40]!r}{'...' if len(text) > 40 else ''}")
    if len(text) > MAX_CURSOR_CHARS:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        kind, member = raw.split("|", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid from exc
    directions: dict[str, Direction] = {"b": "before", "a": "after"}
    if kind not in directions or not member:
        raise invalid
    return Cursor(directions[kind], member)
