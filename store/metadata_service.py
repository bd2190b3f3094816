"""MetadataService: `metadata.upsert`, a deep merge by key path, through Kafka."""

from __future__ import annotations

import grpc
from google.protobuf import json_format

from parley.v1 import metadata_pb2, metadata_pb2_grpc
from runtime import topics
from runtime.partitioning import metadata_key
from runtime.errors import InvalidArgument, NotFound
from runtime.redis import Client
from store import conversation_commands, views
from store.commands import CommandWriter
from store.keys import StoreKeys


#: Largest `data` of one upsert (its protobuf size): metadata is for tags of a CRM, not files.
MAX_METADATA_BYTES = 65_536


class MetadataServicer(metadata_pb2_grpc.MetadataServiceServicer):
    """Upserts of message, conversation and channel metadata."""

    def __init__(self, redis: Client, keys: StoreKeys, commands: CommandWriter) -> None:
        self.redis = redis
        self.keys = keys
        self.commands = commands

    def _entity_key(self, subject: str, identifier: str) -> str:
        if subject == "conversation":
            return self.keys.of_conversation(identifier).conversation(identifier)
        return self.keys.channel(identifier)

    async def UpsertMetadata(
        self, request: metadata_pb2.UpsertMetadataRequest, context: grpc.aio.ServicerContext
    ) -> metadata_pb2.UpsertMetadataResponse:
        size = request.data.ByteSize()
        if size > MAX_METADATA_BYTES:
            raise InvalidArgument(f"data is {size} bytes; at most {MAX_METADATA_BYTES} are allowed "
                                  "per upsert")
        data = json_format.MessageToDict(request.data)
        if not data:
            raise InvalidArgument("data must be a non-empty object")
        record = conversation_commands.metadata_record(request.subject, request.id, data)
        # A message's metadata goes with its conversation's records (runtime.partitioning).
        conversation = ""
        if request.subject == "message":
            found = await views.find_message(self.redis, self.keys, request.id)
            if found is None:
                raise NotFound(f"message {request.id} not found")
            conversation = found.conversation_id
        elif not await self.redis.exists(self._entity_key(request.subject, request.id)):
            raise NotFound(f"{request.subject} {request.id} not found")
        await self.commands.write(
            topics.METADATA, metadata_key(record.subject, record.identifier, conversation),
            record)
        return metadata_pb2.UpsertMetadataResponse()
