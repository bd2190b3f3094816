"""`python -m gateway`: the gateway service: realtime event streams, outbound webhooks and their
dispatcher, the chat plugin's visitor API, media uploads (media/), health and client.config, and
the public port's gRPC health and server reflection."""

from __future__ import annotations

import httpx

from gateway import edge_grpc
from gateway.chatplugin_service import ChatPluginServicer
from gateway.deliveries import DeliveryKeys
from gateway.dispatcher import Dispatcher, Policy
from gateway.events_service import EventsServicer
from gateway.health import HealthChecker, StatusSince
from gateway.status_service import StatusServicer
from gateway.subscriptions import Hub, Limits
from gateway.visitor_tokens import VisitorTokens
from gateway.webhooks_service import WebhooksServicer
from media import objects
from media.media_service import MediaServicer
from parley.v1 import (
    chatplugin_pb2,
    chatplugin_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
    media_pb2,
    media_pb2_grpc,
    status_pb2,
    status_pb2_grpc,
    webhooks_pb2,
    webhooks_pb2_grpc,
)
from runtime.server import Registration
from runtime.service import Plan, Process, run
from stack.envoy import DESCRIPTOR
from store import client as store

#: How long one request to the object store may take.
MEDIA_TIMEOUT_S = 30.0


async def build(process: Process) -> Plan:
    """Serve the gateway's gRPC services and run the event hub and the webhook dispatcher."""
    settings, redis, producer = process.settings, process.redis, await process.producer()
    checker = HealthChecker(settings, redis)
    await checker.start()
    process.on_close(checker.close)
    reads, delivery_keys = store.reads(settings, redis), DeliveryKeys(settings)
    event_log = store.event_log(settings, redis)
    follow = await store.follow(settings, redis)
    hub = Hub(event_log, Limits.from_env())
    webhooks = WebhooksServicer(redis, reads, delivery_keys,
                                store.commands(settings, redis, producer),
                                settings.outbound_allow)
    dispatcher = Dispatcher(redis, event_log, reads, delivery_keys, Policy.from_env(),
                            webhooks.disable, outbound_allow=settings.outbound_allow)
    chat = ChatPluginServicer(settings, reads, hub, event_log,
                              VisitorTokens.from_env(settings), producer)
    media_keys = objects.keys_of(settings)
    http = httpx.AsyncClient(timeout=MEDIA_TIMEOUT_S)  # to the object store: the operator's URL
    process.on_close(http.aclose)
    media = MediaServicer(objects.ObjectStore(settings.media, media_keys, http) if media_keys
                          else None, settings.media_url, settings.media.max_bytes)
    return Plan([
        Registration.of(status_pb2, status_pb2_grpc,
                        StatusServicer(checker, StatusSince(settings, redis))),
        Registration.of(media_pb2, media_pb2_grpc, media),
        Registration.of(chatplugin_pb2, chatplugin_pb2_grpc, chat),
        Registration.of(events_pb2, events_pb2_grpc, EventsServicer(hub)),
        Registration.of(webhooks_pb2, webhooks_pb2_grpc, webhooks),
        *edge_grpc.registrations(checker, DESCRIPTOR),
    ], background=[follow, hub.run, dispatcher.run])


if __name__ == "__main__":
    run("gateway", build)
