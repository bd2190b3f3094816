"""ChannelsService: connect, disconnect, update (through Kafka) and reads of channels.

A command is written to `parley.channels` and answered once the projector has applied it, so a
`channels.list` right after a connect already shows the channel.
"""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis

from parley.v1 import channels_pb2, channels_pb2_grpc, records_pb2, resources_pb2
from runtime import topics
from runtime.errors import InvalidArgument, NotFound
from store import channel_commands as commands
from store.commands import CommandWriter
from store.keys import StoreKeys
from store.reads import StoreReads
from runtime.server import Ctx


class ChannelsServicer(channels_pb2_grpc.ChannelsServiceServicer):
    """Channels of every source; tokens are stored in the channel record and never served."""

    def __init__(self, redis: aioredis.Redis, keys: StoreKeys, commands: CommandWriter) -> None:
        self.redis = redis
        self.keys = keys
        self.commands = commands
        self.reads = StoreReads(redis, keys)

    async def stored(self, channel_id: str) -> records_pb2.ChannelRecord | None:
        """The projected record of `channel_id`, None when unknown."""
        blob = await self.redis.get(self.keys.channel(channel_id)) if channel_id else None
        return None if blob is None else records_pb2.ChannelRecord.FromString(blob)

    async def write(self, record: records_pb2.ChannelRecord) -> resources_pb2.Channel:
        """Write `record` through Kafka and the projection; answer the served channel."""
        await self.commands.write(topics.CHANNELS, record.channel.id, record.SerializeToString())
        return record.channel

    async def connect(
        self, source: str, source_channel_id: str, name: str, image_url: str, **secrets: str
    ) -> resources_pb2.Channel:
        """Connect (or reconnect) the channel `source_channel_id` of `source`."""
        return await self.write(commands.connect(source, source_channel_id, name, image_url, secrets))

    async def disconnect(self, source: str, channel_id: str) -> None:
        """Disconnect a channel of `source` (also when already disconnected); NotFound if unknown."""
        if not channel_id:
            raise InvalidArgument("channel_id is required")
        current = await self.stored(channel_id)
        record = commands.disconnect(current, source, channel_id)
        if current is None or current.SerializeToString() != record.SerializeToString():
            await self.write(record)

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

    # Connect and disconnect, one pair per source.

    async def ConnectFacebook(self, request: channels_pb2.ConnectFacebookRequest, context: Ctx) -> resources_pb2.Channel:
        commands.require(page_id=request.page_id, page_token=request.page_token)
        return await self.connect("facebook", request.page_id, request.name, request.image_url,
                                  page_token=request.page_token)

    async def DisconnectFacebook(self, request: channels_pb2.DisconnectFacebookRequest, context: Ctx) -> channels_pb2.DisconnectFacebookResponse:
        await self.disconnect("facebook", request.channel_id)
        return channels_pb2.DisconnectFacebookResponse()

    async def ConnectInstagram(self, request: channels_pb2.ConnectInstagramRequest, context: Ctx) -> resources_pb2.Channel:
        commands.require(page_id=request.page_id, account_id=request.account_id,
                         page_token=request.page_token)
        # Instagram's webhooks name the Instagram account (entry.id), so the account keys the channel.
        return await self.connect("instagram", request.account_id, request.name, request.image_url,
                                  page_id=request.page_id, page_token=request.page_token)

    async def DisconnectInstagram(self, request: channels_pb2.DisconnectInstagramRequest, context: Ctx) -> channels_pb2.DisconnectInstagramResponse:
        await self.disconnect("instagram", request.channel_id)
        return channels_pb2.DisconnectInstagramResponse()

    async def ConnectGoogle(self, request: channels_pb2.ConnectGoogleRequest, context: Ctx) -> resources_pb2.Channel:
        commands.require(gbm_id=request.gbm_id, name=request.name)
        return await self.connect("google", request.gbm_id, request.name, request.image_url)

    async def DisconnectGoogle(self, request: channels_pb2.DisconnectGoogleRequest, context: Ctx) -> channels_pb2.DisconnectGoogleResponse:
        await self.disconnect("google", request.channel_id)
        return channels_pb2.DisconnectGoogleResponse()

    async def ConnectTwilioSms(self, request: channels_pb2.ConnectTwilioSmsRequest, context: Ctx) -> resources_pb2.Channel:
        commands.require(phone_number=request.phone_number, name=request.name)
        return await self.connect("twilio.sms", commands.phone_number(request.phone_number),
                                  request.name, request.image_url)

    async def DisconnectTwilioSms(self, request: channels_pb2.DisconnectTwilioSmsRequest, context: Ctx) -> channels_pb2.DisconnectTwilioSmsResponse:
        await self.disconnect("twilio.sms", request.channel_id)
        return channels_pb2.DisconnectTwilioSmsResponse()

    async def ConnectTwilioWhatsapp(self, request: channels_pb2.ConnectTwilioWhatsappRequest, context: Ctx) -> resources_pb2.Channel:
        commands.require(phone_number=request.phone_number, name=request.name)
        return await self.connect("twilio.whatsapp", commands.phone_number(request.phone_number),
                                  request.name, request.image_url)

    async def DisconnectTwilioWhatsapp(self, request: channels_pb2.DisconnectTwilioWhatsappRequest, context: Ctx) -> channels_pb2.DisconnectTwilioWhatsappResponse:
        await self.disconnect("twilio.whatsapp", request.channel_id)
        return channels_pb2.DisconnectTwilioWhatsappResponse()

    async def ConnectViber(self, request: channels_pb2.ConnectViberRequest, context: Ctx) -> resources_pb2.Channel:
        return await self.connect("viber", commands.VIBER_CHANNEL_ID, request.name, request.image_url)

    async def DisconnectViber(self, request: channels_pb2.DisconnectViberRequest, context: Ctx) -> channels_pb2.DisconnectViberResponse:
        await self.disconnect("viber", request.channel_id)
        return channels_pb2.DisconnectViberResponse()

    async def ConnectWhatsapp(self, request: channels_pb2.ConnectWhatsappRequest, context: Ctx) -> resources_pb2.Channel:
        commands.require(phone_number_id=request.phone_number_id, user_token=request.user_token,
                         name=request.name)
        return await self.connect("whatsapp", request.phone_number_id, request.name,
                                  request.image_url, user_token=request.user_token)

    async def DisconnectWhatsapp(self, request: channels_pb2.DisconnectWhatsappRequest, context: Ctx) -> channels_pb2.DisconnectWhatsappResponse:
        await self.disconnect("whatsapp", request.channel_id)
        return channels_pb2.DisconnectWhatsappResponse()

    async def ConnectChatplugin(self, request: channels_pb2.ConnectChatpluginRequest, context: Ctx) -> resources_pb2.Channel:
        commands.require(name=request.name)
        # A chat plugin has no id at any source: each connect makes a new channel.
        return await self.connect("chatplugin", str(uuid.uuid4()), request.name, request.image_url)

    async def DisconnectChatplugin(self, request: channels_pb2.DisconnectChatpluginRequest, context: Ctx) -> channels_pb2.DisconnectChatpluginResponse:
        await self.disconnect("chatplugin", request.channel_id)
        return channels_pb2.DisconnectChatpluginResponse()
