"""A projector's batch applied to its slot in one Lua script: atomic as MULTI/EXEC is, and fast on
a Redis Cluster too, whose Python client runs each command of a MULTI/EXEC in a thread of its own
(a few hundred commands a second).

The script checks inside Redis what WATCH would: that the projector still owns the partition
(the slot's owner generation), and that the partition's stored offset and its events' high-water
mark (shared by the projection's generations) are still what the batch was loaded against. Then
it runs the batch's commands and moves the offset (and the mark) on. Every key of a batch is in
one slot (`store.keys`); the offset key, the script's first key, routes it to that slot's node.

What a batch reads before it is applied (`read`) is one script too. Both take their commands as
one msgpack argument, which Redis' Lua unpacks (`cmsgpack`): redis-py packs every argument of a
command in Python, which cost the projector a third of its time with a batch's thousands.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from typing import Any

import msgpack
from redis.commands.core import AsyncScript

from runtime.redis import Client, PipelinedScript, unpacked

#: One Redis command: its name and arguments.
Command = tuple[str | bytes | int, ...]

#: KEYS: offset, owner, emitted. ARGV: owner generation, stored offset and emitted mark ("" =
#: none), next offset, next emitted mark ("" = unchanged), the commands (`_packed`).
_APPLY = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[2] then return -1 end
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[3] then return -1 end
for _, command in ipairs(cmsgpack.unpack(ARGV[6])) do
  redis.call(unpack(command))
end
redis.call('SET', KEYS[1], ARGV[4])
if ARGV[5] ~= '' then redis.call('SET', KEYS[3], ARGV[5]) end
return 1
"""


class Outcome(Enum):
    """What became of a batch."""

    APPLIED = 1
    #: Another projector owns the partition now: it applies the batch.
    FENCED = 0
    #: The stored offset or emitted mark moved since the batch was loaded: load it again.
    MOVED = -1


def script(redis: Client) -> AsyncScript:
    """The batch script on `redis` (the client loads it again where a restarted node lost it)."""
    return redis.register_script(_APPLY)


async def apply(batch: AsyncScript, *, offset_key: str, owner_key: str, emitted_key: str,
                owner: bytes, stored: bytes | None, stored_emitted: bytes | None,
                next_offset: int, emitted: int | None, commands: Sequence[Command]) -> Outcome:
    """Run `commands` and move the offset to `next_offset` (and the emitted mark to `emitted`,
    unless None) if the slot's owner is still `owner`, its offset still `stored` and its emitted
    mark still `stored_emitted`."""
    args: list[bytes | str | int] = [owner, stored or b"", stored_emitted or b"", next_offset,
                                     "" if emitted is None else emitted, _packed(commands)]
    found = await batch(keys=[offset_key, owner_key, emitted_key], args=args)
    return Outcome(int(found))


#: KEYS: a key of the slot (it routes the script). ARGV: the commands (`_packed`). Answers their
#: replies as one msgpack array (a nil reply as false).
_READ = PipelinedScript("""
local replies = {}
for i, command in ipairs(cmsgpack.unpack(ARGV[1])) do
  replies[i] = redis.call(unpack(command))
end
return cmsgpack.pack(replies)
""")


async def read(redis: Client, slot_key: str, commands: Sequence[Command]) -> list[Any]:
    """The replies of read-only `commands`, all on keys in the slot of `slot_key`, in one round
    trip: bytes, integers, lists of them, None for a missing key."""
    if not commands:
        return []
    [packed] = await _READ.run(redis, [([slot_key], [_packed(commands)])])
    return unpacked(packed)


def _packed(commands: Sequence[Command]) -> bytes:
    """`commands` as one msgpack array of arrays; strings and bytes both as msgpack's raw
    strings, the only kind Redis' cmsgpack reads (integers stay numbers: Redis writes a Lua
    number below 2^53 as its exact digits)."""
    return msgpack.packb(commands, use_bin_type=False)
