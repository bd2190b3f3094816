"""MessagesService: thin gRPC layer over `message_pages`."""

from __future__ import annotations

import grpc

from parley.v1 import messages_pb2, messages_pb2_grpc
from runtime.redis import Client
from store import message_pages
from store.pages import pagination
from store.keys import StoreKeys


class MessagesServicer(messages_pb2_grpc.MessagesServiceServicer):
    """Reads of a conversation's messages from the Redis projection."""

    def __init__(self, redis: Client, keys: StoreKeys) -> None:
        self.redis = redis
        self.keys = keys

    async def ListMessages(
        self, request: messages_pb2.ListMessagesRequest, context: grpc.aio.ServicerContext
    ) -> messages_pb2.ListMessagesResponse:
        found = await message_pages.list_messages(
            self.redis, self.keys, request.conversation_id, request.cursor, request.page_size
        )
        return messages_pb2.ListMessagesResponse(
            data=found.messages, pagination_data=pagination(found.page)
        )
