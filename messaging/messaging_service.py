"""MessagingService: messages.send, .resend and .suggest-replies.

Every write goes through Kafka and is answered once the store projected it; the connectors
(`messaging.sender`) send pending messages asynchronously.
"""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaProducer
from google.protobuf import json_format

from messaging import sends, targets
from parley.v1 import messaging_pb2, messaging_pb2_grpc, resources_pb2
from runtime import ids, kafka, timestamps, topics
from runtime.bearer import TOKEN_NAME_HEADER
from runtime.errors import Conflict, InvalidArgument, NotFound
from runtime.partitioning import metadata_key
from runtime.settings import Settings
from store.client import CommandWriter, StoreReads, metadata_record, served_message
from runtime.server import Ctx


class MessagingServicer(messaging_pb2_grpc.MessagingServiceServicer):
    """Accepts outbound messages as pending records, resends failed ones, stores suggestions."""

    def __init__(self, settings: Settings, reads: StoreReads, commands: CommandWriter,
                 producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self.reads = reads
        self.commands = commands
        self.producer = producer

    async def _served(self, message_id: str) -> resources_pb2.Message:
        if not message_id:
            raise InvalidArgument("message_id is required")
        found = await self.reads.message(message_id)
        if found is None:
            raise NotFound(f"message {message_id} not found")
        return found

    async def SendMessage(self, request: messaging_pb2.SendMessageRequest, context: Ctx) -> resources_pb2.Message:
        sends.check_content(request.message, request.HasField("message"))
        sends.check_idempotency_key(request.idempotency_key)
        # The edge names the caller's API token (auth/): its name is the message's sender, and
        # the scope of its idempotency keys.
        sender = (dict(context.invocation_metadata() or ()).get(TOKEN_NAME_HEADER, "")
                  or sends.ANONYMOUS_SENDER)
        key = request.idempotency_key
        message_id = ids.sent_message_id(sender, key) if key else str(uuid.uuid4())
        if key and (first := await self.reads.message(message_id)) is not None:
            return first  # the same caller's key again: the first message, nothing sent
        target = await targets.resolve(self.reads, request)
        if target is None:
            # Not in the store yet: the outbox looks for it (messaging.outbox); HTTP 202.
            record = sends.pending(message_id, request.message, conversation_id=request.conversation_id,
                                   channel_id="", contact_id="", source="", recipient="",
                                   now_ms=timestamps.now_ms(), sender=sender)
            await kafka.write(self.producer, self.settings, topics.OUTBOX,
                              request.conversation_id, record)
            await context.send_initial_metadata((("x-http-code", "202"),))
            return served_message(record, None)
        record = sends.pending(message_id, request.message, conversation_id=target.conversation_id,
                               channel_id=target.channel_id, contact_id=target.contact_id,
                               source=target.source, recipient=target.recipient,
                               now_ms=timestamps.now_ms(), sender=sender)
        await self.commands.write(topics.MESSAGES, record.conversation_id, record)
        return served_message(record, None)

    async def ResendMessage(self, request: messaging_pb2.ResendMessageRequest, context: Ctx) -> resources_pb2.Message:
        served = await self._served(request.message_id)
        record = await self.reads.record(request.message_id)
        if served.delivery_state != sends.FAILED or record is None:
            raise Conflict("Message is not in a failed state")
        cleared = metadata_record("message", request.message_id, {}, removed=("error",))
        await self.commands.write(topics.METADATA, metadata_key(
            "message", request.message_id, record.conversation_id), cleared)
        await self.commands.write(topics.MESSAGES, record.conversation_id,
                                  sends.resent(record, timestamps.now_ms()))
        # The message as resent (the sender may have delivered it already by now).
        served.delivery_state = served.state = sends.PENDING
        if "error" in served.metadata.fields:
            del served.metadata.fields["error"]
        return served

    async def SuggestReplies(self, request: messaging_pb2.SuggestRepliesRequest, context: Ctx) -> resources_pb2.Message:
        if not request.suggestions.fields:
            raise InvalidArgument("suggestions are required")
        await self._served(request.message_id)
        message = await self.reads.record(request.message_id)
        if message is None:
            raise NotFound(f"message {request.message_id} not found")
        suggestions = json_format.MessageToDict(request.suggestions)
        record = metadata_record("message", request.message_id, {"suggestions": suggestions})
        await self.commands.write(topics.METADATA, metadata_key(
            "message", request.message_id, message.conversation_id), record)
        return await self._served(request.message_id)
