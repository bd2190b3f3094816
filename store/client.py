"""The store's published interface: all that other services use of it.

Reads of what the projectors keep in Redis (`StoreReads`), commands written through Kafka and
answered once projected (`CommandWriter`), and the builders of those commands' records
(`channel_commands`, `metadata_record`); the realtime event log (`EventLog`), its events
(`events`: types, JSON) and positions (`event_positions`: resume tokens). The rest of `store/` —
the keyspace layout (`store.keys`), the projection, filters and pages — is the store's own and
changes with it, so services outside `store/` import this module and nothing else of the store
(`tests/contracts/test_contracts.py` holds them to it).
"""

from __future__ import annotations

import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from runtime.settings import Settings
from store import channel_commands, event_positions, events
from store.commands import CommandWriter
from store.conversation_commands import metadata_record
from store.event_log import Entry, EventLog, LoggedEvent
from store.keys import StoreKeys
from store.reads import StoreReads

__all__ = ["CommandWriter", "Entry", "EventLog", "LoggedEvent", "StoreReads", "channel_commands",
           "commands", "event_log", "event_positions", "events", "metadata_record", "reads"]


def reads(settings: Settings, redis: aioredis.Redis) -> StoreReads:
    """The store's reads of this install, over `redis`."""
    return StoreReads(redis, StoreKeys(settings))


def commands(settings: Settings, redis: aioredis.Redis, producer: AIOKafkaProducer) -> CommandWriter:
    """Writes of the store's commands of this install (through `producer`, answered once the
    projection in `redis` has them)."""
    return CommandWriter(settings, redis, StoreKeys(settings), producer)


def event_log(settings: Settings, redis: aioredis.Redis) -> EventLog:
    """The realtime event log of this install, over `redis`."""
    return EventLog(redis, StoreKeys(settings))
