"""ConversationsService: reads of conversations from the projection (thin gRPC layer)."""

from __future__ import annotations

import grpc
import redis.asyncio as aioredis

from parley.v1 import conversations_pb2, conversations_pb2_grpc, resources_pb2
from runtime.errors import InvalidArgument, NotFound, Unimplemented
from store import pages, views
from store.keys import StoreKeys
from store.messages_service import pagination


class ConversationsServicer(conversations_pb2_grpc.ConversationsServiceServicer):
    """conversations.list (newest activity first) and conversations.info."""

    def __init__(self, redis: aioredis.Redis, keys: StoreKeys) -> None:
        self.redis = redis
        self.keys = keys

    async def ListConversations(
        self, request: conversations_pb2.ListConversationsRequest, context: grpc.aio.ServicerContext
    ) -> conversations_pb2.ListConversationsResponse:
        if request.filters:
            raise Unimplemented("filters are not supported yet")
        page = await pages.newest_first(
            self.redis, self.keys.conversations(), request.cursor, request.page_size
        )
        newest_first = [pages.member_id(m) for m in reversed(page.members)]
        conversations = await views.load_conversations(self.redis, self.keys, newest_first)
        return conversations_pb2.ListConversationsResponse(
            data=conversations, pagination_data=pagination(page)
        )

    async def GetConversation(
        self, request: conversations_pb2.GetConversationRequest, context: grpc.aio.ServicerContext
    ) -> resources_pb2.Conversation:
        if not request.conversation_id:
            raise InvalidArgument("conversation_id is required")
        found = await views.load_conversations(self.redis, self.keys, [request.conversation_id])
        if not found:
            raise NotFound(f"conversation {request.conversation_id} not found")
        return found[0]
