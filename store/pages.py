"""Cursor pages over a lexically ordered sorted set (all scores 0, members `<time:015d>:<id>`),
in O(log n + page) Redis work. Messages and conversations are both paged this way.

The first page holds the newest `page_size` members; `next_cursor` walks back in time and
`previous_cursor` forward again. Members come back oldest -> latest.
"""

from __future__ import annotations

from dataclasses import dataclass


from parley.v1 import resources_pb2
from runtime.errors import InvalidArgument
from runtime.redis import Client
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


def pagination(page: Page) -> resources_pb2.PaginationData:
    """The `pagination_data` of a page."""
    return resources_pb2.PaginationData(
        previous_cursor=page.previous_cursor, next_cursor=page.next_cursor, total=page.total
    )


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


async def newest_first(redis: Client, index: str, cursor: str, page_size: int) -> Page:
    """The page of `index` at `cursor` ("" = the newest page)."""
    span = LexSpan.of(cursor, page_size)
    pipe = redis.pipeline(transaction=False)
    pipe.zcard(index)
    pipe.zrange(index, span.start, span.stop, desc=span.newest_first, bylex=True, offset=0,
                num=span.size + 1)
    total, found = await pipe.execute()
    return span.page([m.decode() for m in found], total)


@dataclass(frozen=True)
class LexSpan:
    """What a page at a cursor reads of a lexically ordered set: up to `size` + 1 members from
    `start` to `stop` (ZRANGE ... BYLEX bounds), newest first or oldest first."""

    size: int
    start: str
    stop: str
    newest_first: bool
    position: cursors.Cursor | None

    @classmethod
    def of(cls, cursor: str, page_size: int) -> LexSpan:
        """The span of the page at `cursor` ("" = the newest page); InvalidArgument for a bad
        cursor or page size."""
        size = page_size_or_default(page_size)
        position = cursors.decode(cursor) if cursor else None
        if position is None or position.direction == "before":
            top = "+" if position is None else f"({position.member}"
            return cls(size, top, "-", True, position)
        return cls(size, f"({position.member}", "+", False, position)

    def page(self, members: list[str], total: int) -> Page:
        """The page of `members` as read (in the span's order), in a set of `total`."""
        if self.newest_first:
            has_older, has_newer = len(members) > self.size, self.position is not None
            members = list(reversed(members[:self.size]))
        else:
            has_older, has_newer = True, len(members) > self.size
            members = members[:self.size]
        return Page(
            members=members,
            next_cursor=(cursors.encode(cursors.Cursor("before", members[0]))
                         if has_older and members else ""),
            previous_cursor=(cursors.encode(cursors.Cursor("after", members[-1]))
                             if has_newer and members else ""),
            total=total,
        )


def _position(position: cursors.Cursor) -> tuple[int, bytes]:
    """A cursor's (score, id); InvalidArgument when its member is not `<time>:<id>`."""
    score_text, _, member = position.member.partition(":")
    if not score_text.isdigit() or not member:
        raise InvalidArgument("invalid cursor")
    return int(score_text), member.encode()


async def _older_counts(redis: Client, indexes: list[str], score: int, member: bytes
                        ) -> tuple[list[int], list[int], list[int]]:
    """For each of `indexes`: its size, how many of its members come before (score, member) in
    (score, member) order, and how many come before or at it; one round trip for all of them."""
    pipe = redis.pipeline(transaction=False)
    for index in indexes:
        pipe.zcard(index)
        pipe.zcount(index, "-inf", f"({score}")
        pipe.zrange(index, score, score, byscore=True)  # ties: few, ordered by member
    found = await pipe.execute()
    sizes, before, through = [], [], []
    for i in range(len(indexes)):
        size, older, ties = found[3 * i: 3 * i + 3]
        sizes.append(size)
        before.append(older + sum(1 for tie in ties if tie < member))
        through.append(older + sum(1 for tie in ties if tie <= member))
    return sizes, before, through


async def newest_first_by_score(
    redis: Client, indexes: list[str], cursor: str, page_size: int
) -> Page:
    """Like `newest_first`, over sorted sets scored by time (ties ordered by member) whose
    members are ids, merged as one: a set per partition of the keyspace, each holding a share.
    Such sets combine with plain index sets (ZINTERSTORE) for filters. The cursor is a position
    in (time, id) order, so it holds whatever partition its neighbours are in; the total adds
    the sets' sizes up. Two round trips at most, whatever the number of sets."""
    size = page_size_or_default(page_size)
    position = cursors.decode(cursor) if cursor else None
    pipe = redis.pipeline(transaction=False)
    if position is None:  # the newest of each set, and its size: one round trip
        for index in indexes:
            pipe.zcard(index)
            pipe.zrange(index, -size, -1, withscores=True)
        answers = await pipe.execute()
        sizes, pieces = answers[0::2], answers[1::2]
        older_total = sum(sizes)
    else:
        score, member = _position(position)
        sizes, before, through = await _older_counts(redis, indexes, score, member)
        if position.direction == "before":
            ranges = [(max(0, b - size), b - 1) for b in before]
            older_total = sum(before)
        else:
            ranges = [(t, t + size - 1) for t in through]
            newer_total = sum(n - t for n, t in zip(sizes, through))
        for index, (start, end) in zip(indexes, ranges):
            pipe.zrange(index, start, max(start, end), withscores=True)
        pieces = [entries if end >= start else []
                  for (start, end), entries in zip(ranges, await pipe.execute())]
    found = sorted((int(score), m) for entries in pieces for m, score in entries)
    if position is None or position.direction == "before":
        chosen = found[-size:]
        has_older, has_newer = older_total > size, position is not None
    else:
        chosen = found[:size]
        has_older, has_newer = True, newer_total > size
    members = [cursors.message_member(score, m.decode()) for score, m in chosen]
    return Page(
        members=members,
        next_cursor=cursors.encode(cursors.Cursor("before", members[0])) if has_older and members else "",
        previous_cursor=(
            cursors.encode(cursors.Cursor("after", members[-1])) if has_newer and members else ""
        ),
        total=sum(sizes),
    )
