"""`python -m store`: the store service (projector + reads + channel commands)."""

from __future__ import annotations

import asyncio

from parley.v1 import (
    channels_pb2,
    channels_pb2_grpc,
    contacts_pb2,
    contacts_pb2_grpc,
    conversations_pb2,
    conversations_pb2_grpc,
    messages_pb2,
    messages_pb2_grpc,
    metadata_pb2,
    metadata_pb2_grpc,
    tags_pb2,
    tags_pb2_grpc,
    templates_pb2,
    templates_pb2_grpc,
)
from runtime import kafka
from runtime import logging as runtime_logging
from runtime import redis as runtime_redis
from runtime import settings as settings_module
from runtime.server import Registration, serve
from store.channels_service import ChannelsServicer
from store.commands import CommandWriter
from store.contacts_service import ContactsServicer
from store.conversations_service import ConversationsServicer
from store.keys import StoreKeys
from store.messages_service import MessagesServicer
from store.metadata_service import MetadataServicer
from store.projector import Projector
from store.tags_service import TagsServicer
from store.templates_service import TemplatesServicer


async def main() -> None:
    """Project the application topics into Redis and serve the store's calls."""
    settings = settings_module.load()
    runtime_logging.configure("store", settings.log_level)
    redis = runtime_redis.client(settings)
    producer = kafka.producer(settings)
    await producer.start()
    keys = StoreKeys(settings)
    commands = CommandWriter(settings, redis, keys, producer)
    registrations = [
        Registration(
            messages_pb2.DESCRIPTOR.services_by_name["MessagesService"].full_name,
            messages_pb2_grpc.add_MessagesServiceServicer_to_server,
            MessagesServicer(redis, keys),
        ),
        Registration(
            conversations_pb2.DESCRIPTOR.services_by_name["ConversationsService"].full_name,
            conversations_pb2_grpc.add_ConversationsServiceServicer_to_server,
            ConversationsServicer(redis, keys, commands),
        ),
        Registration(
            channels_pb2.DESCRIPTOR.services_by_name["ChannelsService"].full_name,
            channels_pb2_grpc.add_ChannelsServiceServicer_to_server,
            ChannelsServicer(redis, keys, commands),
        ),
        Registration(
            metadata_pb2.DESCRIPTOR.services_by_name["MetadataService"].full_name,
            metadata_pb2_grpc.add_MetadataServiceServicer_to_server,
            MetadataServicer(redis, keys, commands),
        ),
        Registration(
            contacts_pb2.DESCRIPTOR.services_by_name["ContactsService"].full_name,
            contacts_pb2_grpc.add_ContactsServiceServicer_to_server,
            ContactsServicer(redis, keys, commands),
        ),
        Registration(
            tags_pb2.DESCRIPTOR.services_by_name["TagsService"].full_name,
            tags_pb2_grpc.add_TagsServiceServicer_to_server,
            TagsServicer(redis, keys, commands),
        ),
        Registration(
            templates_pb2.DESCRIPTOR.services_by_name["TemplatesService"].full_name,
            templates_pb2_grpc.add_TemplatesServiceServicer_to_server,
            TemplatesServicer(redis, keys, commands),
        ),
    ]
    try:
        await serve("store", settings, registrations, background=[Projector(settings, redis).run])
    finally:
        await producer.stop()
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
