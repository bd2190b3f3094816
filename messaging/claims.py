"""Send claims: a message is sent to its source by one sender only, even when its partition moves
to another sender in the middle of the send (a rebalance, a sender that stalled or died).

Right before it calls a connector, a sender claims the message's pending attempt in Redis: its
id and a lease deadline (Redis' own clock), renewed while the send goes on. Another sender that
meets a live claim it does not hold waits for the outcome instead of sending. Once the outcome
is in Kafka the claim is marked done and kept a day: the projection of that outcome may lag, and
the claim answers for it meanwhile.

A claim whose lease (`PARLEY_MESSAGING_CLAIM_LEASE_S`) ran out belonged to a sender that died
mid-send: whether the source got the message is unknown. Sending it again could reach the
contact twice, so the next sender takes the claim over as abandoned and fails the message, saying
so; a resend is the caller's choice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from enum import Enum

from redis.exceptions import RedisError

from parley.v1 import records_pb2
from runtime.redis import Client, durable_key
from runtime.settings import Settings

log = logging.getLogger(__name__)

#: How long a claim is kept (a done one answers for the outcome meanwhile).
KEEP_S = 24 * 3600.0

# KEYS: the claim. ARGV: claimant, lease ms, keep ms. The claim is "<claimant>:<deadline ms>" or
# "done"; the answer says what was found, the claim is this sender's unless "held" or "done".
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local found = redis.call('GET', KEYS[1])
if found == 'done' then return 'done' end
local answer = 'taken'
if found then
  local holder, deadline = string.match(found, '^(.*):(%d+)$')
  if holder ~= ARGV[1] then
    if tonumber(deadline) > now then return 'held' end
    answer = 'abandoned'
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. (now + tonumber(ARGV[2])), 'PX', ARGV[3])
return answer
"""

# KEYS: the claim. ARGV: claimant, lease ms, keep ms. Moves the deadline on while it is ours.
_RENEW = """
local found = redis.call('GET', KEYS[1])
if not found or string.match(found, '^(.*):%d+$') ~= ARGV[1] then return 0 end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. (now + tonumber(ARGV[2])), 'PX', ARGV[3])
return 1
"""

DONE = b"done"


class Claim(Enum):
    """What a sender found when it claimed a message's attempt."""

    #: Nobody held it (or this sender did): send.
    TAKEN = "taken"
    #: Another sender holds it: wait for its outcome.
    HELD = "held"
    #: Its outcome is written: nothing to send.
    DONE = "done"
    #: Its sender died mid-send: this sender holds it now, to fail it (the source may have it).
    ABANDONED = "abandoned"


class SendClaims:
    """The claims of one sender process (its claimant id is new each start, and names the
    replica: `<PARLEY_INSTANCE>/<random>`, so an operator sees who holds a claim)."""

    def __init__(self, settings: Settings, redis: Client, lease_s: float) -> None:
        self.settings = settings
        self.redis = redis
        #: How long a claim lives without renewal (`SendPolicy.claim_lease_s`).
        self.lease_s = lease_s
        self.claimant = f"{settings.instance}/{uuid.uuid4().hex}"
        self._take = redis.register_script(_TAKE)
        self._renew = redis.register_script(_RENEW)

    def key(self, record: records_pb2.MessageRecord) -> str:
        """The claim of one pending attempt of a message (a resend is a new attempt)."""
        return durable_key(self.settings, "sendclaim", record.message.id,
                           str(record.pending_since_ms))

    def _args(self) -> list[str | int]:
        return [self.claimant, int(self.lease_s * 1000), int(KEEP_S * 1000)]

    async def take(self, record: records_pb2.MessageRecord) -> Claim:
        """Claim `record`'s attempt for this sender; what was found."""
        found = await self._take(keys=[self.key(record)], args=self._args())
        return Claim(found.decode() if isinstance(found, bytes) else found)

    @contextlib.asynccontextmanager
    async def renewed(self, record: records_pb2.MessageRecord) -> AsyncIterator[None]:
        """Keep this sender's claim of `record` alive while the block runs."""
        renewing = asyncio.create_task(self._keep(self.key(record)))
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _keep(self, key: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self._renew(keys=[key], args=self._args())
            except (OSError, RedisError) as exc:  # Redis away a moment: the lease has time left
                log.warning("renewing send claim %s failed: %s", key, exc)

    async def done(self, record: records_pb2.MessageRecord) -> None:
        """Mark `record`'s attempt done (its outcome is in Kafka)."""
        await self.redis.set(self.key(record), DONE, px=int(KEEP_S * 1000))
