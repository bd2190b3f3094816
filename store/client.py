"""The store's published interface: all that other services use of it.

Reads of what the projectors keep in Redis (`StoreReads`), commands written through Kafka and
answered once projected (`CommandWriter`), and the builders of those commands' records
(`channel_commands`, `metadata_record`); a message record as served (`served_message`); the realtime event log (`EventLog`), its events
(`events`: types, JSON) and positions (`event_positions`: resume tokens); pages over sorted sets
scored by time, with their cursors (`pages`). The rest of `store/` —
the keyspace layout (`store.keys`), the projection, filters and pages — is the store's own and
changes with it, so services outside `store/` import this module and nothing else of the store
(`tests/contracts/test_contracts.py` holds them to it).

The projection has generations (`store.generations`): a service reads the one its code's layout
reads, and follows it when a rebuild switches it — `await follow(settings, redis)` before serving,
and its answer among the service's background tasks.
"""

from __future__ import annotations

from functools import partial

from aiokafka import AIOKafkaProducer

from runtime.server import Task
from runtime.settings import Settings
from runtime.redis import Client
from store import channel_commands, event_positions, events, generations, pages
from store.commands import CommandWriter
from store.conversation_commands import metadata_record
from store.event_log import Entry, EventLog, Head, LoggedEvent
from store.keys import StoreKeys
from store.reads import StoreReads
from store.views import served_message

__all__ = ["CommandWriter", "Entry", "EventLog", "Head", "LoggedEvent", "StoreReads",
           "channel_commands", "commands", "event_log", "event_positions", "events", "follow",
           "keys_of", "metadata_record", "pages", "reads", "served_message"]

#: This process's key namers, one per install (namespace): following the generation moves all.
_KEYS: dict[str, StoreKeys] = {}


def keys_of(settings: Settings) -> StoreKeys:
    """The key namer of this install in this process (one, whatever asks for it)."""
    return _KEYS.setdefault(settings.namespace, StoreKeys(settings))


async def follow(settings: Settings, redis: Client) -> Task:
    """Point this process's reads and commands at the projection generation to read, now; the
    background task that keeps them on it."""
    await generations.refresh(redis, keys_of(settings))
    return partial(generations.follow, redis, keys_of(settings))


def reads(settings: Settings, redis: Client) -> StoreReads:
    """The store's reads of this install, over `redis`."""
    return StoreReads(redis, keys_of(settings))


def commands(settings: Settings, redis: Client, producer: AIOKafkaProducer) -> CommandWriter:
    """Writes of the store's commands of this install (through `producer`, answered once the
    projection in `redis` has them)."""
    return CommandWriter(settings, redis, keys_of(settings), producer)


def event_log(settings: Settings, redis: Client) -> EventLog:
    """The realtime event log of this install, over `redis`."""
    return EventLog(redis, keys_of(settings))
