"""What messaging reads of the store's Redis projection (read only: the store owns the keyspace).

Messaging reads Redis rather than calling the store's API because a connector needs the
channel's credentials, which no endpoint ever returns.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from parley.v1 import records_pb2, resources_pb2
from store import views
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
