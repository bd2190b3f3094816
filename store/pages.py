"""Cursor pages over a lexically ordered sorted set (all scores 0, members `<time:015d>:<id>`),
in O(log n + page) Redis work. Messages and conversations are both paged this way.

The first page holds the newest `page_size` members; `next_cursor` walks back in time and
`previous_cursor` forward again. Members come back oldest -> latest.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from runtime.errors import InvalidArgument
from store import cursors

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page:
    """Members of one page (oldest -> latest), the cursors around it, and the set's size."""

    members: list[str]
    previous_cursor: str
    next_cursor: str
    total: int


def page_size_or_default(page_size: int) -> int:
    """The page size asked for, 20 when unset; InvalidArgument outside 1..1000."""
    if page_size == 0:
        return DEFAULT_PAGE_SIZE
    if not 0 < page_size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    return page_size


def member_id(member: str) -> str:
    """The id part of a member."""
    return member.split(":", 1)[1]


async def newest_first(redis: aioredis.Redis, index: str, cursor: str, page_size: int) -> Page:
    """The page of `index` at `cursor` ("" = the newest page)."""
    size = page_size_or_default(page_size)
    position = cursors.decode(cursor) if cursor else None
    pipe = redis.pipeline(transaction=False)
    pipe.zcard(index)
    if position is None or position.direction == "before":
        top = "+" if position is None else f"({position.member}"
        pipe.zrange(index, top, "-", desc=True, bylex=True, offset=0, num=size + 1)
    else:
        pipe.zrange(index, f"({position.member}", "+", bylex=True, offset=0, num=size + 1)
    total, found = await pipe.execute()
    members = [m.decode() for m in found]
    if position is None or position.direction == "before":
        has_older, has_newer = len(members) > size, position is not None
        members = list(reversed(members[:size]))
    else:
        has_older, has_newer = True, len(members) > size
        members = members[:size]
    return Page(
        members=members,
        next_cursor=cursors.encode(cursors.Cursor("before", members[0])) if has_older and members else "",
        previous_cursor=(
            cursors.encode(cursors.Cursor("after", members[-1])) if has_newer and members else ""
        ),
        total=total,
    )
