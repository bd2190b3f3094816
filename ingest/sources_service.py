"""SourcesService: custom sources (create, list, update, delete), their channels, and the batches
of messages and metadata they post to `/sources.webhook`.

Sources and channels are written through Kafka (`parley.sources`, `parley.channels`) and answered
once projected; a source id is claimed in Redis first (SET NX), so of racing creates of one id
exactly one makes it. A batch is checked whole (nothing is written when an item is bad or names a
channel the source does not have), then appended to the raw topic `source.custom.events`, from
where the translator turns it into messages and metadata (`sources.custom`).
"""

from __future__ import annotations

import json
import re
import secrets

from aiokafka import AIOKafkaProducer
from google.protobuf import json_format
from parley.v1 import records_pb2, resources_pb2, sources_pb2, sources_pb2_grpc

from ingest.raw_writer import write_raw
from runtime import ids, outbound, topics
from runtime import redis as runtime_redis
from runtime.bearer import bearer_token
from runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from runtime.server import Ctx
from runtime.settings import Settings
from runtime.redis import Client
from sources import CHANNEL_KINDS, REGISTRY, custom
from sources.inbound import TranslationError
from store.client import CommandWriter, StoreReads, channel_commands

_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: Names a custom source cannot take: the built-in sources' (as channels carry them).
RESERVED = frozenset(REGISTRY) | frozenset(CHANNEL_KINDS)
#: Items of each list a batch may hold.
MAX_BATCH = 1000
#: How long sources.create holds the source id it claimed: well past its write's projection wait
#: (`store.commands.PROJECTION_WAIT_S`), after which the source itself is found.
CLAIM_S = 60


def check_source_id(source_id: str) -> None:
    """InvalidArgument unless `source_id` is a free, well-formed custom source id."""
    if not _SOURCE_ID.match(source_id):
        raise InvalidArgument("source_id must be 1-64 lower-case letters, digits, '.', '-' or "
                              f"'_', starting with a letter or digit; got {source_id!r}")
    if source_id in RESERVED:
        raise InvalidArgument(f"source_id {source_id!r} is a built-in source")


class SourcesServicer(sources_pb2_grpc.SourcesServiceServicer):
    """Thin: the batch rules are `sources.custom`, the channel rules `store.channel_commands`."""

    def __init__(self, settings: Settings, redis: Client, reads: StoreReads,
                 commands: CommandWriter, producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self.redis = redis
        self.reads = reads
        self.commands = commands
        self.producer = producer

    async def _check_endpoint(self, url: str) -> None:
        """InvalidArgument unless `url` is "" or a URL messages may be sent to."""
        if not url:
            return
        try:
            await outbound.check_destination(url, self.settings.outbound_allow)
        except outbound.Refused as exc:
            raise InvalidArgument(f"action_endpoint {url!r} is refused: {exc}") from exc

    def _claim(self, source_id: str) -> str:
        """String (expiring): held by the sources.create that may make `source_id`."""
        return runtime_redis.durable_key(self.settings, "claim", "source", source_id)

    async def _caller(self, context: Ctx) -> records_pb2.SourceRecord:
        """The source whose token the call carries; Unauthenticated without a valid one."""
        token = bearer_token(context)
        if not token:
            raise Unauthenticated("a source token is required: Authorization: Bearer <token>")
        found = await self.reads.source_by_token(token)
        if found is None:
            raise Unauthenticated("the source token is not valid")
        return found

    async def _existing(self, source_id: str) -> records_pb2.SourceRecord:
        if not source_id:
            raise InvalidArgument("source_id is required")
        found = await self.reads.source(source_id)
        if found is None:
            raise NotFound(f"source {source_id} not found")
        return found

    async def _write_source(self, record: records_pb2.SourceRecord) -> None:
        await self.commands.write(topics.SOURCES, record.source.source_id, record)

    async def _write_channel(self, record: records_pb2.ChannelRecord) -> None:
        await self.commands.write(topics.CHANNELS, record.channel.id, record)

    async def CreateSource(self, request: sources_pb2.CreateSourceRequest, context: Ctx) -> sources_pb2.CreateSourceResponse:
        check_source_id(request.source_id)
        await self._check_endpoint(request.action_endpoint)
        # Of racing creates of one id, only the one that claims it goes on.
        claim = self._claim(request.source_id)
        claimed = bool(await self.redis.set(claim, "1", nx=True, ex=CLAIM_S))
        if claimed and await self.reads.source(request.source_id) is not None:
            await self.redis.delete(claim)  # made before: the source itself keeps the id taken
            claimed = False
        if not claimed:
            raise AlreadyExists(f"source {request.source_id} exists already")
        source = sources_pb2.Source(source_id=request.source_id, action_endpoint=request.action_endpoint,
                                    name=request.name, image_url=request.image_url)
        token = "psrc_" + secrets.token_urlsafe(32)
        try:
            await self._write_source(records_pb2.SourceRecord(source=source, token=token))
        except Exception:
            await self.redis.delete(claim)  # not written: the id is free again
            raise
        return sources_pb2.CreateSourceResponse(
            source_id=source.source_id, action_endpoint=source.action_endpoint, name=source.name,
            image_url=source.image_url, token=token)

    async def ListSources(self, request: sources_pb2.ListSourcesRequest, context: Ctx) -> sources_pb2.ListSourcesResponse:
        return sources_pb2.ListSourcesResponse(data=[r.source for r in await self.reads.sources()])

    async def UpdateSource(self, request: sources_pb2.UpdateSourceRequest, context: Ctx) -> sources_pb2.Source:
        record = await self._existing(request.source_id)
        if request.HasField("action_endpoint"):
            await self._check_endpoint(request.action_endpoint)
            record.source.action_endpoint = request.action_endpoint
        if request.HasField("name"):
            record.source.name = request.name
        if request.HasField("image_url"):
            record.source.image_url = request.image_url
        await self._write_source(record)
        return record.source

    async def DeleteSource(self, request: sources_pb2.DeleteSourceRequest, context: Ctx) -> sources_pb2.DeleteSourceResponse:
        record = await self._existing(request.source_id)
        for channel in await self.reads.connected_channels(record.source.source_id):
            await self._write_channel(
                channel_commands.disconnect(channel, record.source.source_id, channel.channel.id))
        record.deleted = True  # the token stays in the tombstone: the store drops its index
        await self._write_source(record)
        await self.redis.delete(self._claim(record.source.source_id))  # it may be made again now
        return sources_pb2.DeleteSourceResponse()

    async def CreateSourceChannel(self, request: sources_pb2.CreateSourceChannelRequest, context: Ctx) -> resources_pb2.Channel:
        caller = await self._caller(context)
        channel_commands.require(source_channel_id=request.source_channel_id, name=request.name)
        metadata = json_format.MessageToDict(request.metadata)
        image_url = metadata.pop("image_url", "")
        record = channel_commands.connect(caller.source.source_id, request.source_channel_id,
                                          request.name, str(image_url), {})
        record.channel.metadata.update(metadata)
        await self._write_channel(record)
        return record.channel

    async def ListSourceChannels(self, request: sources_pb2.ListSourceChannelsRequest, context: Ctx) -> sources_pb2.ListSourceChannelsResponse:
        caller = await self._caller(context)
        channels = await self.reads.connected_channels(caller.source.source_id)
        return sources_pb2.ListSourceChannelsResponse(data=[c.channel for c in channels])

    async def DisconnectSourceChannel(self, request: sources_pb2.DisconnectSourceChannelRequest, context: Ctx) -> sources_pb2.DisconnectSourceChannelResponse:
        caller = await self._caller(context)
        if not request.channel_id:
            raise InvalidArgument("channel_id is required")
        current = await self.reads.channel(request.channel_id)
        if current is None:
            raise NotFound(f"channel {request.channel_id} not found")
        if current.channel.source != caller.source.source_id:
            raise PermissionDenied(f"channel {request.channel_id} is not a channel of this source")
        if current.channel.connected:
            await self._write_channel(
                channel_commands.disconnect(current, caller.source.source_id, request.channel_id))
        return sources_pb2.DisconnectSourceChannelResponse()

    async def IngestSourceWebhook(self, request: sources_pb2.IngestSourceWebhookRequest, context: Ctx) -> sources_pb2.IngestSourceWebhookResponse:
        caller = await self._caller(context)
        source_id = caller.source.source_id
        if not (request.messages or request.metadata):
            raise InvalidArgument("messages or metadata are required")
        if len(request.messages) > MAX_BATCH or len(request.metadata) > MAX_BATCH:
            raise InvalidArgument(f"at most {MAX_BATCH} messages and {MAX_BATCH} metadata per call")
        batch = {"source_id": source_id,
                 **json_format.MessageToDict(request, preserving_proto_field_name=True)}
        try:
            found = custom.events(batch)
        except TranslationError as exc:
            raise InvalidArgument(str(exc)) from exc
        missing = []
        for source_channel_id in sorted({e.source_channel_id for e in found}):
            channel = await self.reads.channel(ids.channel_id(source_id, source_channel_id))
            if channel is None or not channel.channel.connected:
                missing.append(source_channel_id)
        if missing:
            raise FailedPrecondition(f"channels {', '.join(missing)} of source {source_id} are "
                                     "not connected: create them with /sources.channels.create")
        body = json.dumps(batch, separators=(",", ":")).encode()
        await write_raw(self.producer, self.settings, custom.NAME, custom.routing_key(body), body,
                        "application/json", "/sources.webhook")
        return sources_pb2.IngestSourceWebhookResponse()

