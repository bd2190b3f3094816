"""ChannelsService: connect, disconnect, update (through Kafka) and reads of channels.

A command is written to `parley.channels` and answered once the projector has applied it, so a
`channels.list` right after a connect already shows the channel. The connect and disconnect
methods derive from the source registry: `Connect<Kind>` and `Disconnect<Kind>` for every kind
of channel (`sources.CHANNEL_KINDS`).
"""

from __future__ import annotations

from functools import partial
from typing import Any


from parley.v1 import channels_pb2, records_pb2, resources_pb2
from runtime import topics
from runtime.errors import InvalidArgument, NotFound
from runtime.server import Ctx, Handler, Registration
from runtime.redis import Client, blob
from sources import CHANNEL_KINDS
from sources.spec import ChannelKind
from store import channel_commands as commands
from store.commands import CommandWriter
from store.keys import StoreKeys
from store.reads import StoreReads


class Channels:
    """Channels of every source; tokens are stored in the channel record and never served."""

    def __init__(self, redis: Client, keys: StoreKeys, commands: CommandWriter) -> None:
        self.redis = redis
        self.keys = keys
        self.commands = commands
        self.reads = StoreReads(redis, keys)

    async def stored(self, channel_id: str) -> records_pb2.ChannelRecord | None:
        """The projected record of `channel_id`, None when unknown."""
        found = await self.redis.get(self.keys.channel(channel_id)) if channel_id else None
        return None if found is None else records_pb2.ChannelRecord.FromString(blob(found))

    async def write(self, record: records_pb2.ChannelRecord) -> resources_pb2.Channel:
        """Write `record` through Kafka and the projection; answer the served channel."""
        await self.commands.write(topics.CHANNELS, record.channel.id, record)
        return record.channel

    def registration(self) -> Registration:
        """ChannelsService: the reads and update, and a connect and disconnect per channel kind."""
        handlers: dict[str, Handler] = {
            "ListChannels": self.ListChannels, "GetChannel": self.GetChannel,
            "UpdateChannel": self.UpdateChannel,
        }
        for kind in CHANNEL_KINDS.values():
            handlers[f"Connect{kind.rpc}"] = partial(self.connect, kind)
            handlers[f"Disconnect{kind.rpc}"] = partial(
                self.disconnect, kind, getattr(channels_pb2, f"Disconnect{kind.rpc}Response"))
        return Registration.of_handlers(channels_pb2, "ChannelsService", handlers)

    async def connect(self, kind: ChannelKind, request: Any, context: Ctx) -> resources_pb2.Channel:
        """Connect (or reconnect) the channel of `kind` that `request` names."""
        commands.require(**{field: getattr(request, field) for field in kind.required})
        secrets = {field: getattr(request, field) for field in kind.secrets}
        return await self.write(commands.connect(kind.source, kind.channel_key(request),
                                                 request.name, request.image_url, secrets))

    async def disconnect(self, kind: ChannelKind, answer: type[Any], request: Any,
                         context: Ctx) -> Any:
        """Disconnect a channel of `kind` (also when already disconnected); NotFound if unknown
        or of another kind. Answers the empty `answer`."""
        if not request.channel_id:
            raise InvalidArgument("channel_id is required")
        current = await self.stored(request.channel_id)
        record = commands.disconnect(current, kind.source, request.channel_id)
        if current is None or current.SerializeToString() != record.SerializeToString():
            await self.write(record)
        return answer()

    # Reads and update.

    async def ListChannels(self, request: channels_pb2.ListChannelsRequest, context: Ctx) -> channels_pb2.ListChannelsResponse:
        connected = await self.reads.connected_channels(request.source)
        return channels_pb2.ListChannelsResponse(data=[r.channel for r in connected])

    async def GetChannel(self, request: channels_pb2.GetChannelRequest, context: Ctx) -> resources_pb2.Channel:
        record = await self.stored(request.channel_id)
        if record is None:
            raise NotFound(f"channel {request.channel_id} not found")
        return record.channel

    async def UpdateChannel(self, request: channels_pb2.UpdateChannelRequest, context: Ctx) -> resources_pb2.Channel:
        name = request.name if request.HasField("name") else None
        image_url = request.image_url if request.HasField("image_url") else None
        current = await self.stored(request.channel_id)
        return await self.write(commands.update(current, request.channel_id, name, image_url))
