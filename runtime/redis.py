"""The Redis client of the store, and the one key-naming rule (namespace prefix)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, TypeAlias

import msgpack
import redis.asyncio as aioredis
from redis.exceptions import NoScriptError
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from runtime.settings import Settings

#: What `client` returns: one Redis, or a Redis Cluster when `PARLEY_REDIS_CLUSTER_NODES` is set.
Client: TypeAlias = aioredis.Redis | RedisCluster

#: Attempts of a cluster command after a connection error. A failover (a primary gone until a
#: replica takes its slots) lasts about 5 s with a 3 s node timeout, and only the count rides it
#: out: redis-py 8.1 pauses 0.25 s between a pipeline's attempts but not at all between a single
#: command's, each of which takes some 10 ms against a refused port. With 100, a single command
#: fails during a failover; with 500 both ride it out (tests/integration/test_redis_cluster.py
#: kills a primary). The price: a cluster that stays away fails a pipeline only after about
#: two minutes.
CLUSTER_RETRIES = 500
#: A command's reply, and a new connection, must come within these.
SOCKET_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 3.0


def client(settings: Settings) -> Client:
    """An asyncio client (hiredis parser) returning bytes: a `RedisCluster` found from
    `settings.redis_cluster_nodes` when they are set, else the Redis at `settings.redis_url`."""
    if not settings.redis_cluster_nodes:
        return aioredis.from_url(settings.redis_url, socket_timeout=SOCKET_TIMEOUT_S,
                                 socket_connect_timeout=CONNECT_TIMEOUT_S)
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in settings.redis_cluster_nodes],
        # The backoff paces a cluster transaction's attempts (MULTI/EXEC); see CLUSTER_RETRIES.
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), CLUSTER_RETRIES),
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
    )


def text(reply: object) -> str:
    """A reply (or a member of one) as text. Parley's clients never decode (`client`), so
    replies are bytes; redis-py types them for every client (`bytes | str`, with the shapes of
    other options), so a reply that is neither is a TypeError."""
    if isinstance(reply, bytes):
        return reply.decode()
    if isinstance(reply, str):
        return reply
    raise TypeError(f"a Redis reply of {type(reply).__name__}, not text")


def blob(reply: object) -> bytes:
    """A reply as the bytes it is (a serialized record); see `text`."""
    if isinstance(reply, bytes):
        return reply
    if isinstance(reply, str):
        return reply.encode()
    raise TypeError(f"a Redis reply of {type(reply).__name__}, not bytes")


def key(settings: Settings, *parts: str) -> str:
    """A Redis key under this install's namespace: `<namespace>:<part>:<part>...`."""
    return ":".join((settings.namespace or "parley", *parts))


#: The part of a namespace that is not a projection of Kafka (the realtime event log, webhook
#: deliveries): `parley rebuild` keeps it.
DURABLE = "durable"


def durable_key(settings: Settings, *parts: str) -> str:
    """A Redis key of state that replaying Kafka cannot give back: `<namespace>:durable:...`."""
    return key(settings, DURABLE, *parts)


#: A script's keys or arguments.
Values = Sequence[str | bytes | int | float]


class PipelinedScript:
    """A Lua script run by EVALSHA, many calls in one pipeline: one round trip for a call per
    slot, which `register_script` cannot do on a Redis Cluster (its pipelines refuse `evalsha`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    async def run(self, redis: Client, calls: Sequence[tuple[Values, Values]]) -> list[object]:
        """The answer of each call, (keys, args), in order. Where a node does not know the script
        yet (a new or restarted node, a promoted replica) it is loaded and every call runs again:
        only for scripts that may run twice, such as reads."""
        try:
            return list(await self._queued(redis, calls).execute())
        except NoScriptError:
            await redis.script_load(self.text)
        return list(await self._queued(redis, calls).execute())

    def _queued(self, redis: Client, calls: Sequence[tuple[Values, Values]]) -> aioredis.client.Pipeline | ClusterPipeline:
        pipe = redis.pipeline(transaction=False)
        for keys, args in calls:
            pipe.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        return pipe


def unpacked(reply: object) -> list[Any]:
    """The reply of a script that answers `cmsgpack.pack(table)` (one value for many, which
    redis-py would parse in Python): its items as bytes, integers and lists, None where Redis
    answered nil (false in Lua, which has no nil inside a table)."""
    if not isinstance(reply, bytes):
        raise TypeError(f"a script's msgpack reply of {type(reply).__name__}, not bytes")
    items = msgpack.unpackb(reply, raw=True)
    # cmsgpack packs an empty table as a map.
    return [None if item is False else item for item in items or ()]


def flat_hash(reply: list[bytes]) -> dict[str, str]:
    """A hash as HGETALL answers inside a script (field, value, field, value, ...), decoded."""
    return {reply[i].decode(): reply[i + 1].decode() for i in range(0, len(reply), 2)}
