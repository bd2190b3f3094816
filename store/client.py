"""The store's published interface: all that other services use of it.

Reads of what the projectors keep in Redis (`StoreReads`), commands written through Kafka and
answered once projected (`CommandWriter`), and the builders of those commands' records
(`channel_commands`, `metadata_record`). The rest of `store/` — the keyspace layout
(`store.keys`), the projection, filters and pages — is the store's own and changes with it, so
services outside `store/` import this module and nothing else of the store
(`tests/contracts/test_contracts.py` holds them to it; the gateway's realtime event log and webhook
deliveries still read the store's event stream directly, until that stream is partitioned).
"""

from __future__ import annotations

import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from runtime.settings import Settings
from store import channel_commands
from store.commands import CommandWriter
from store.conversation_commands import metadata_record
from store.keys import StoreKeys
from store.reads import StoreReads

__all__ = ["CommandWriter", "StoreReads", "channel_commands", "commands", "metadata_record",
           "reads"]


def reads(settings: Settings, redis: aioredis.Redis) -> StoreReads:
    """The store's reads of this install, over `redis`."""
    return StoreReads(redis, StoreKeys(settings))


def commands(settings: Settings, redis: aioredis.Redis, producer: AIOKafkaProducer) -> CommandWriter:
    """Writes of the store's commands of this install (through `producer`, answered once the
    projection in `redis` has them)."""
    return CommandWriter(settings, redis, StoreKeys(settings), producer)
