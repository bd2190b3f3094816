"""`python -m store`: the store service (projector + reads + channel commands)."""

from __future__ import annotations

import asyncio

from parley.v1 import (
    channels_pb2,
    channels_pb2_grpc,
    conversations_pb2,
    conversations_pb2_grpc,
    messages_pb2,
    messages_pb2_grpc,
)
from runtime import kafka
from runtime import logging as runtime_logging
from runtime import redis as runtime_redis
from runtime import settings as settings_module
from runtime.server import Registration, serve
from store.channels_service import ChannelsServicer
from store.conversations_service import ConversationsServicer
from store.keys import StoreKeys
from store.messages_service import MessagesServicer
from store.projector import Projector


async def main() -> None:
    """Project the application topics into Redis and serve the store's calls."""
    settings = settings_module.load()
    runtime_logging.configure("store", settings.log_level)
    redis = runtime_redis.client(settings)
    producer = kafka.producer(settings)
    await producer.start()
    keys = StoreKeys(settings)
    registrations = [
        Registration(
            messages_pb2.DESCRIPTOR.services_by_name["MessagesService"].full_name,
            messages_pb2_grpc.add_MessagesServiceServicer_to_server,
            MessagesServicer(redis, keys),
        ),
        Registration(
            conversations_pb2.DESCRIPTOR.services_by_name["ConversationsService"].full_name,
            conversations_pb2_grpc.add_ConversationsServiceServicer_to_server,
            ConversationsServicer(redis, keys),
        ),
        Registration(
            channels_pb2.DESCRIPTOR.services_by_name["ChannelsService"].full_name,
            channels_pb2_grpc.add_ChannelsServiceServicer_to_server,
            ChannelsServicer(settings, redis, keys, producer),
        ),
    ]
    try:
        await serve("store", settings, registrations, background=[Projector(settings, redis).run])
    finally:
        await producer.stop()
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
