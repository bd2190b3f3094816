"""`python -m auth`: the edge's authorization service. Envoy asks it about every request on the
public port (ext_authz); it answers from the API tokens the store projects (read only)."""

from __future__ import annotations

import asyncio
import os

from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc

from auth.check_service import CachedTokens, CheckServicer
from auth.scopes import Scopes
from runtime import logging as runtime_logging
from runtime import redis as runtime_redis
from runtime import settings as settings_module
from runtime.server import Registration, serve
from stack.envoy import DESCRIPTOR
from store import client as store


async def main() -> None:
    """Answer Envoy's checks until stopped."""
    settings = settings_module.load()
    runtime_logging.configure("auth", settings.log_level)
    redis = runtime_redis.client(settings)
    reads = store.reads(settings, redis)
    follow = await store.follow(settings, redis)
    # How long a token's answer is kept: a revocation takes effect within it.
    cache_s = float(os.environ.get("PARLEY_AUTH_CACHE_S", "1"))
    servicer = CheckServicer(Scopes.from_descriptor(DESCRIPTOR), CachedTokens(reads.api_token, cache_s))
    try:
        await serve("auth", settings,
                    [Registration.of(external_auth_pb2, external_auth_pb2_grpc, servicer)],
                    background=[follow])
    finally:
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
