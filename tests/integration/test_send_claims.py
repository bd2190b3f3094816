"""Send claims on the real Redis (single or cluster): one sender holds a message's attempt, the
others wait for it; a done claim answers for the outcome; a dead sender's claim, once its lease
ran out, is taken over as abandoned."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from messaging.claims import Claim, SendClaims
from parley.v1 import records_pb2, resources_pb2
from runtime import redis as runtime_redis
from runtime.settings import Settings


@pytest.fixture
async def redis(live_stack: Settings) -> AsyncIterator[runtime_redis.Client]:
    client = runtime_redis.client(live_stack)
    yield client
    await client.aclose()


def _attempt(pending_since_ms: int = 1) -> records_pb2.MessageRecord:
    return records_pb2.MessageRecord(
        message=resources_pb2.Message(id=str(uuid.uuid4())), pending_since_ms=pending_since_ms)


async def test_one_sender_takes_an_attempt_the_other_waits_then_finds_it_done(
    live_stack: Settings, redis: runtime_redis.Client
) -> None:
    first, second = SendClaims(live_stack, redis, 30), SendClaims(live_stack, redis, 30)
    record = _attempt()
    assert await first.take(record) is Claim.TAKEN
    assert await first.take(record) is Claim.TAKEN  # its own claim, met again
    assert await second.take(record) is Claim.HELD
    await first.done(record)
    assert await second.take(record) is Claim.DONE
    # A resend is a new attempt of the same message: claimed afresh.
    resent = _attempt(pending_since_ms=2)
    resent.message.id = record.message.id
    assert await second.take(resent) is Claim.TAKEN


async def test_a_renewed_claim_outlives_its_lease_and_a_dead_senders_is_abandoned(
    live_stack: Settings, redis: runtime_redis.Client
) -> None:
    sending, dead, other = (SendClaims(live_stack, redis, lease_s=0.6) for _ in range(3))
    renewed, abandoned = _attempt(), _attempt()
    assert await sending.take(renewed) is Claim.TAKEN
    assert await dead.take(abandoned) is Claim.TAKEN
    async with sending.renewed(renewed):
        await asyncio.sleep(1.5)  # two and a half leases
        assert await other.take(renewed) is Claim.HELD
        assert await other.take(abandoned) is Claim.ABANDONED
        assert await dead.take(abandoned) is Claim.HELD  # the other holds it now
