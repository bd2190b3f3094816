"""ChatPluginService: the website chat plugin's visitor API.

A visitor authenticates on a chat plugin channel (a new conversation) or with a resume token
(their earlier one), sends messages into their conversation, and reads it live on a Server-Sent
Events stream. Their messages are written like any source's: to the raw topic
`source.chatplugin.events`, translated by ingest (`sources.chatplugin`). Agents' messages
to a chat plugin conversation have no source API to go to: they become delivered when they reach
the visitor, on the stream or in an authenticate answer.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
from aiokafka import AIOKafkaProducer
from google.api import httpbody_pb2
from google.protobuf import json_format
from parley.v1 import chatplugin_pb2, chatplugin_pb2_grpc, records_pb2, resources_pb2

from gateway.events_service import SSE, sse_frame
from gateway.subscriptions import Ending, Filter, Hub, stream_error
from gateway.visitor_tokens import RESUME, VISITOR, Visitor, VisitorTokens
from ingest.raw_writer import write_raw
from ingest.translator import to_outputs
from messaging import sends
from messaging.record_writer import RecordWriter
from runtime import ids, json_values, timestamps
from runtime.bearer import bearer_token
from runtime.errors import InvalidArgument, NotFound, OutOfRange, PermissionDenied
from runtime.server import Ctx
from runtime.settings import Settings
from sources import chatplugin
from sources.inbound import RawEvent
from store.client import EventLog, StoreReads, served_message

#: The visitor sees their conversation's messages, nothing of its metadata (tags, notes, state).
VISITOR_EVENTS = ["message.created", "message.updated"]
#: Messages an authenticate answer carries at most (the newest ones).
HISTORY = 100


class ChatPluginServicer(chatplugin_pb2_grpc.ChatPluginServiceServicer):
    """Thin: tokens are `gateway.visitor_tokens`, the stream is the event hub's."""

    def __init__(self, settings: Settings, reads: StoreReads, hub: Hub,
                 event_log: EventLog, tokens: VisitorTokens, producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self.reads = reads
        self.hub = hub
        self.event_log = event_log
        self.tokens = tokens
        self.producer = producer
        self.records = RecordWriter(settings, producer)

    async def _channel(self, channel_id: str) -> records_pb2.ChannelRecord:
        """The connected chat plugin channel `channel_id`; NotFound or PermissionDenied."""
        found = await self.reads.channel(channel_id)
        if found is None or found.channel.source != chatplugin.NAME:
            raise NotFound(f"chat plugin channel {channel_id} not found")
        if not found.channel.connected:
            raise PermissionDenied(f"chat plugin channel {channel_id} is disconnected")
        return found

    async def _visitor(self, context: Ctx) -> Visitor:
        """The visitor of the request's token, whose channel is still connected."""
        visitor = self.tokens.read(bearer_token(context), VISITOR)
        await self._channel(visitor.channel_id)
        return visitor

    async def _deliver(self, message_id: str) -> None:
        """An agent's pending message reached the visitor: it is delivered."""
        record = await self.reads.record(message_id)
        if record is None or record.message.delivery_state != sends.PENDING:
            return
        await self.records.message(sends.delivered(record, message_id))

    async def Authenticate(self, request: chatplugin_pb2.AuthenticateRequest, context: Ctx) -> chatplugin_pb2.AuthenticateResponse:
        if request.resume_token:
            resumed = self.tokens.read(request.resume_token, RESUME)
            channel = await self._channel(resumed.channel_id)
            visitor_id = resumed.visitor_id
        elif request.channel_id:
            channel = await self._channel(request.channel_id)
            visitor_id = str(uuid.uuid4())
        else:
            raise InvalidArgument("channel_id or resume_token is required")
        # The log's position before reading the messages: the stream replays from there.
        since = await self.event_log.head()
        visitor = Visitor(channel.channel.id, channel.channel.source_channel_id, visitor_id, since)
        conversation_id = ids.conversation_id(channel.channel.id, visitor_id)
        messages = await self.reads.newest_messages(conversation_id, HISTORY)
        for message in messages:
            if not message.from_contact and message.delivery_state == sends.PENDING:
                await self._deliver(message.id)
        return chatplugin_pb2.AuthenticateResponse(
            token=self.tokens.issue(visitor, VISITOR), messages=messages,
            conversation_id=conversation_id)

    async def CreateResumeToken(self, request: chatplugin_pb2.CreateResumeTokenRequest, context: Ctx) -> chatplugin_pb2.CreateResumeTokenResponse:
        visitor = await self._visitor(context)
        return chatplugin_pb2.CreateResumeTokenResponse(resume_token=self.tokens.issue(visitor, RESUME))

    async def SendVisitorMessage(self, request: chatplugin_pb2.SendVisitorMessageRequest, context: Ctx) -> resources_pb2.Message:
        visitor = await self._visitor(context)
        sends.check_content(request.message, request.HasField("message"))
        body = chatplugin.raw_message(visitor.source_channel_id, visitor.visitor_id,
                                      str(uuid.uuid4()), json_values.from_value(request.message),
                                      timestamps.now_ms())
        await write_raw(self.producer, self.settings, chatplugin.NAME, visitor.visitor_id, body,
                        "application/json", "/chatplugin.send")
        # The answer is the message ingest makes of the very same bytes.
        raw = RawEvent(body=body, content_type="application/json", received_at_ms=timestamps.now_ms())
        outputs, _ = to_outputs(chatplugin.translate(raw), raw, lambda _: True)
        return served_message(records_pb2.MessageRecord.FromString(outputs[0].value), None)

    async def StreamVisitorEvents(self, request: chatplugin_pb2.StreamVisitorEventsRequest, context: Ctx) -> AsyncIterator[httpbody_pb2.HttpBody]:
        visitor = self.tokens.read(request.token, VISITOR)
        await self._channel(visitor.channel_id)
        conversation_id = ids.conversation_id(visitor.channel_id, visitor.visitor_id)
        wanted = Filter.of(VISITOR_EVENTS, conversation_id, "")
        # The stream reaches no further than its token: it ends when the token expires.
        expired = Ending(visitor.expires_at_s, stream_error(
            grpc.StatusCode.UNAUTHENTICATED,
            "the visitor token has expired; authenticate again (with a resume token)"))
        # EventSource reconnects with the last `id:` it saw; a first connect replays from the
        # moment the visitor read the conversation.
        headers = dict(context.invocation_metadata() or ())
        try:
            stream = await self.hub.open(wanted, str(headers.get("last-event-id") or visitor.since),
                                         expired)
        except (OutOfRange, InvalidArgument):
            # Older than the log keeps, or a position in the log before it was partitioned (a
            # token issued before): from now on.
            stream = await self.hub.open(wanted, "", expired)
        yield httpbody_pb2.HttpBody(content_type=SSE, data=b": connected\n\n")
        async for event in stream:
            yield httpbody_pb2.HttpBody(content_type=SSE, data=sse_frame(event))
            message = json_format.MessageToDict(event.payload).get("message")
            if not isinstance(message, dict):  # not a message event (`stream.error` says why)
                continue
            if message.get("delivery_state") == sends.PENDING and not message.get("from_contact"):
                await self._deliver(str(message.get("id", "")))
