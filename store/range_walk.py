"""Pages of a `conversations.list` filter that is one broad range (`created_at:[a TO b]`,
`unread_count:[2 TO *]`), found by walking the activity index instead of cutting the range out.

Cutting m matches out of their sorted set and rescoring them by activity costs O(m log m) per
request, whatever the page. When the range is broad, most conversations match: walking the
activity index from the cursor and keeping the members whose value lies in the range finds a
page after about page * n / m of them, and ZCOUNT gives `total` in O(log n). A narrow range is
still cut out (`store.filtering`): its few matches cost less than a long walk.
"""

from __future__ import annotations

import os
from typing import Any

import redis.asyncio as aioredis

from store import cursors, filters, pages
from store.keys import StoreKeys

#: A range with more matches than this is walked; with fewer it is cut out
#: (`PARLEY_FILTER_WALK_ABOVE`; the tests set 0 to walk every range).
WALK_ABOVE = int(os.environ.get("PARLEY_FILTER_WALK_ABOVE", "5000"))


def _inside(value: float | None, plan: filters.ScoreRange) -> bool:
    if value is None:
        return False
    if plan.low is not None and (value < plan.low or (value == plan.low and not plan.include_low)):
        return False
    return plan.high is None or value < plan.high or (value == plan.high and plan.include_high)


def score_bound(value: float | None, inclusive: bool, open_end: str) -> str:
    """A ZRANGE/ZCOUNT score bound: `open_end` ("-inf"/"+inf") for None, "(" when exclusive."""
    if value is None:
        return open_end
    return f"{value!r}" if inclusive else f"({value!r}"


def ranged(keys: StoreKeys, plan: filters.ScoreRange) -> str:
    """The sorted set of the range's values."""
    return keys.created() if plan.kind == "created" else keys.unread_counts()


async def total(redis: aioredis.Redis, keys: StoreKeys, plan: filters.ScoreRange) -> int:
    """How many conversations the range holds, in O(log n)."""
    return int(await redis.zcount(ranged(keys, plan), score_bound(plan.low, plan.include_low, "-inf"),
                                  score_bound(plan.high, plan.include_high, "+inf")))


async def page(redis: aioredis.Redis, keys: StoreKeys, plan: filters.ScoreRange, cursor: str,
               page_size: int, matching: int) -> pages.Page:
    """The page at `cursor` of the conversations in the range, newest activity first, as
    `pages.newest_first_by_score` pages an index (same cursors); `matching` is its total."""
    size = pages.page_size_or_default(page_size)
    position = cursors.decode(cursor) if cursor else None
    index = keys.conversations()
    backwards = position is None or position.direction == "before"
    if position is None:
        rank = await redis.zcard(index)
    else:
        rank, _ = await pages.rank_of(redis, index, position)
    chunk = max(4 * size, 200)
    found: list[tuple[str, float]] = []
    while len(found) <= size:
        start, end = (max(0, rank - chunk), rank - 1) if backwards else (rank + 1, rank + chunk)
        if end < start:
            break
        members: list[tuple[Any, float]] = await redis.zrange(index, start, end, withscores=True)
        if not members:
            break
        ids = [m.decode() for m, _ in members]
        values = await redis.zmscore(ranged(keys, plan), ids)
        kept = [(cid, score) for cid, (_, score), value in zip(ids, members, values)
                if _inside(value, plan)]
        found += reversed(kept) if backwards else kept
        rank = start if backwards else end
    more = len(found) > size
    found = found[:size]
    if backwards:
        found.reverse()
    members_out = [cursors.message_member(int(score), cid) for cid, score in found]
    has_older, has_newer = (more, position is not None) if backwards else (True, more)
    return pages.Page(
        members=members_out,
        next_cursor=(cursors.encode(cursors.Cursor("before", members_out[0]))
                     if has_older and members_out else ""),
        previous_cursor=(cursors.encode(cursors.Cursor("after", members_out[-1]))
                         if has_newer and members_out else ""),
        total=matching,
    )
