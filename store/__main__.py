"""`python -m store`: the store service (reads and commands); the projectors that keep what it
reads are processes of their own (`python -m store.projector`)."""

from __future__ import annotations

from parley.v1 import (
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
from runtime.server import Registration
from runtime.service import Plan, Process, run
from store import client
from store.channels_service import Channels
from store.contacts_service import ContactsServicer
from store.conversations_service import ConversationsServicer
from store.messages_service import MessagesServicer
from store.metadata_service import MetadataServicer
from store.tags_service import TagsServicer
from store.templates_service import TemplatesServicer


async def build(process: Process) -> Plan:
    """Serve the store's calls."""
    settings, redis, producer = process.settings, process.redis, await process.producer()
    keys = client.keys_of(settings)
    follow = await client.follow(settings, redis)
    commands = client.commands(settings, redis, producer)
    return Plan([
        Registration.of(messages_pb2, messages_pb2_grpc, MessagesServicer(redis, keys)),
        Registration.of(conversations_pb2, conversations_pb2_grpc, ConversationsServicer(
            redis, keys, commands, settings.filter_evaluation_limit)),
        Channels(redis, keys, commands).registration(),
        Registration.of(metadata_pb2, metadata_pb2_grpc, MetadataServicer(redis, keys, commands)),
        Registration.of(contacts_pb2, contacts_pb2_grpc, ContactsServicer(redis, keys, commands)),
        Registration.of(tags_pb2, tags_pb2_grpc, TagsServicer(redis, keys, commands)),
        Registration.of(templates_pb2, templates_pb2_grpc, TemplatesServicer(redis, keys, commands)),
    ], background=[follow])


if __name__ == "__main__":
    run("store", build)
