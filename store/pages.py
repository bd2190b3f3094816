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


async def _rank(redis: aioredis.Redis, index: str, position: cursors.Cursor) -> tuple[int, int]:
    """(rank of the cursor's element in ascending order, size of `index`), in one round trip.

    When the element has moved since (new activity) or gone, the rank is where its old score
    would stand, so the walk goes on from the same place in time."""
    score_text, member = position.member.split(":", 1)
    pipe = redis.pipeline(transaction=False)
    pipe.zcard(index)
    pipe.zrank(index, member)
    pipe.zscore(index, member)
    pipe.zcount(index, "-inf", f"({int(score_text)}")
    total, rank, score, older = await pipe.execute()
    if rank is not None and score is not None and int(score) == int(score_text):
        return rank, total
    return older - (1 if position.direction == "after" else 0), total


async def newest_first_by_score(
    redis: aioredis.Redis, index: str, cursor: str, page_size: int
) -> Page:
    """Like `newest_first`, over a sorted set scored by time (ties ordered by member), whose
    members are ids: such sets combine with plain index sets (ZINTERSTORE) for filters."""
    size = page_size_or_default(page_size)
    position = cursors.decode(cursor) if cursor else None
    if position is None:
        total = await redis.zcard(index)
        start, end = max(0, total - size), total - 1
    else:
        rank, total = await _rank(redis, index, position)
        if position.direction == "before":
            start, end = max(0, rank - size), rank - 1
        else:
            start, end = rank + 1, rank + size
    found = await redis.zrange(index, start, end, withscores=True) if end >= start else []
    members = [cursors.message_member(int(score), m.decode()) for m, score in found]
    has_older, has_newer = start > 0, end < total - 1
    return Page(
        members=members,
        next_cursor=cursors.encode(cursors.Cursor("before", members[0])) if has_older and members else "",
        previous_cursor=(
            cursors.encode(cursors.Cursor("after", members[-1])) if has_newer and members else ""
        ),
        total=total,
    )
