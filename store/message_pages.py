"""`messages.list`: one page of a conversation's messages (see `store.pages` for the order)."""

from __future__ import annotations

from dataclasses import dataclass


from parley.v1 import resources_pb2
from runtime.errors import InvalidArgument, NotFound
from runtime.redis import Client
from store import pages, views
from store.keys import StoreKeys


@dataclass(frozen=True)
class MessagePage:
    """A page of messages and the cursors around it."""

    messages: list[resources_pb2.Message]
    page: pages.Page


async def list_messages(
    redis: Client, keys: StoreKeys, conversation_id: str, cursor: str, page_size: int
) -> MessagePage:
    """The page of `conversation_id` at `cursor` (newest page when empty); NotFound if unknown."""
    if not conversation_id:
        raise InvalidArgument("conversation_id is required")
    page = await pages.newest_first(
        redis, keys.of_conversation(conversation_id).conversation_messages(conversation_id),
        cursor, page_size)
    if page.total == 0:
        raise NotFound(f"conversation {conversation_id} not found")
    messages = await views.load_messages(
        redis, keys, [(conversation_id, pages.member_id(m)) for m in page.members])
    return MessagePage(messages=messages, page=page)
