"""Health of every component, checked live: Kafka, Redis and each service's grpc.health.v1."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

import grpc
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime.kafka import cluster_reachable
from runtime.settings import SERVICE_NAMES, Settings

CHECK_TIMEOUT_S = 2.0


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
    except (asyncio.TimeoutError, OSError, grpc.RpcError, aioredis.RedisError) as exc:
        return Component(name, False, f"{type(exc).__name__}: {exc}".strip())


async def _service_serving(target: str) -> bool:
    async with grpc.aio.insecure_channel(target) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


async def _redis_ping(redis: aioredis.Redis) -> bool:
    return bool(await redis.ping())


async def check_all(settings: Settings, redis: aioredis.Redis) -> list[Component]:
    """Check Kafka, Redis and every service concurrently, each within a short timeout."""
    checks = [
        _timed("kafka", cluster_reachable(settings)),
        _timed("redis", _redis_ping(redis)),
        *(_timed(name, _service_serving(settings.service_target(name))) for name in SERVICE_NAMES),
    ]
    return list(await asyncio.gather(*checks))


def overall(components: list[Component]) -> str:
    """`ok` when all are up, `down` when none is, else `degraded`."""
    ups = sum(c.up for c in components)
    return "ok" if ups == len(components) else "down" if ups == 0 else "degraded"
