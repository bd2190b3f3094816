"""What other services read of the store's Redis projection (read only: the store owns the
keyspace).

They read Redis rather than calling the store's API because they need what no endpoint returns:
a channel's credentials (messaging's connectors), a message's record (the chat plugin marks it
delivered), what a custom source's token or an API token is (SourcesService, the edge's auth).
"""

from __future__ import annotations

import hashlib
from typing import TypeVar

from google.protobuf.message import Message as ProtoMessage

from parley.v1 import records_pb2, resources_pb2
from runtime.errors import NotFound
from runtime.redis import Client, blob, text
from store import message_pages, views
from store.keys import StoreKeys

R = TypeVar("R", bound=ProtoMessage)


class StoreReads:
    """Read-only lookups of conversations, channels and messages in the projection."""

    def __init__(self, redis: Client, keys: StoreKeys) -> None:
        self.redis = redis
        self.keys = keys

    async def conversation(self, conversation_id: str) -> dict[str, str] | None:
        """The projected state of a conversation (channel_id, contact_id, contact_source_id,
        source, ...), None when the store does not have it (yet)."""
        found = await self.redis.hgetall(
            self.keys.of_conversation(conversation_id).conversation(conversation_id))
        return {text(k): text(v) for k, v in found.items()} or None

    async def channel(self, channel_id: str) -> records_pb2.ChannelRecord | None:
        """A channel with its secrets, None when unknown or removed."""
        found = await self.redis.get(self.keys.channel(channel_id)) if channel_id else None
        record = None if found is None else records_pb2.ChannelRecord.FromString(blob(found))
        return None if record is None or record.deleted else record

    async def record(self, message_id: str) -> records_pb2.MessageRecord | None:
        """The stored record of a message, None when unknown."""
        return await views.find_message(self.redis, self.keys, message_id)

    async def message(self, message_id: str) -> resources_pb2.Message | None:
        """A message as served (its metadata document merged in), None when unknown."""
        record = await self.record(message_id)
        found = await views.load_messages(
            self.redis, self.keys, [(record.conversation_id, message_id)]) if record else []
        return found[0] if found else None

    async def newest_messages(self, conversation_id: str, count: int) -> list[resources_pb2.Message]:
        """The newest `count` messages of a conversation as served, oldest first; [] when it has
        none (yet)."""
        try:
            page = await message_pages.list_messages(self.redis, self.keys, conversation_id, "", count)
        except NotFound:
            return []
        return page.messages

    async def credential(self, secret: str) -> tuple[str, str] | None:
        """The kind ("source", "token") and id of what `secret` is the credential of."""
        digest = hashlib.sha256(secret.encode()).hexdigest()
        found = await self.redis.get(self.keys.credential(digest)) if secret else None
        if found is None:
            return None
        kind, _, entity_id = text(found).partition("/")
        return kind, entity_id

    async def source_by_token(self, token: str) -> records_pb2.SourceRecord | None:
        """The live custom source whose token is `token`, None when there is none."""
        found = await self.credential(token)
        return await self.source(found[1]) if found is not None and found[0] == "source" else None

    async def api_token(self, token: str) -> records_pb2.TokenRecord | None:
        """The record of the live API token `token` (expired ones included), None when there is
        none (unknown or revoked)."""
        found = await self.credential(token)
        return await self.token(found[1]) if found is not None and found[0] == "token" else None

    async def _entity(self, kind: str, entity_id: str, record_type: type[R]) -> R | None:
        found = await self.redis.get(self.keys.entity(kind, entity_id)) if entity_id else None
        return None if found is None else record_type.FromString(blob(found))

    async def _entities(self, kind: str, record_type: type[R]) -> list[R]:
        found = sorted(text(m) for m in await self.redis.smembers(self.keys.entities(kind)))
        blobs = await self.redis.mget([self.keys.entity(kind, i) for i in found]) if found else []
        return [record_type.FromString(blob(b)) for b in blobs if b is not None]

    async def token(self, name: str) -> records_pb2.TokenRecord | None:
        """The API token named `name` (revoked ones included), None when there is none."""
        return await self._entity("token", name, records_pb2.TokenRecord)

    async def tokens(self) -> list[records_pb2.TokenRecord]:
        """Every API token, revoked ones included, by name."""
        return await self._entities("token", records_pb2.TokenRecord)

    async def webhook(self, webhook_id: str) -> records_pb2.WebhookRecord | None:
        """A webhook with its signing key, None when unknown or deleted."""
        return await self._entity("webhook", webhook_id, records_pb2.WebhookRecord)

    async def webhooks(self) -> list[records_pb2.WebhookRecord]:
        """Every live webhook with its signing key, by id."""
        return await self._entities("webhook", records_pb2.WebhookRecord)

    async def source(self, source_id: str) -> records_pb2.SourceRecord | None:
        """A live custom source with its token, None when unknown or deleted."""
        return await self._entity("source", source_id, records_pb2.SourceRecord)

    async def sources(self) -> list[records_pb2.SourceRecord]:
        """Every live custom source, by id."""
        return await self._entities("source", records_pb2.SourceRecord)

    async def connected_channels(self, source: str = "") -> list[records_pb2.ChannelRecord]:
        """The connected channels (of `source`, when given), by id; a scan of the connected ones:
        there are few channels, next to conversations."""
        found = sorted(text(m) for m in await self.redis.smembers(self.keys.connected_channels()))
        blobs = await self.redis.mget([self.keys.channel(i) for i in found]) if found else []
        records = [records_pb2.ChannelRecord.FromString(blob(b)) for b in blobs if b is not None]
        return [r for r in records if not source or r.channel.source == source]
