"""Reads of the entities kept on compacted topics (tags, templates): one key each, an id set."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message

from runtime.redis import Client, blob, text
from store.keys import StoreKeys

R = TypeVar("R", bound=Message)


async def load_one(redis: Client, keys: StoreKeys, kind: str, entity_id: str,
                   record_type: type[R]) -> R | None:
    """The record of entity `entity_id` of `kind`, None when unknown or deleted."""
    found = await redis.get(keys.entity(kind, entity_id)) if entity_id else None
    return None if found is None else record_type.FromString(blob(found))


async def load_all(redis: Client, keys: StoreKeys, kind: str, record_type: type[R]) -> list[R]:
    """Every live record of `kind` (few: tags and templates are configuration, not traffic)."""
    ids = sorted(text(i) for i in await redis.smembers(keys.entities(kind)))
    blobs = await redis.mget([keys.entity(kind, i) for i in ids]) if ids else []
    return [record_type.FromString(blob(b)) for b in blobs if b is not None]
