"""EventsService: realtime events as a gRPC server stream (Envoy serves it as a JSON array,
NDJSON or SSE `data:` lines) and as raw Server-Sent Events for browsers' EventSource."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from google.api import httpbody_pb2

from gateway.subscriptions import HEARTBEAT, Filter, Hub
from parley.v1 import events_pb2, events_pb2_grpc, resources_pb2
from store.client import events
from runtime.server import Ctx

SSE = "text/event-stream"


def sse_frame(event: resources_pb2.Event) -> bytes:
    """One Server-Sent Event: `id:` the resume token (EventSource sends it back as Last-Event-ID
    when it reconnects), `event:` the type, `data:` the Event JSON; heartbeats are comments."""
    if event.type == HEARTBEAT:
        return b": heartbeat\n\n"
    data = json.dumps(events.as_json(event), separators=(",", ":"))
    lines = ([f"id: {event.resume_token}"] if event.resume_token else []) + [
        f"event: {event.type}", f"data: {data}"]
    return ("\n".join(lines) + "\n\n").encode()


class EventsServicer(events_pb2_grpc.EventsServiceServicer):
    """Thin: the subscription itself is `Hub.open`."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def Subscribe(self, request: events_pb2.SubscribeRequest, context: Ctx) -> AsyncIterator[resources_pb2.Event]:
        wanted = Filter.of(list(request.types), request.conversation_id, request.channel_id)
        async for event in await self.hub.open(wanted, request.resume_token):
            yield event

    async def SubscribeSse(self, request: events_pb2.SubscribeSseRequest, context: Ctx) -> AsyncIterator[httpbody_pb2.HttpBody]:
        wanted = Filter.of(list(request.types), request.conversation_id, request.channel_id)
        # EventSource reconnects with the last `id:` it saw as the Last-Event-ID header.
        headers = dict(context.invocation_metadata() or ())
        stream = await self.hub.open(wanted, str(headers.get("last-event-id") or request.resume_token))
        # A comment first, so the response (and its content type) starts before any event.
        yield httpbody_pb2.HttpBody(content_type=SSE, data=b": connected\n\n")
        async for event in stream:
            yield httpbody_pb2.HttpBody(content_type=SSE, data=sse_frame(event))
