"""A filter's index plan (`store.search.plan`) run in one partition's indexes in Redis, by one
script per partition: a query costs one round trip (two with `metadata.<path>` wildcards or
ranges, whose texts are read first), however many sets it combines.

Every term index (per channel, source, tag, state, metadata path and metadata value, and the
unread conversations) is a sorted set of conversation ids scored by last activity, like the
unfiltered list: a plan of one such term pages straight from its index, in O(log n + page).
`created_at` and `unread_count` ranges are cut out of a sorted set by that value (O(log n + m)
for m matches) and rescored by activity. AND, OR and NOT are set algebra in Redis (ZINTERSTORE /
ZUNIONSTORE / ZDIFFSTORE, in time proportional to the sets involved, as a search engine's
posting lists), without loading any conversation; so are `metadata.<path>` wildcards and
ranges, from the registry of the path's texts. What a plan builds is kept in temporary keys of
the partition, dropped by the script once it has the answer (and expiring regardless).

A plan goes to the script as a program of nested lists (`program`, pure):
- `["key", key, scored]`: an index as it is (`scored` 0: its scores are not activity);
- `["id", id]`: the one conversation, if known;
- `["range", key, low, high, low_value, high_value, include_low, include_high]`: the members of a
  sorted set by value whose score is in a range (ZRANGESTORE bounds, then the numbers);
- `["union", [key, ...]]`: the indexes of a metadata path's matching texts, united;
- `["or", [program, ...]]`, `["and", [program, ...], [negated program, ...]]`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

import msgpack

from runtime.redis import Client, PipelinedScript, text, unpacked
from store import pages
from store.keys import PartitionKeys
from store.search.plan import IndexSet, Plan, ScoreRange, SetOp, ValueMatch
from store.search.terms import meta_term

SCAN_CHUNK = 500
TEMPORARY_TTL_S = 60

#: A program (see the module's docstring).
Program = list[Any]


def _score_bound(value: float | None, inclusive: bool, open_end: str) -> str:
    if value is None:
        return open_end
    return f"{value!r}" if inclusive else f"({value!r}"


def _ranged(keys: PartitionKeys, plan: ScoreRange) -> str:
    """The sorted set of a range's values."""
    return keys.created() if plan.kind == "created" else keys.unread_counts()


def program(plan: Plan, keys: PartitionKeys, texts: dict[ValueMatch, list[str]]) -> Program:
    """The program of `plan` in partition `keys`, where `texts` holds the texts of each
    `ValueMatch`'s path that it matches (`value_matches`, `matching_texts`)."""
    if isinstance(plan, IndexSet):
        if plan.kind == "id":
            return ["id", plan.value]
        if plan.kind == "all":
            return ["key", keys.conversations(), 1]
        # An index is itself scored by activity: one indexed term pages straight from it.
        return ["key", keys.index(plan.kind, plan.value), 0 if plan.kind == "gram" else 1]
    if isinstance(plan, ValueMatch):
        return ["union", [keys.index("meta", meta_term(plan.path, t)) for t in texts[plan]]]
    if isinstance(plan, ScoreRange):
        return ["range", _ranged(keys, plan), _score_bound(plan.low, plan.include_low, "-inf"),
                _score_bound(plan.high, plan.include_high, "+inf"),
                "" if plan.low is None else plan.low, "" if plan.high is None else plan.high,
                int(plan.include_low), int(plan.include_high)]
    if plan.op == "or":
        return ["or", [program(p, keys, texts) for p in plan.operands]]
    if plan.op == "not":
        return ["and", [], [program(p, keys, texts) for p in plan.operands]]
    negated = [p for p in plan.operands if isinstance(p, SetOp) and p.op == "not"]
    return ["and", [program(p, keys, texts) for p in plan.operands if p not in negated],
            [program(p.operands[0], keys, texts) for p in negated]]


def value_matches(plan: Plan) -> list[ValueMatch]:
    """The `ValueMatch`es of `plan`, whose texts must be read before it runs."""
    if isinstance(plan, ValueMatch):
        return [plan]
    if isinstance(plan, SetOp):
        return [m for p in plan.operands for m in value_matches(p)]
    return []


async def matching_texts(redis: Client, parts: list[PartitionKeys], plan: Plan
                         ) -> list[dict[ValueMatch, list[str]]]:
    """For each partition, the texts of each `ValueMatch` of `plan` that it matches: read from
    the registry of the path's texts (from the pattern's literal start on), so it costs the texts
    read, whatever the number of conversations. One round trip, none without a `ValueMatch`."""
    matches = value_matches(plan)
    if not matches:
        return [{} for _ in parts]
    pipe = redis.pipeline(transaction=False)
    for part in parts:
        for match in matches:
            start = match.literal_start().encode()
            low, high = (b"[" + start, b"[" + start + b"\xff") if start else (b"-", b"+")
            pipe.zrange(part.meta_values(match.path), low, high, bylex=True)
    found = iter(await pipe.execute())
    return [{match: [t for t in map(text, next(found)) if match.holds(t)] for match in matches}
            for _ in parts]


#: Lua: `run(program)`, the key of the sorted set a program selects and whether it is scored by
#: activity, made in temporary keys named from ARGV[2] (listed in `temps`). KEYS[1] is the
#: partition's conversations by activity. Unscored sets are rescored only where an answer needs
#: it: AND weighs them 0 beside a scored operand, and NOT subtracts them as they are, so a range
#: or negation costs what the sets it meets cost, not the whole index.
_RUN_LUA = """
local everything, temps = KEYS[1], {}
local function temp()
  local key = ARGV[2] .. (#temps + 1)
  temps[#temps + 1] = key
  return key
end
local function call(args)
  redis.call(unpack(args))
  redis.call('EXPIRE', args[2], tonumber(ARGV[3]))
  return args[2]
end
-- `command` (ZUNIONSTORE, ZINTERSTORE) of `keys` into a new temporary, a member's score the
-- highest of its (weighted) scores.
local function combine(command, keys, weights)
  local args = {command, temp(), #keys}
  for _, key in ipairs(keys) do args[#args + 1] = key end
  if weights then
    args[#args + 1] = 'WEIGHTS'
    for _, weight in ipairs(weights) do args[#args + 1] = weight end
  end
  args[#args + 1] = 'AGGREGATE'
  args[#args + 1] = 'MAX'
  return call(args)
end
local function scored(key, is_scored)
  if is_scored then return key end
  return call({'ZINTERSTORE', temp(), 2, everything, key, 'WEIGHTS', 1, 0})
end
local function holds(range, value)
  value = tonumber(value)
  if value == nil or value ~= value then return false end
  local low, high = tonumber(range[5]), tonumber(range[6])
  if low and (value < low or (value == low and range[7] == 0)) then return false end
  return not high or value < high or (value == high and range[8] == 1)
end
-- `base` without the negated ranges that hold more conversations than it does (and the negated
-- programs left): rather than cutting such a range out to subtract it, look each of `base`'s
-- members up in the range's set (`A AND NOT unread_count:0`, where most conversations have
-- nothing unread, costs what A costs).
local function without_ranges(base, negated)
  local size = redis.call('ZCARD', base)
  local broad, rest = {}, {}
  for _, p in ipairs(negated) do
    if p[1] == 'range' and redis.call('ZCOUNT', p[2], p[3], p[4]) > size then
      broad[#broad + 1] = p
    else
      rest[#rest + 1] = p
    end
  end
  if #broad == 0 then return base, negated end
  local kept = call({'ZUNIONSTORE', temp(), 1, base})
  for start = 0, size - 1, tonumber(ARGV[4]) do
    local chunk = redis.call('ZRANGE', base, start, start + tonumber(ARGV[4]) - 1)
    local inside = {'ZREM', kept}
    for _, p in ipairs(broad) do
      local values = redis.call('ZMSCORE', p[2], unpack(chunk))
      for i, member in ipairs(chunk) do
        if holds(p, values[i]) then inside[#inside + 1] = member end
      end
    end
    if #inside > 2 then redis.call(unpack(inside)) end
  end
  return kept, rest
end
local run
run = function(p)
  local kind = p[1]
  if kind == 'key' then return p[2], p[3] == 1 end
  if kind == 'id' then
    local target, score = temp(), redis.call('ZSCORE', everything, p[2])
    if score then call({'ZADD', target, score, p[2]}) end
    return target, true
  end
  if kind == 'range' then
    return call({'ZRANGESTORE', temp(), p[2], p[3], p[4], 'BYSCORE'}), false
  end
  if kind == 'union' then
    if #p[2] == 1 then return p[2][1], true end  -- one text: its index pages as it is
    if #p[2] == 0 then return temp(), true end  -- no text: nothing (a key never made)
    return combine('ZUNIONSTORE', p[2]), true
  end
  if kind == 'or' then
    local keys = {}
    for _, operand in ipairs(p[2]) do keys[#keys + 1] = scored(run(operand)) end
    return combine('ZUNIONSTORE', keys), true
  end
  local keys, weights, any_scored = {}, {}, false
  for _, operand in ipairs(p[2]) do
    local key, is_scored = run(operand)
    keys[#keys + 1] = key
    weights[#weights + 1] = is_scored and 1 or 0
    any_scored = any_scored or is_scored
  end
  if not any_scored then
    keys[#keys + 1] = everything
    weights[#weights + 1] = 1
  end
  local base = keys[1]
  if #keys > 1 then base = combine('ZINTERSTORE', keys, weights) end
  if #p[3] == 0 then return base, true end  -- one operand only when it is scored
  local negated
  base, negated = without_ranges(base, p[3])
  if #negated == 0 then return base, true end
  local args = {'ZDIFFSTORE', temp(), #negated + 1, base}
  for _, operand in ipairs(negated) do args[#args + 1] = (run(operand)) end
  return call(args), true
end
local function drop(except)
  for _, key in ipairs(temps) do
    if key ~= except then redis.call('DEL', key) end
  end
end
"""

#: Lua: `walk(range, total, n, size, score, member, direction, budget)` (`total`: the range's
#: count, `n`: the conversations'), what `span` answers of a range program
#: rescored by activity, found without making that set: the conversations are walked by activity
#: from the position, each looked up in the range's set, until the page and one more are found.
#: `before` and the count of newer ones are capped at size + 1, all a page needs of them; the
#: total is the range's count, since every member of a ranged set (`created`, the unread counts)
#: is a conversation with activity (the projector writes them with its first message). Nil once
#: it has looked up `budget` conversations without the page: the range's members are not spread
#: over the activity order (`created_at` ranges of old conversations lie at its far end).
_WALK_LUA = """
local function walk(p, total, n, size, score, member, direction, budget)
  local before, through = n, n
  if score then before, through = position(everything, score, member) end
  local newer = direction == 'after'
  local rank = newer and through or before - 1
  local found, count, chunk = {}, 0, 4 * (size + 1)
  local visited = 0
  while count <= size and rank >= 0 and rank < n do
    if visited >= budget then return nil end
    local low, high = rank, math.min(n - 1, rank + chunk - 1)
    if not newer then low, high = math.max(0, rank - chunk + 1), rank end
    local entries = redis.call('ZRANGE', everything, low, high, 'WITHSCORES')
    local members = {}
    for i = 1, #entries, 2 do members[#members + 1] = entries[i] end
    visited = visited + #members
    local values = redis.call('ZMSCORE', p[2], unpack(members))
    local first, last, step = 1, #members, 1
    if not newer then first, last, step = #members, 1, -1 end
    for i = first, last, step do
      if count <= size and holds(p, values[i]) then
        count = count + 1
        found[#found + 1] = entries[2 * i - 1]
        found[#found + 1] = entries[2 * i]
      end
    end
    rank = newer and high + 1 or low - 1
  end
  local page = {}
  for i = 1, 2 * math.min(count, size) do page[i] = found[i] end
  if newer then return {total, 0, total - count, page} end
  return {total, count, count, page}
end
"""

#: KEYS: the partition's conversations by activity. ARGV: the program (msgpack), the prefix of
#: temporary keys, their lifetime (s), the scan chunk, then `pages.ScoredSpan.args`. Answers the
#: `span` of the set the program selects, rescored by activity (msgpack), its temporaries gone.
#: A range alone that holds many conversations is walked instead (`walk`): its page costs about
#: (size + 1) * conversations / matches lookups where its members are spread over the activity
#: order, against making and rescoring the whole range; past four times that, the range is made.
_PAGE = PipelinedScript(pages.SPAN_LUA + _RUN_LUA + _WALK_LUA + """
local program, size = cmsgpack.unpack(ARGV[1]), tonumber(ARGV[5])
if program[1] == 'range' then
  local matches = redis.call('ZCOUNT', program[2], program[3], program[4])
  local n = redis.call('ZCARD', everything)
  if matches * matches > (size + 1) * n then
    local walked = walk(program, matches, n, size, ARGV[6], ARGV[7], ARGV[8],
                        4 * (size + 1) * n / matches)
    if walked then return cmsgpack.pack(walked) end
  end
end
local answer = span(scored(run(program)), size, ARGV[6], ARGV[7], ARGV[8])
drop()
return cmsgpack.pack(answer)
""")

#: KEYS and ARGV: `_PAGE`'s, without the span's. Answers the key of the set the program selects,
#: its size, and 1 when it is a temporary (kept for its lifetime), else 0 (an index); the other
#: temporaries gone.
_SELECTED = PipelinedScript(_RUN_LUA + """
local found = run(cmsgpack.unpack(ARGV[1]))
drop(found)
local temporary = string.sub(found, 1, #ARGV[2]) == ARGV[2] and 1 or 0
return {found, redis.call('ZCARD', found), temporary}
""")


def _args(parts: list[PartitionKeys], plan: Plan, texts: list[dict[ValueMatch, list[str]]]
          ) -> list[tuple[list[str], list[str | int | bytes]]]:
    """Keys and the arguments `_PAGE` and `_SELECTED` begin with, per partition."""
    return [([part.conversations()],
             [msgpack.packb(program(plan, part, found)),
              part.temporary(uuid.uuid4().hex) + ":", TEMPORARY_TTL_S, SCAN_CHUNK])
            for part, found in zip(parts, texts)]


async def page(redis: Client, parts: list[PartitionKeys], plan: Plan, span: pages.ScoredSpan
               ) -> pages.Page:
    """The page `span` of the conversations `plan` selects, over the partitions `parts`."""
    calls = [(keys, [*args, *span.args()])
             for keys, args in _args(parts, plan, await matching_texts(redis, parts, plan))]
    return span.page([unpacked(answer) for answer in await _PAGE.run(redis, calls)])


@dataclass(frozen=True)
class Selected:
    """The sorted set a plan selects in one partition (its scores are not always activity)."""

    key: str
    size: int
    #: True when `key` is a temporary, to delete once read; else it is an index.
    temporary: bool


async def selected(redis: Client, parts: list[PartitionKeys], plan: Plan) -> list[Selected]:
    """For each partition, the sorted set `plan` selects in it."""
    answers = await _SELECTED.run(redis, _args(parts, plan, await matching_texts(redis, parts, plan)))
    return [Selected(text(key), int(size), temporary == 1)
            for key, size, temporary in cast(list[list[Any]], answers)]
