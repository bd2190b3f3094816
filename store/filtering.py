"""`conversations.list` with `filters`: indexes where the store keeps them, evaluation where not.

Every term index (per channel, source, tag, state, metadata path and metadata value, and the
unread conversations) is a sorted set of conversation ids scored by last activity, like the
unfiltered list: a query of one such term pages straight from its index, in O(log n + page).
`created_at` and `unread_count` ranges are cut out of a sorted set by that value (O(log n + m)
for m matches) and rescored by activity. A query made only of indexed terms is answered by set
algebra in Redis (ZINTERSTORE / ZUNIONSTORE / ZDIFFSTORE, in time proportional to the sets
involved, as a search engine's posting lists), without loading any conversation. The rest
(wildcards, metadata ranges, display-name fragments) is evaluated on the conversations the
query's indexes leave: name trigrams, present metadata paths, indexed AND-terms. Either way the
answer is a temporary sorted set scored by activity, paged like the unfiltered list, so cursors
and `total` work the same.
"""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis
from google.protobuf import json_format

from store import filters, pages, views
from store.keys import StoreKeys

SCAN_CHUNK = 500
TEMPORARY_TTL_S = 60


class _Temporaries:
    """Temporary keys of one query, deleted when it is answered (and expiring regardless)."""

    def __init__(self, redis: aioredis.Redis, keys: StoreKeys) -> None:
        self.redis = redis
        self.keys = keys
        self.made: list[str] = []

    def new(self) -> str:
        key = self.keys.temporary(uuid.uuid4().hex)
        self.made.append(key)
        return key

    async def drop(self) -> None:
        if self.made:
            await self.redis.delete(*self.made)


def _score_bound(value: float | None, inclusive: bool, open_end: str) -> str:
    if value is None:
        return open_end
    return f"{value!r}" if inclusive else f"({value!r}"


async def _materialize(redis: aioredis.Redis, keys: StoreKeys, plan: filters.Plan,
                       temps: _Temporaries) -> str:
    """A sorted set (ids scored by activity) of the conversations `plan` selects."""
    everything = keys.conversations()
    if isinstance(plan, filters.IndexSet):
        if plan.kind == "id":
            target = temps.new()
            score = await redis.zscore(everything, plan.value)
            if score is not None:
                await redis.zadd(target, {plan.value: score})
            return target
        # An index is itself scored by activity: one indexed term pages straight from it.
        return everything if plan.kind == "all" else keys.index(plan.kind, plan.value)
    target = temps.new()
    if isinstance(plan, filters.ScoreRange):
        # The range of a sorted set by value (O(log n + m)), rescored by activity.
        source = keys.created() if plan.kind == "created" else keys.unread_counts()
        selected = temps.new()
        await redis.zrangestore(selected, source, _score_bound(plan.low, plan.include_low, "-inf"),
                                _score_bound(plan.high, plan.include_high, "+inf"), byscore=True)
        await redis.zinterstore(target, {everything: 1, selected: 0})
        await redis.expire(selected, TEMPORARY_TTL_S)
    else:
        operands = [await _materialize(redis, keys, p, temps) for p in plan.operands]
        if plan.op == "and":
            await redis.zinterstore(target, operands, aggregate="MAX")
        elif plan.op == "or":
            await redis.zunionstore(target, operands, aggregate="MAX")
        else:
            await redis.zdiffstore(target, [everything, *operands])
    await redis.expire(target, TEMPORARY_TTL_S)
    return target


async def _evaluate(redis: aioredis.Redis, keys: StoreKeys, query: filters.tree.Item,
                    candidates: str, temps: _Temporaries) -> str:
    """A sorted set of the `candidates` that satisfy `query`, evaluated one by one."""
    target = temps.new()
    start = 0
    while True:
        chunk = [m.decode() for m in await redis.zrange(candidates, start, start + SCAN_CHUNK - 1)]
        if not chunk:
            break
        start += SCAN_CHUNK
        # Scores from the activity index: a narrowing index (name trigrams) is not scored.
        scores = dict(zip(chunk, await redis.zmscore(keys.conversations(), chunk)))
        conversations = await views.load_conversations(redis, keys, list(scores))
        selected: dict[str, float] = {}
        for conversation in conversations:
            as_json = json_format.MessageToDict(conversation, preserving_proto_field_name=True)
            fields = filters.conversation_fields(as_json)
            score = scores.get(conversation.id)
            if score is not None and filters.matches(query, fields, as_json.get("metadata", {})):
                selected[conversation.id] = score
        if selected:
            await redis.zadd(target, selected)
    await redis.expire(target, TEMPORARY_TTL_S)
    return target


async def filtered_page(redis: aioredis.Redis, keys: StoreKeys, query: str, cursor: str,
                        page_size: int) -> pages.Page:
    """The page at `cursor` of the conversations matching `query` (newest activity first)."""
    parsed = filters.parse(query)
    pages.page_size_or_default(page_size)  # bad input is rejected before any work
    temps = _Temporaries(redis, keys)
    try:
        plan = filters.index_plan(parsed)
        if plan is not None:
            answer = await _materialize(redis, keys, plan, temps)
        else:
            narrowing = filters.narrowing_plan(parsed)
            candidates = (await _materialize(redis, keys, narrowing, temps)
                          if narrowing is not None else keys.conversations())
            answer = await _evaluate(redis, keys, parsed, candidates, temps)
        return await pages.newest_first_by_score(redis, answer, cursor, page_size)
    finally:
        await temps.drop()
