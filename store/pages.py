"""Cursor pages over a lexically ordered sorted set (all scores 0, members `<time:015d>:<id>`),
in O(log n + page) Redis work. Messages and conversations are both paged this way.

The first page holds the newest `page_size` members; `next_cursor` walks back in time and
`previous_cursor` forward again. Members come back oldest -> latest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


from parley.v1 import resources_pb2
from runtime.errors import InvalidArgument
from runtime.redis import Client, PipelinedScript, unpacked
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

    @classmethod
    def of(cls, members: list[str], has_older: bool, has_newer: bool, total: int) -> Page:
        """The page of `members` (oldest -> latest), with a cursor to each side that has more."""
        return cls(
            members=members,
            next_cursor=(cursors.encode(cursors.Cursor("before", members[0]))
                         if has_older and members else ""),
            previous_cursor=(cursors.encode(cursors.Cursor("after", members[-1]))
                             if has_newer and members else ""),
            total=total,
        )


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
        return Page.of(members, has_older, has_newer, total)


def _position(position: cursors.Cursor) -> tuple[int, str]:
    """A cursor's (score, id); InvalidArgument when its member is not `<time>:<id>`."""
    score_text, _, member = position.member.partition(":")
    if not score_text.isdigit() or not member:
        raise InvalidArgument("invalid cursor")
    return int(score_text), member


#: Lua: `position(key, score, member)`, the rank of a position in a set scored by time; and
#: `span(key, size, score, member, direction)`, what a set scored by time (ties ordered by
#: member) holds of a page merged over several such sets: the set's size, how many members come
#: before the position in (score, member) order and how many before or at it (the size twice
#: for the newest page: `score` nil), then the members and scores of the set's share of the
#: page, the `size` members before the position or after it (`direction`).
SPAN_LUA = """
local function less(a, b)
  -- Members compare as bytes, as in a sorted set (Lua's < follows the server's locale).
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
-- How many members of `key` come before (score, member), and how many before or at it.
local function position(key, score, member)
  local before = redis.call('ZCOUNT', key, '-inf', '(' .. score)
  local through = before
  for _, tie in ipairs(redis.call('ZRANGE', key, score, score, 'BYSCORE')) do
    if less(tie, member) then before = before + 1 end
    if not less(member, tie) then through = through + 1 end
  end
  return before, through
end
local function span(key, size, score, member, direction)
  local total = redis.call('ZCARD', key)
  if not score then
    return {total, total, total, redis.call('ZRANGE', key, -size, -1, 'WITHSCORES')}
  end
  local before, through = position(key, score, member)
  local start, stop = through, through + size - 1
  if direction == 'before' then start, stop = math.max(0, before - size), before - 1 end
  local entries = {}
  if stop >= start then entries = redis.call('ZRANGE', key, start, stop, 'WITHSCORES') end
  return {total, before, through, entries}
end
"""

#: KEYS: a sorted set scored by time. ARGV: `ScoredSpan.args`. Answers its `span` (msgpack).
_SCORED_SPAN = PipelinedScript(SPAN_LUA + """
return cmsgpack.pack(span(KEYS[1], tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]))
""")


@dataclass(frozen=True)
class ScoredSpan:
    """A page at a cursor over sets scored by time (ties ordered by member) whose members are
    ids, merged as one: a set per partition of the keyspace, each holding a share. The cursor
    is a position in (time, id) order, so it holds whatever set its neighbours are in."""

    size: int
    position: cursors.Cursor | None

    @classmethod
    def of(cls, cursor: str, page_size: int) -> ScoredSpan:
        """The span of the page at `cursor` ("" = the newest page); InvalidArgument for a bad
        cursor or page size."""
        return cls(page_size_or_default(page_size), cursors.decode(cursor) if cursor else None)

    def args(self) -> list[str | int]:
        """The arguments of `span` in Lua: the page size, then the position's score, member and
        direction (none for the newest page)."""
        if self.position is None:
            return [self.size]
        return [self.size, *_position(self.position), self.position.direction]

    def page(self, answers: list[list[Any]]) -> Page:
        """The page of what `span` answered for each set (msgpack, unpacked); `total` adds the
        sets' sizes up."""
        sizes = [answer[0] for answer in answers]
        flat = [entry for answer in answers for entry in answer[3] or ()]
        found = sorted((int(float(score)), m) for m, score in zip(flat[0::2], flat[1::2]))
        if self.position is None or self.position.direction == "before":
            chosen = found[-self.size:]
            has_older = sum(answer[1] for answer in answers) > self.size
            has_newer = self.position is not None
        else:
            chosen = found[:self.size]
            has_older = True
            has_newer = sum(n - answer[2] for n, answer in zip(sizes, answers)) > self.size
        members = [cursors.message_member(score, m.decode()) for score, m in chosen]
        return Page.of(members, has_older, has_newer, sum(sizes))


async def newest_first_by_score(
    redis: Client, indexes: list[str], cursor: str, page_size: int
) -> Page:
    """Like `newest_first`, over sorted sets scored by time merged as one (`ScoredSpan`); such
    sets combine with plain index sets (ZINTERSTORE) for filters. One round trip, a script per
    set, whatever the number of sets."""
    span = ScoredSpan.of(cursor, page_size)
    answers = await _SCORED_SPAN.run(redis, [([index], span.args()) for index in indexes])
    return span.page([unpacked(answer) for answer in answers])
