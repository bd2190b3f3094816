"""`python -m gateway`: the gateway service (health and client.config for now)."""

from __future__ import annotations

import asyncio

from gateway.health import HealthChecker
from gateway.status_service import StatusServicer
from parley.v1 import status_pb2, status_pb2_grpc
from runtime import logging as runtime_logging
from runtime import redis as runtime_redis
from runtime import settings as settings_module
from runtime.server import Registration, serve


async def main() -> None:
    """Serve the gateway's gRPC services."""
    settings = settings_module.load()
    runtime_logging.configure("gateway", settings.log_level)
    redis = runtime_redis.client(settings)
    checker = HealthChecker(settings, redis)
    await checker.start()
    registrations = [
        Registration.of(status_pb2, status_pb2_grpc, StatusServicer(checker)),
    ]
    try:
        await serve("gateway", settings, registrations)
    finally:
        await checker.close()
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
