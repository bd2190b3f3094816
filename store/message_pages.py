"""`messages.list`: one page of a conversation's messages, in O(log n + page) Redis work.

The first page is the newest `page_size` messages; every page is ordered oldest -> latest;
`next_cursor` walks back in time and `previous_cursor` forward again.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from parley.v1 import records_pb2
from runtime.errors import InvalidArgument, NotFound
from store import cursors
from store.keys import StoreKeys

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class MessagePage:
    """A page of messages and the cursors around it."""

    records: list[records_pb2.MessageRecord]
    previous_cursor: str
    next_cursor: str
    total: int


def page_size_or_default(page_size: int) -> int:
    """The page size asked for, 20 when unset; InvalidArgument outside 1..1000."""
    if page_size == 0:
        return DEFAULT_PAGE_SIZE
    if not 0 < page_size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    return page_size


async def list_messages(
    redis: aioredis.Redis, keys: StoreKeys, conversation_id: str, cursor: str, page_size: int
) -> MessagePage:
    """The page of `conversation_id` at `cursor` (newest page when empty); NotFound if unknown."""
    if not conversation_id:
        raise InvalidArgument("conversation_id is required")
    size = page_size_or_default(page_size)
    position = cursors.decode(cursor) if cursor else None
    index = keys.conversation_messages(conversation_id)

    pipe = redis.pipeline(transaction=False)
    pipe.zcard(index)
    if position is None or position.direction == "before":
        top = "+" if position is None else f"({position.member}"
        pipe.zrange(index, top, "-", desc=True, bylex=True, offset=0, num=size + 1)
    else:
        pipe.zrange(index, f"({position.member}", "+", bylex=True, offset=0, num=size + 1)
    total, found = await pipe.execute()
    if total == 0:
        raise NotFound(f"conversation {conversation_id} not found")

    members = [m.decode() for m in found]
    if position is None or position.direction == "before":
        has_older, has_newer = len(members) > size, position is not None
        page = list(reversed(members[:size]))
    else:
        has_older, has_newer = True, len(members) > size
        page = members[:size]

    records = await _load(redis, keys, page)
    return MessagePage(
        records=records,
        next_cursor=cursors.encode(cursors.Cursor("before", page[0])) if has_older and page else "",
        previous_cursor=cursors.encode(cursors.Cursor("after", page[-1])) if has_newer and page else "",
        total=total,
    )


async def _load(
    redis: aioredis.Redis, keys: StoreKeys, members: list[str]
) -> list[records_pb2.MessageRecord]:
    if not members:
        return []
    blobs = await redis.mget([keys.message(m.split(":", 1)[1]) for m in members])
    records = []
    for blob in blobs:
        if blob is not None:  # written with its index entry in one MULTI, so always present
            records.append(records_pb2.MessageRecord.FromString(blob))
    return records
