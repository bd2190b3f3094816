"""The Redis client of the store, and the one key-naming rule (namespace prefix)."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from runtime.settings import Settings

#: What `client` returns: one Redis, or a Redis Cluster when `PARLEY_REDIS_CLUSTER_NODES` is set.
Client = aioredis.Redis | RedisCluster

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


def key(settings: Settings, *parts: str) -> str:
    """A Redis key under this install's namespace: `<namespace>:<part>:<part>...`."""
    return ":".join((settings.namespace or "parley", *parts))


#: The part of a namespace that is not a projection of Kafka (the realtime event log, webhook
#: deliveries): `parley rebuild` keeps it.
DURABLE = "durable"


def durable_key(settings: Settings, *parts: str) -> str:
    """A Redis key of state that replaying Kafka cannot give back: `<namespace>:durable:...`."""
    return key(settings, DURABLE, *parts)
