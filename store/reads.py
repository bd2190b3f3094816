"""What other services read of the store's Redis projection (read only: the store owns the
keyspace).

They read Redis rather than calling the store's API because they need what no endpoint returns:
a channel's credentials (messaging's connectors), a message's record (the chat plugin marks it
delivered), a custom source's token (SourcesService).
"""

from __future__ import annotations

import redis.asyncio as aioredis

from parley.v1 import records_pb2, resources_pb2
from runtime.errors import NotFound
from store import message_pages, views
from store.keys import StoreKeys


class StoreReads:
    """Read-only lookups of conversations, channels and messages in the projection."""

    def __init__(self, redis: aioredis.Redis, keys: StoreKeys) -> None:
        self.redis = redis
        self.keys = keys

    async def conversation(self, conversation_id: str) -> dict[str, str] | None:
        """The projected state of a conversation (channel_id, contact_id, contact_source_id,
        source, ...), None when the store does not have it (yet)."""
        found = await self.redis.hgetall(self.keys.conversation(conversation_id))
        return {k.decode(): v.decode() for k, v in found.items()} or None

    async def channel(self, channel_id: str) -> records_pb2.ChannelRecord | None:
        """A channel with its secrets, None when unknown or removed."""
        blob = await self.redis.get(self.keys.channel(channel_id)) if channel_id else None
        record = None if blob is None else records_pb2.ChannelRecord.FromString(blob)
        return None if record is None or record.deleted else record

    async def record(self, message_id: str) -> records_pb2.MessageRecord | None:
        """The stored record of a message, None when unknown."""
        blob = await self.redis.get(self.keys.message(message_id)) if message_id else None
        return None if blob is None else records_pb2.MessageRecord.FromString(blob)

    async def message(self, message_id: str) -> resources_pb2.Message | None:
        """A message as served (its metadata document merged in), None when unknown."""
        found = await views.load_messages(self.redis, self.keys, [message_id]) if message_id else []
        return found[0] if found else None

    async def newest_messages(self, conversation_id: str, count: int) -> list[resources_pb2.Message]:
        """The newest `count` messages of a conversation as served, oldest first; [] when it has
        none (yet)."""
        try:
            page = await message_pages.list_messages(self.redis, self.keys, conversation_id, "", count)
        except NotFound:
            return []
        return page.messages

    async def source_by_token(self, token: str) -> records_pb2.SourceRecord | None:
        """The live custom source whose token is `token`, None when there is none."""
        source_id = await self.redis.get(self.keys.source_token(token)) if token else None
        return None if source_id is None else await self.source(source_id.decode())

    async def source(self, source_id: str) -> records_pb2.SourceRecord | None:
        """A live custom source with its token, None when unknown or deleted."""
        blob = await self.redis.get(self.keys.entity("source", source_id)) if source_id else None
        return None if blob is None else records_pb2.SourceRecord.FromString(blob)

    async def sources(self) -> list[records_pb2.SourceRecord]:
        """Every live custom source, by id."""
        found = sorted(m.decode() for m in await self.redis.smembers(self.keys.entities("source")))
        blobs = await self.redis.mget([self.keys.entity("source", i) for i in found]) if found else []
        return [records_pb2.SourceRecord.FromString(b) for b in blobs if b is not None]

    async def connected_channels(self, source: str = "") -> list[records_pb2.ChannelRecord]:
        """The connected channels (of `source`, when given), by id; a scan of the connected ones:
        there are few channels, next to conversations."""
        found = sorted(m.decode() for m in await self.redis.smembers(self.keys.connected_channels()))
        blobs = await self.redis.mget([self.keys.channel(i) for i in found]) if found else []
        records = [records_pb2.ChannelRecord.FromString(b) for b in blobs if b is not None]
        return [r for r in records if not source or r.channel.source == source]
