"""`python -m store`: the store service (projector + reads)."""

from __future__ import annotations

import asyncio

from parley.v1 import messages_pb2, messages_pb2_grpc
from runtime import logging as runtime_logging
from runtime import redis as runtime_redis
from runtime import settings as settings_module
from runtime.server import Registration, serve
from store.keys import StoreKeys
from store.messages_service import MessagesServicer
from store.projector import Projector


async def main() -> None:
    """Project the application topics into Redis and serve the store's reads."""
    settings = settings_module.load()
    runtime_logging.configure("store", settings.log_level)
    redis = runtime_redis.client(settings)
    projector = Projector(settings, redis)
    registrations = [
        Registration(
            messages_pb2.DESCRIPTOR.services_by_name["MessagesService"].full_name,
            messages_pb2_grpc.add_MessagesServiceServicer_to_server,
            MessagesServicer(redis, StoreKeys(settings)),
        ),
    ]
    try:
        await serve("store", settings, registrations, background=[projector.run])
    finally:
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
