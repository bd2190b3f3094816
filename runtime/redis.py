"""The Redis client of the store, and the one key-naming rule (namespace prefix)."""

from __future__ import annotations

import redis.asyncio as aioredis

from runtime.settings import Settings


def client(settings: Settings) -> aioredis.Redis:
    """An asyncio Redis client (hiredis parser) for `settings.redis_url`, returning bytes."""
    return aioredis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=3)


def key(settings: Settings, *parts: str) -> str:
    """A Redis key under this install's namespace: `<namespace>:<part>:<part>...`."""
    return ":".join((settings.namespace or "parley", *parts))


#: The part of a namespace that is not a projection of Kafka (the realtime event log, webhook
#: deliveries): `parley rebuild` keeps it.
DURABLE = "durable"


def durable_key(settings: Settings, *parts: str) -> str:
    """A Redis key of state that replaying Kafka cannot give back: `<namespace>:durable:...`."""
    return key(settings, DURABLE, *parts)
