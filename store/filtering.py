"""`conversations.list` with `filters`: indexes where the store keeps them, evaluation where not.

Every term index (per channel, source, tag, state, metadata path and metadata value, and the
unread conversations) is a sorted set of conversation ids scored by last activity, like the
unfiltered list: a query of one such term pages straight from its index, in O(log n + page).
`created_at` and `unread_count` ranges are cut out of a sorted set by that value (O(log n + m)
for m matches) and rescored by activity. A query made only of indexed terms is answered by set
algebra in Redis (ZINTERSTORE / ZUNIONSTORE / ZDIFFSTORE, in time proportional to the sets
involved, as a search engine's posting lists), without loading any conversation; so are
`metadata.<path>` wildcards and ranges, from the registry of the path's texts. The rest
(wildcards of other fields, display-name patterns) is evaluated on the conversations the
query's indexes leave (name trigrams, indexed AND-terms), up to a limit: a query that would
load more conversations than that is refused with a 400 saying how to narrow it, rather than
holding the store for seconds. Either way the answer is a temporary sorted set scored by
activity, paged like the unfiltered list, so cursors and `total` work the same.

Every partition of the keyspace (`store.keys`) holds its share of each index, so a query runs
in each partition on its own keys (concurrently; on a Redis Cluster each in its slot), and the
answers are paged as one, merged by (activity, id).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis
from google.protobuf import json_format

from runtime.errors import InvalidArgument
from store import filters, pages, views
from store.keys import PartitionKeys, StoreKeys

SCAN_CHUNK = 500
TEMPORARY_TTL_S = 60


def _score_bound(value: float | None, inclusive: bool, open_end: str) -> str:
    if value is None:
        return open_end
    return f"{value!r}" if inclusive else f"({value!r}"


def _ranged(keys: PartitionKeys, plan: filters.ScoreRange) -> str:
    """The sorted set of a range's values."""
    return keys.created() if plan.kind == "created" else keys.unread_counts()


def _bounds(plan: filters.ScoreRange) -> tuple[str, str]:
    return (_score_bound(plan.low, plan.include_low, "-inf"),
            _score_bound(plan.high, plan.include_high, "+inf"))


class _Temporaries:
    """Temporary keys of one query, deleted when it is answered (and expiring regardless)."""

    def __init__(self, keys: PartitionKeys) -> None:
        self.keys = keys
        self.made: list[str] = []

    def new(self) -> str:
        key = self.keys.temporary(uuid.uuid4().hex)
        self.made.append(key)
        return key


async def _drop(redis: aioredis.Redis, temporaries: list[_Temporaries]) -> None:
    """Delete the temporary keys of every partition of a query, in one round trip."""
    pipe = redis.pipeline(transaction=False)
    for made in (t.made for t in temporaries if t.made):
        pipe.delete(*made)  # one partition's: one slot
    if len(pipe):
        await pipe.execute()


@dataclass(frozen=True)
class _Set:
    """A sorted set of conversation ids; `scored` when scored by activity (pageable as it is),
    else its scores are something else (a range's values, nothing) and only membership counts."""

    key: str
    scored: bool


async def _scored(redis: aioredis.Redis, keys: PartitionKeys, found: _Set, temps: _Temporaries) -> _Set:
    """`found` scored by activity."""
    if found.scored:
        return found
    target = temps.new()
    await redis.zinterstore(target, {keys.conversations(): 1, found.key: 0})
    await redis.expire(target, TEMPORARY_TTL_S)
    return _Set(target, True)


async def _select(redis: aioredis.Redis, keys: PartitionKeys, plan: filters.Plan,
                  temps: _Temporaries) -> _Set:
    """The conversations `plan` selects. Unscored sets are rescored only where an answer needs
    it: AND weighs them 0 beside a scored operand, and NOT subtracts them as they are, so a
    range or negation costs what the sets it meets cost, not the whole index."""
    everything = _Set(keys.conversations(), True)
    if isinstance(plan, filters.IndexSet):
        if plan.kind == "id":
            target = temps.new()
            score = await redis.zscore(everything.key, plan.value)
            if score is not None:
                await redis.zadd(target, {plan.value: score})
            return _Set(target, True)
        if plan.kind == "all":
            return everything
        # An index is itself scored by activity: one indexed term pages straight from it.
        return _Set(keys.index(plan.kind, plan.value), plan.kind != "gram")
    target = temps.new()
    if isinstance(plan, filters.ValueMatch):
        # The path's texts (from the pattern's literal start on), the matching ones' indexes
        # united: O(texts read + matches), whatever the number of conversations.
        start = plan.literal_start().encode()
        low, high = (b"[" + start, b"[" + start + b"\xff") if start else (b"-", b"+")
        texts = await redis.zrange(keys.meta_values(plan.path), low, high, bylex=True)
        indexes = [keys.index("meta", filters.meta_term(plan.path, t.decode())) for t in texts
                   if plan.holds(t.decode())]
        if len(indexes) == 1:
            return _Set(indexes[0], True)  # one text: its index pages as it is
        if indexes:
            await redis.zunionstore(target, indexes, aggregate="MAX")
        found = _Set(target, True)
    elif isinstance(plan, filters.ScoreRange):
        # The range of a sorted set by value: O(log n + m).
        await redis.zrangestore(target, _ranged(keys, plan), *_bounds(plan), byscore=True)
        found = _Set(target, False)
    elif plan.op == "or":
        operands = [await _scored(redis, keys, await _select(redis, keys, p, temps), temps)
                    for p in plan.operands]
        await redis.zunionstore(target, [o.key for o in operands], aggregate="MAX")
        found = _Set(target, True)
    else:
        negated = [p.operands[0] for p in plan.operands if isinstance(p, filters.SetOp)
                   and p.op == "not"] if plan.op == "and" else list(plan.operands)
        wanted = [await _select(redis, keys, p, temps) for p in plan.operands
                  if plan.op == "and" and not (isinstance(p, filters.SetOp) and p.op == "not")]
        if not any(w.scored for w in wanted):
            wanted.append(everything)
        base = wanted[0]
        if len(wanted) > 1:
            base = _Set(temps.new(), True)
            await redis.zinterstore(base.key, {w.key: 1 if w.scored else 0 for w in wanted},
                                    aggregate="MAX")
            await redis.expire(base.key, TEMPORARY_TTL_S)
        if not negated:
            return base
        base, negated = await _without_ranges(redis, keys, base, negated, temps)
        if not negated:
            return base
        excluded = [(await _select(redis, keys, p, temps)).key for p in negated]
        await redis.zdiffstore(target, [base.key, *excluded])
        found = _Set(target, True)
    await redis.expire(target, TEMPORARY_TTL_S)
    return found


async def _without_ranges(redis: aioredis.Redis, keys: PartitionKeys, base: _Set,
                          negated: list[filters.Plan],
                          temps: _Temporaries) -> tuple[_Set, list[filters.Plan]]:
    """`base` without the negated ranges that hold more conversations than it does (and the
    negated plans left): rather than cutting such a range out to subtract it, look up each of
    `base`'s members in the range's sorted set (`A AND NOT unread_count:0`, where most
    conversations have nothing unread, costs what A costs)."""
    size = await redis.zcard(base.key)
    broad = [p for p in negated if isinstance(p, filters.ScoreRange)
             and await redis.zcount(_ranged(keys, p), *_bounds(p)) > size]
    if not broad:
        return base, negated
    kept = _Set(temps.new(), base.scored)
    await redis.zunionstore(kept.key, [base.key])
    await redis.expire(kept.key, TEMPORARY_TTL_S)
    for start in range(0, size, SCAN_CHUNK):
        chunk = await redis.zrange(base.key, start, start + SCAN_CHUNK - 1)
        inside: set[bytes] = set()
        for plan in broad:
            values = await redis.zmscore(_ranged(keys, plan), chunk)
            inside |= {m for m, v in zip(chunk, values) if plan.holds(v)}
        if inside:
            await redis.zrem(kept.key, *inside)
    return kept, [p for p in negated if p not in broad]


async def _materialize(redis: aioredis.Redis, keys: PartitionKeys, plan: filters.Plan,
                       temps: _Temporaries) -> str:
    """A sorted set (ids scored by activity) of the conversations `plan` selects."""
    return (await _scored(redis, keys, await _select(redis, keys, plan, temps), temps)).key


async def _evaluate(redis: aioredis.Redis, store: StoreKeys, keys: PartitionKeys,
                    query: filters.tree.Item, candidates: str, temps: _Temporaries) -> str:
    """A sorted set of the `candidates` (of partition `keys`) that satisfy `query`, evaluated
    one by one."""
    target = temps.new()
    start = 0
    while True:
        chunk = [m.decode() for m in await redis.zrange(candidates, start, start + SCAN_CHUNK - 1)]
        if not chunk:
            break
        start += SCAN_CHUNK
        # Scores from the activity index: a narrowing index (name trigrams) is not scored.
        scores = dict(zip(chunk, await redis.zmscore(keys.conversations(), chunk)))
        conversations = await views.load_conversations(redis, store, list(scores))
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


async def _candidates(redis: aioredis.Redis, keys: PartitionKeys, narrowing: filters.Plan | None,
                      temps: _Temporaries) -> str:
    """The sorted set of a partition's conversations a query must be checked on."""
    if narrowing is None:
        return keys.conversations()
    return (await _select(redis, keys, narrowing, temps)).key


async def filtered_page(redis: aioredis.Redis, keys: StoreKeys, query: str, cursor: str,
                        page_size: int, evaluation_limit: int) -> pages.Page:
    """The page at `cursor` of the conversations matching `query` (newest activity first);
    InvalidArgument when it would evaluate more than `evaluation_limit` conversations."""
    parsed = filters.parse(query)
    pages.page_size_or_default(page_size)  # bad input is rejected before any work
    parts = keys.partitions()
    temps = [_Temporaries(part) for part in parts]
    try:
        plan = filters.index_plan(parsed)
        if plan is not None:
            answers = await asyncio.gather(*(
                _materialize(redis, part, plan, t) for part, t in zip(parts, temps)))
        else:
            narrowing = filters.narrowing_plan(parsed)
            candidates = await asyncio.gather(*(
                _candidates(redis, part, narrowing, t) for part, t in zip(parts, temps)))
            pipe = redis.pipeline(transaction=False)
            for key in candidates:
                pipe.zcard(key)
            count = sum(await pipe.execute())
            if count > evaluation_limit:
                raise InvalidArgument(
                    f"filters {query!r} would be checked on {count} conversations one by one "
                    f"(the limit is {evaluation_limit}); narrow it with an indexed term "
                    "(channel_id, source, tag_ids, state, metadata.<path>, unread_count, "
                    "created_at) or give display_name fragments of 3 characters or more")
            answers = await asyncio.gather(*(
                _evaluate(redis, keys, part, parsed, found, t)
                for part, found, t in zip(parts, candidates, temps)))
        return await pages.newest_first_by_score(redis, list(answers), cursor, page_size)
    finally:
        await _drop(redis, temps)
