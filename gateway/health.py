"""Health of every component, checked live: Kafka, Redis and each service's grpc.health.v1; and
since when each has its status (`StatusSince`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import cast

import grpc
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from aiokafka.errors import KafkaError

from runtime import kafka, mesh, timestamps
from runtime.settings import Endpoint, Settings
from runtime.redis import Client, PipelinedScript, durable_key

CHECK_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Component:
    """One component's health: `up` or `down`, and why when down."""

    name: str
    up: bool
    detail: str


async def _timed(name: str, check: Awaitable[bool]) -> Component:
    try:
        ok = await asyncio.wait_for(check, CHECK_TIMEOUT_S)
        return Component(name, ok, "" if ok else "not serving")
    except (TimeoutError, OSError, grpc.RpcError, aioredis.RedisError, KafkaError) as exc:
        return Component(name, False, f"{type(exc).__name__}: {exc}".strip())


async def _service_serving(settings: Settings, target: str) -> bool:
    # A private subchannel pool: a shared one would keep answering from the connection backoff
    # of a service that was down a moment ago, and report a restarted service as still down.
    options = (("grpc.use_local_subchannel_pool", 1),)
    async with mesh.aio_channel(settings, target, options) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


async def _redis_ping(redis: Client) -> bool:
    return bool(await redis.ping())


class HealthChecker:
    """Checks every component live. Keeps one Kafka admin client, so a check costs one metadata
    request rather than a new connection (it reconnects by itself after a broker restart)."""

    def __init__(self, settings: Settings, redis: Client) -> None:
        self.settings = settings
        self.redis = redis
        self.kafka = kafka.admin(settings, request_timeout_ms=int(CHECK_TIMEOUT_S * 1000))

    async def start(self) -> None:
        """Connect the Kafka admin client."""
        await self.kafka.start()

    async def close(self) -> None:
        """Close the Kafka admin client."""
        await self.kafka.close()

    async def _kafka_answers(self) -> bool:
        await self.kafka.list_topics()
        return True

    async def check_all(self) -> list[Component]:
        """Check Kafka, Redis and every service concurrently, each within a short timeout."""
        stores, processes = await asyncio.gather(
            asyncio.gather(_timed("kafka", self._kafka_answers()),
                           _timed("redis", _redis_ping(self.redis))),
            asyncio.gather(*map(self.check_process, self.settings.process_names())))
        return [*stores, *(c for replicas in processes for c in replicas)]

    async def check_process(self, process: str) -> list[Component]:
        """Check each replica of service process `process` concurrently."""
        return list(await asyncio.gather(*(
            _timed(name, _service_serving(self.settings, endpoint.target()))
            for name, endpoint in _replicas(self.settings, process))))


def _replicas(settings: Settings, process: str) -> list[tuple[str, Endpoint]]:
    """Each replica of `process` to check, named by the process (and its endpoint, when it has
    several)."""
    endpoints = settings.service_endpoints(process)
    return [(process if len(endpoints) == 1 else f"{process} {e.target()}", e) for e in endpoints]


def overall(components: list[Component]) -> str:
    """`ok` when all are up, `down` when none is, else `degraded`."""
    ups = sum(c.up for c in components)
    return "ok" if ups == len(components) else "down" if ups == 0 else "degraded"


#: KEYS: the hash of each component's status and since when ("<status>:<epoch ms>"). ARGV: now,
#: then each component's name and status. A status that changed starts now; answers each since.
_SINCE = PipelinedScript("""
local since = {}
for i = 2, #ARGV, 2 do
  local kept = redis.call('HGET', KEYS[1], ARGV[i])
  local status, at = nil, nil
  if kept then status, at = string.match(kept, '^(.*):(%d+)$') end
  if status ~= ARGV[i + 1] then
    at = ARGV[1]
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1] .. ':' .. at)
  end
  since[#since + 1] = at
end
return since
""")


class StatusSince:
    """Since when each component has its status, kept in Redis so that every gateway replica
    answers the same (the first one to see a change dates it)."""

    def __init__(self, settings: Settings, redis: Client) -> None:
        self.redis = redis
        self.key = durable_key(settings, "health", "since")

    async def of(self, components: list[Component]) -> dict[str, str]:
        """Since when (RFC 3339) each of `components` has its status; {} while Redis is down."""
        args: list[str | int] = [timestamps.now_ms()]
        for c in components:
            args += [c.name, "up" if c.up else "down"]
        try:
            [found] = await _SINCE.run(self.redis, [([self.key], args)])
        except (OSError, aioredis.RedisError):
            return {}
        return {c.name: timestamps.format_ms(int(at))
                for c, at in zip(components, cast(list[bytes], found))}
