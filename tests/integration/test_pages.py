"""Pages over several sorted sets scored by time, merged as one (`pages.newest_first_by_score`,
which pages conversations over the partitions), against the real Redis: every member once, in
(time, id) order, both ways, ties between and within sets included."""

from __future__ import annotations

import asyncio
import random
import uuid

from runtime import redis as runtime_redis
from runtime.settings import Settings
from store import pages


def test_pages_over_several_sets_walk_back_and_forth_in_time_and_id_order(
        live_stack: Settings) -> None:
    rng = random.Random(7)
    prefix = f"test-pages-{uuid.uuid4()}"
    sets = [f"{{{prefix}-{n}}}:set" for n in range(3)]
    # 40 members on 12 distinct times: many ties, within one set and across sets.
    members = {f"{rng.getrandbits(32):08x}": 1_700_000_000_000 + rng.randrange(12) * 1000
               for _ in range(40)}
    placed = {member: rng.choice(sets) for member in members}
    expected = [m for _, m in sorted((t, m) for m, t in members.items())]  # oldest first

    async def walk() -> tuple[list[str], list[str], list[int]]:
        redis = runtime_redis.client(live_stack)
        try:
            for member, key in placed.items():
                await redis.zadd(key, {member: members[member]})
            back: list[str] = []
            totals = []
            page = await pages.newest_first_by_score(redis, sets, "", 7)
            while True:
                back = [pages.member_id(m) for m in page.members] + back
                totals.append(page.total)
                if not page.next_cursor:
                    break
                page = await pages.newest_first_by_score(redis, sets, page.next_cursor, 7)
            forward = [pages.member_id(m) for m in page.members]  # the oldest page
            while page.previous_cursor:
                page = await pages.newest_first_by_score(redis, sets, page.previous_cursor, 7)
                forward += [pages.member_id(m) for m in page.members]
            return back, forward, totals
        finally:
            await redis.delete(*sets)
            await redis.aclose()

    back, forward, totals = asyncio.run(walk())
    assert back == expected
    assert forward == expected
    assert set(totals) == {40}


def test_a_cursor_holds_its_place_when_its_member_moves_away(live_stack: Settings) -> None:
    key = f"{{test-pages-{uuid.uuid4()}}}:set"

    async def pages_around_a_move() -> tuple[list[str], list[str]]:
        redis = runtime_redis.client(live_stack)
        try:
            await redis.zadd(key, {f"m{i}": 1000 + i for i in range(6)})
            first = await pages.newest_first_by_score(redis, [key], "", 2)  # m4, m5
            await redis.zadd(key, {"m4": 2000})  # new activity: m4 is now the newest
            older = await pages.newest_first_by_score(redis, [key], first.next_cursor, 2)
            newer = await pages.newest_first_by_score(redis, [key], older.previous_cursor, 2)
            return ([pages.member_id(m) for m in older.members],
                    [pages.member_id(m) for m in newer.members])
        finally:
            await redis.delete(key)
            await redis.aclose()

    older, newer = asyncio.run(pages_around_a_move())
    assert older == ["m2", "m3"]  # before m4's old place (1004): m4 is not seen twice
    assert newer == ["m5", "m4"]  # after m3: m5, then m4 at its new place
