"""TemplatesService: message templates through the compacted `parley.templates` topic."""

from __future__ import annotations

import uuid


from parley.v1 import records_pb2, resources_pb2, templates_pb2, templates_pb2_grpc
from runtime import topics
from runtime.errors import InvalidArgument, NotFound
from store import entities
from store.commands import CommandWriter
from store.keys import StoreKeys
from runtime.server import Ctx
from runtime.redis import Client


class TemplatesServicer(templates_pb2_grpc.TemplatesServiceServicer):
    """Create, list (by source and name), read, update and delete templates."""

    def __init__(self, redis: Client, keys: StoreKeys, commands: CommandWriter) -> None:
        self.redis = redis
        self.keys = keys
        self.commands = commands

    async def _write(self, record: records_pb2.TemplateRecord) -> None:
        await self.commands.write(topics.TEMPLATES, record.template.id, record)

    async def _existing(self, template_id: str) -> records_pb2.TemplateRecord:
        found = await entities.load_one(self.redis, self.keys, "template", template_id,
                                        records_pb2.TemplateRecord)
        if found is None:
            raise NotFound(f"template {template_id} not found")
        return found

    async def CreateTemplate(self, request: templates_pb2.CreateTemplateRequest, context: Ctx) -> resources_pb2.Template:
        missing = [name for name, ok in (("name", request.name.strip()), ("source", request.source),
                                         ("content", request.HasField("content"))) if not ok]
        if missing:
            raise InvalidArgument(f"required: {', '.join(missing)}")
        template = resources_pb2.Template(id=str(uuid.uuid4()), name=request.name,
                                          source=request.source, content=request.content)
        await self._write(records_pb2.TemplateRecord(template=template))
        return template

    async def ListTemplates(self, request: templates_pb2.ListTemplatesRequest, context: Ctx) -> templates_pb2.ListTemplatesResponse:
        if not request.source:
            raise InvalidArgument("source is required")
        records = await entities.load_all(self.redis, self.keys, "template", records_pb2.TemplateRecord)
        wanted = request.name.lower()
        return templates_pb2.ListTemplatesResponse(data=sorted(
            (r.template for r in records
             if r.template.source == request.source and wanted in r.template.name.lower()),
            key=lambda t: t.name,
        ))

    async def GetTemplate(self, request: templates_pb2.GetTemplateRequest, context: Ctx) -> resources_pb2.Template:
        return (await self._existing(request.id)).template

    async def UpdateTemplate(self, request: templates_pb2.UpdateTemplateRequest, context: Ctx) -> resources_pb2.Template:
        record = await self._existing(request.id)
        if request.HasField("name"):
            record.template.name = request.name
        if request.HasField("source"):
            record.template.source = request.source
        if request.HasField("content"):
            record.template.content.CopyFrom(request.content)
        await self._write(record)
        return record.template

    async def DeleteTemplate(self, request: templates_pb2.DeleteTemplateRequest, context: Ctx) -> templates_pb2.DeleteTemplateResponse:
        record = await self._existing(request.id)
        await self._write(records_pb2.TemplateRecord(template=record.template, deleted=True))
        return templates_pb2.DeleteTemplateResponse()
