"""TagsService: tags through the compacted `parley.tags` topic."""

from __future__ import annotations

import uuid


from parley.v1 import records_pb2, resources_pb2, tags_pb2, tags_pb2_grpc
from runtime import topics
from runtime.errors import InvalidArgument, NotFound
from runtime.tag_colors import TAG_COLORS
from store import entities
from store.commands import CommandWriter
from store.keys import StoreKeys
from runtime.server import Ctx
from runtime.redis import Client


def checked_color(color: str) -> str:
    """`color` when it is one of the API's tag colours, else InvalidArgument."""
    if color not in TAG_COLORS:
        raise InvalidArgument(f"color must be one of {', '.join(TAG_COLORS)}, got {color!r}")
    return color


class TagsServicer(tags_pb2_grpc.TagsServiceServicer):
    """Create, update, delete and list tags."""

    def __init__(self, redis: Client, keys: StoreKeys, commands: CommandWriter) -> None:
        self.redis = redis
        self.keys = keys
        self.commands = commands

    async def _write(self, record: records_pb2.TagRecord) -> None:
        await self.commands.write(topics.TAGS, record.tag.id, record)

    async def _existing(self, tag_id: str) -> records_pb2.TagRecord:
        found = await entities.load_one(self.redis, self.keys, "tag", tag_id, records_pb2.TagRecord)
        if found is None:
            raise NotFound(f"tag {tag_id} not found")
        return found

    async def CreateTag(self, request: tags_pb2.CreateTagRequest, context: Ctx) -> resources_pb2.Tag:
        if not request.name.strip():
            raise InvalidArgument("name is required")
        tag = resources_pb2.Tag(id=str(uuid.uuid4()), name=request.name,
                                color=checked_color(request.color))
        await self._write(records_pb2.TagRecord(tag=tag))
        return tag

    async def UpdateTag(self, request: tags_pb2.UpdateTagRequest, context: Ctx) -> resources_pb2.Tag:
        record = await self._existing(request.id)
        if request.HasField("name"):
            if not request.name.strip():
                raise InvalidArgument("name must not be empty")
            record.tag.name = request.name
        if request.HasField("color"):
            record.tag.color = checked_color(request.color)
        await self._write(record)
        return record.tag

    async def DeleteTag(self, request: tags_pb2.DeleteTagRequest, context: Ctx) -> tags_pb2.DeleteTagResponse:
        record = await self._existing(request.id)
        await self._write(records_pb2.TagRecord(tag=record.tag, deleted=True))
        return tags_pb2.DeleteTagResponse()

    async def ListTags(self, request: tags_pb2.ListTagsRequest, context: Ctx) -> tags_pb2.ListTagsResponse:
        records = await entities.load_all(self.redis, self.keys, "tag", records_pb2.TagRecord)
        return tags_pb2.ListTagsResponse(data=sorted((r.tag for r in records), key=lambda t: t.name))
