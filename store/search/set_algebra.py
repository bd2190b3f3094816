"""A filter's index plan (`store.search.plan`) run in one partition's indexes in Redis.

Every term index (per channel, source, tag, state, metadata path and metadata value, and the
unread conversations) is a sorted set of conversation ids scored by last activity, like the
unfiltered list: a plan of one such term pages straight from its index, in O(log n + page).
`created_at` and `unread_count` ranges are cut out of a sorted set by that value (O(log n + m)
for m matches) and rescored by activity. AND, OR and NOT are set algebra in Redis (ZINTERSTORE /
ZUNIONSTORE / ZDIFFSTORE, in time proportional to the sets involved, as a search engine's
posting lists), without loading any conversation; so are `metadata.<path>` wildcards and
ranges, from the registry of the path's texts. What a plan builds is kept in temporary keys of
the partition (`Temporaries`), dropped once the query is answered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


from runtime.redis import Client, text
from store.keys import PartitionKeys
from store.search.plan import IndexSet, Plan, ScoreRange, SetOp, ValueMatch
from store.search.terms import meta_term

SCAN_CHUNK = 500
TEMPORARY_TTL_S = 60


def _score_bound(value: float | None, inclusive: bool, open_end: str) -> str:
    if value is None:
        return open_end
    return f"{value!r}" if inclusive else f"({value!r}"


def _ranged(keys: PartitionKeys, plan: ScoreRange) -> str:
    """The sorted set of a range's values."""
    return keys.created() if plan.kind == "created" else keys.unread_counts()


def _bounds(plan: ScoreRange) -> tuple[str, str]:
    return (_score_bound(plan.low, plan.include_low, "-inf"),
            _score_bound(plan.high, plan.include_high, "+inf"))


class Temporaries:
    """Temporary keys of one query, deleted when it is answered (and expiring regardless)."""

    def __init__(self, keys: PartitionKeys) -> None:
        self.keys = keys
        self.made: list[str] = []

    def new(self) -> str:
        """A new temporary key of the partition."""
        key = self.keys.temporary(uuid.uuid4().hex)
        self.made.append(key)
        return key


async def drop(redis: Client, temporaries: list[Temporaries]) -> None:
    """Delete the temporary keys of every partition of a query, in one round trip."""
    pipe = redis.pipeline(transaction=False)
    for made in (t.made for t in temporaries if t.made):
        pipe.delete(*made)  # one partition's: one slot
    if len(pipe):
        await pipe.execute()


@dataclass(frozen=True)
class SortedSet:
    """A sorted set of conversation ids; `scored` when scored by activity (pageable as it is),
    else its scores are something else (a range's values, nothing) and only membership counts."""

    key: str
    scored: bool


async def _scored(redis: Client, keys: PartitionKeys, found: SortedSet,
                  temps: Temporaries) -> SortedSet:
    """`found` scored by activity."""
    if found.scored:
        return found
    target = temps.new()
    await _intersect(redis, target, {keys.conversations(): 1, found.key: 0})
    return SortedSet(target, True)


async def _intersect(redis: Client, target: str, weights: dict[str, float],
                     aggregate: str | None = None) -> None:
    """ZINTERSTORE of `weights` into the temporary `target`, with its expiry: one round trip."""
    pipe = redis.pipeline(transaction=False)
    pipe.zinterstore(target, weights, aggregate=aggregate)
    pipe.expire(target, TEMPORARY_TTL_S)
    await pipe.execute()


async def select(redis: Client, keys: PartitionKeys, plan: Plan,
                  temps: Temporaries) -> SortedSet:
    """The conversations `plan` selects. Unscored sets are rescored only where an answer needs
    it: AND weighs them 0 beside a scored operand, and NOT subtracts them as they are, so a
    range or negation costs what the sets it meets cost, not the whole index."""
    everything = SortedSet(keys.conversations(), True)
    if isinstance(plan, IndexSet):
        if plan.kind == "id":
            target = temps.new()
            score = await redis.zscore(everything.key, plan.value)
            if score is not None:
                await redis.zadd(target, {plan.value: score})
            return SortedSet(target, True)
        if plan.kind == "all":
            return everything
        # An index is itself scored by activity: one indexed term pages straight from it.
        return SortedSet(keys.index(plan.kind, plan.value), plan.kind != "gram")
    target = temps.new()
    if isinstance(plan, ValueMatch):
        # The path's texts (from the pattern's literal start on), the matching ones' indexes
        # united: O(texts read + matches), whatever the number of conversations.
        start = plan.literal_start().encode()
        low, high = (b"[" + start, b"[" + start + b"\xff") if start else (b"-", b"+")
        texts = await redis.zrange(keys.meta_values(plan.path), low, high, bylex=True)
        indexes = [keys.index("meta", meta_term(plan.path, text(t))) for t in texts
                   if plan.holds(text(t))]
        if len(indexes) == 1:
            return SortedSet(indexes[0], True)  # one text: its index pages as it is
        if indexes:
            await redis.zunionstore(target, indexes, aggregate="MAX")
        found = SortedSet(target, True)
    elif isinstance(plan, ScoreRange):
        # The range of a sorted set by value: O(log n + m).
        await redis.zrangestore(target, _ranged(keys, plan), *_bounds(plan), byscore=True)
        found = SortedSet(target, False)
    elif plan.op == "or":
        operands = [await _scored(redis, keys, await select(redis, keys, p, temps), temps)
                    for p in plan.operands]
        await redis.zunionstore(target, [o.key for o in operands], aggregate="MAX")
        found = SortedSet(target, True)
    else:
        negated = [p.operands[0] for p in plan.operands if isinstance(p, SetOp)
                   and p.op == "not"] if plan.op == "and" else list(plan.operands)
        wanted = [await select(redis, keys, p, temps) for p in plan.operands
                  if plan.op == "and" and not (isinstance(p, SetOp) and p.op == "not")]
        if not any(w.scored for w in wanted):
            wanted.append(everything)
        base = wanted[0]
        if len(wanted) > 1:
            base = SortedSet(temps.new(), True)
            await _intersect(redis, base.key, {w.key: 1 if w.scored else 0 for w in wanted},
                             aggregate="MAX")
        if not negated:
            return base
        base, negated = await _without_ranges(redis, keys, base, negated, temps)
        if not negated:
            return base
        excluded = [(await select(redis, keys, p, temps)).key for p in negated]
        await redis.zdiffstore(target, [base.key, *excluded])
        found = SortedSet(target, True)
    await redis.expire(target, TEMPORARY_TTL_S)
    return found


async def _without_ranges(redis: Client, keys: PartitionKeys, base: SortedSet,
                          negated: list[Plan],
                          temps: Temporaries) -> tuple[SortedSet, list[Plan]]:
    """`base` without the negated ranges that hold more conversations than it does (and the
    negated plans left): rather than cutting such a range out to subtract it, look up each of
    `base`'s members in the range's sorted set (`A AND NOT unread_count:0`, where most
    conversations have nothing unread, costs what A costs)."""
    size = await redis.zcard(base.key)
    broad = [p for p in negated if isinstance(p, ScoreRange)
             and await redis.zcount(_ranged(keys, p), *_bounds(p)) > size]
    if not broad:
        return base, negated
    kept = SortedSet(temps.new(), base.scored)
    await redis.zunionstore(kept.key, [base.key])
    await redis.expire(kept.key, TEMPORARY_TTL_S)
    for start in range(0, size, SCAN_CHUNK):
        chunk = [text(m) for m in await redis.zrange(base.key, start, start + SCAN_CHUNK - 1)]
        inside: set[str] = set()
        for plan in broad:
            values = await redis.zmscore(_ranged(keys, plan), chunk)
            inside |= {m for m, v in zip(chunk, values) if plan.holds(v)}
        if inside:
            await redis.zrem(kept.key, *inside)
    return kept, [p for p in negated if p not in broad]


async def materialize(redis: Client, keys: PartitionKeys, plan: Plan,
                       temps: Temporaries) -> str:
    """A sorted set (ids scored by activity) of the conversations `plan` selects."""
    return (await _scored(redis, keys, await select(redis, keys, plan, temps), temps)).key
