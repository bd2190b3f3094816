"""ConversationsService: reads of conversations from the projection, and the conversation
commands (mark-read, tags, state, contact name) written as metadata records through Kafka."""

from __future__ import annotations


from parley.v1 import conversations_pb2, conversations_pb2_grpc, records_pb2, resources_pb2
from runtime import timestamps, topics
from runtime.errors import InvalidArgument, NotFound
from runtime.partitioning import metadata_key
from store import conversation_commands, pages, views
from store.search import answer
from store.commands import CommandWriter
from store.keys import StoreKeys
from store.pages import pagination
from runtime.server import Ctx
from runtime.redis import Client, text


class ConversationsServicer(conversations_pb2_grpc.ConversationsServiceServicer):
    """conversations.list (newest activity first), .info and the conversation commands."""

    def __init__(self, redis: Client, keys: StoreKeys, commands: CommandWriter,
                 filter_evaluation_limit: int) -> None:
        self.redis = redis
        self.keys = keys
        self.commands = commands
        self.filter_evaluation_limit = filter_evaluation_limit

    async def _state(self, conversation_id: str) -> dict[str, str]:
        """The projected state of a conversation; InvalidArgument/NotFound when there is none."""
        if not conversation_id:
            raise InvalidArgument("conversation_id is required")
        found = await self.redis.hgetall(
            self.keys.of_conversation(conversation_id).conversation(conversation_id))
        if not found:
            raise NotFound(f"conversation {conversation_id} not found")
        return {text(k): text(v) for k, v in found.items()}

    async def _write(self, record: records_pb2.MetadataRecord) -> None:
        await self.commands.write(
            topics.METADATA, metadata_key(record.subject, record.identifier),
            record
        )

    async def MarkConversationRead(self, request: conversations_pb2.MarkConversationReadRequest, context: Ctx) -> conversations_pb2.MarkConversationReadResponse:
        state = await self._state(request.conversation_id)
        newest_ms = int(state["last_member"].split(":", 1)[0])  # the newest message's time
        await self._write(conversation_commands.mark_read(
            request.conversation_id, timestamps.format_ms(newest_ms)))
        return conversations_pb2.MarkConversationReadResponse()

    async def TagConversation(self, request: conversations_pb2.TagConversationRequest, context: Ctx) -> conversations_pb2.TagConversationResponse:
        await self._state(request.conversation_id)
        if not await self.redis.exists(self.keys.entity("tag", request.tag_id)):
            raise NotFound(f"tag {request.tag_id} not found")
        await self._write(conversation_commands.tag(request.conversation_id, request.tag_id))
        return conversations_pb2.TagConversationResponse()

    async def UntagConversation(self, request: conversations_pb2.UntagConversationRequest, context: Ctx) -> conversations_pb2.UntagConversationResponse:
        await self._state(request.conversation_id)
        await self._write(conversation_commands.untag(request.conversation_id, request.tag_id))
        return conversations_pb2.UntagConversationResponse()

    async def SetConversationState(self, request: conversations_pb2.SetConversationStateRequest, context: Ctx) -> conversations_pb2.SetConversationStateResponse:
        await self._state(request.conversation_id)
        await self._write(conversation_commands.set_state(request.conversation_id, request.state))
        return conversations_pb2.SetConversationStateResponse()

    async def RemoveConversationState(self, request: conversations_pb2.RemoveConversationStateRequest, context: Ctx) -> conversations_pb2.RemoveConversationStateResponse:
        await self._state(request.conversation_id)
        await self._write(conversation_commands.remove_state(request.conversation_id))
        return conversations_pb2.RemoveConversationStateResponse()

    async def UpdateConversationContact(self, request: conversations_pb2.UpdateConversationContactRequest, context: Ctx) -> conversations_pb2.UpdateConversationContactResponse:
        await self._state(request.conversation_id)
        await self._write(
            conversation_commands.update_contact(request.conversation_id, request.display_name))
        return conversations_pb2.UpdateConversationContactResponse()

    async def ListConversations(
        self, request: conversations_pb2.ListConversationsRequest, context: Ctx
    ) -> conversations_pb2.ListConversationsResponse:
        if request.filters.strip():
            page = await answer.filtered_page(
                self.redis, self.keys, request.filters, request.cursor, request.page_size,
                self.filter_evaluation_limit)
        else:
            page = await pages.newest_first_by_score(
                self.redis, [p.conversations() for p in self.keys.partitions()], request.cursor,
                request.page_size)
        newest_first = [pages.member_id(m) for m in reversed(page.members)]
        conversations = await views.load_conversations(self.redis, self.keys, newest_first)
        return conversations_pb2.ListConversationsResponse(
            data=conversations, pagination_data=pagination(page)
        )

    async def GetConversation(
        self, request: conversations_pb2.GetConversationRequest, context: Ctx
    ) -> resources_pb2.Conversation:
        if not request.conversation_id:
            raise InvalidArgument("conversation_id is required")
        found = await views.load_conversations(self.redis, self.keys, [request.conversation_id])
        if not found:
            raise NotFound(f"conversation {request.conversation_id} not found")
        return found[0]
