"""IngestService: the sources' inbound webhooks. Verify, then write the raw bytes, then answer.

Its methods derive from the source registry: `Receive<rpc>Webhook` for every source with a
webhook, `Verify<rpc>Webhook` for those that subscribe with Meta's GET handshake."""

from __future__ import annotations

from functools import partial
from typing import Protocol

from aiokafka import AIOKafkaProducer
from google.api import httpbody_pb2
from parley.v1 import ingest_pb2

from ingest import config
from ingest.raw_writer import write_raw
from runtime import text
from runtime.errors import InvalidArgument, PermissionDenied, Unauthenticated
from runtime.server import Ctx, Handler, Registration
from runtime.settings import Settings
from sources import WEBHOOK_SOURCES, meta
from sources.inbound import SignatureInvalid, SignatureMissing, WebhookRequest
from sources.spec import Reply, Source, Webhook

class VerifyRequest(Protocol):
    """Every `Verify<rpc>WebhookRequest`: Meta's handshake parameters."""

    @property
    def hub(self) -> ingest_pb2.HubParams: ...


class ReceiveRequest(Protocol):
    """Every `Receive<rpc>WebhookRequest`: the raw request, as Envoy hands it over."""

    @property
    def body(self) -> httpbody_pb2.HttpBody: ...


def _body(reply: Reply) -> httpbody_pb2.HttpBody:
    return httpbody_pb2.HttpBody(content_type=reply.content_type, data=reply.data)


class Webhooks:
    """Receives every source's webhooks (`receive`) and answers Meta's handshakes (`handshake`)."""

    def __init__(self, settings: Settings, producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self.producer = producer
        self.public_url = settings.public_url
        # Read once: the secrets are configuration of the process, not of each request.
        self.configs = {name: config.source_config(name) for name in WEBHOOK_SOURCES}

    def registration(self) -> Registration:
        """IngestService, one method per webhook path of the registry."""
        handlers: dict[str, Handler] = {}
        for source in WEBHOOK_SOURCES.values():
            assert source.webhook is not None
            handlers[f"Receive{source.webhook.rpc}Webhook"] = partial(self.receive, source)
            if source.webhook.handshake:
                handlers[f"Verify{source.webhook.rpc}Webhook"] = partial(self.handshake, source)
        return Registration.of_handlers(ingest_pb2, "IngestService", handlers)

    async def receive(self, source: Source, request: ReceiveRequest,
                      context: Ctx) -> httpbody_pb2.HttpBody:
        """Verify the webhook over its raw bytes, check it is text Parley can write (a signed body
        is still the sender's choice), then append it to the source's raw topic."""
        webhook: Webhook | None = source.webhook
        assert webhook is not None
        body, secrets = request.body, self.configs[source.name]
        if webhook.unsigned_answer is not None:
            answer = webhook.unsigned_answer(WebhookRequest(body.data, {}, ""), secrets)
            if answer is not None:
                return httpbody_pb2.HttpBody(content_type="text/plain", data=answer.encode())
        headers = {
            key.lower(): value for key, value in context.invocation_metadata() or ()
            if isinstance(value, str)
        }
        path = headers.get("x-envoy-original-path", f"/{source.name}")
        try:
            webhook.verify(WebhookRequest(body.data, headers, self.public_url + path), secrets)
        except SignatureMissing as exc:
            raise Unauthenticated(f"{source.name}: missing signature") from exc
        except SignatureInvalid as exc:
            raise PermissionDenied(f"{source.name}: invalid signature") from exc
        try:
            text.check_body(body.data)
        except ValueError as exc:
            raise InvalidArgument(f"{source.name}: {exc}") from exc
        await write_raw(self.producer, self.settings, source.name, webhook.routing_key(body.data),
                        body.data, body.content_type, path)
        return _body(webhook.reply)

    async def handshake(self, source: Source, request: VerifyRequest,
                        context: Ctx) -> httpbody_pb2.HttpBody:
        """Meta's GET subscription handshake: echo hub.challenge for the right verify token."""
        hub = request.hub
        if not (hub.mode and hub.verify_token and hub.challenge):
            raise InvalidArgument("hub.mode, hub.verify_token and hub.challenge are required")
        try:
            challenge = meta.verify_subscription(
                hub.mode, hub.verify_token, hub.challenge, self.configs[source.name]
            )
        except SignatureInvalid as exc:
            raise PermissionDenied(f"{source.name}: wrong hub.mode or hub.verify_token") from exc
        return httpbody_pb2.HttpBody(content_type="text/plain", data=challenge.encode())
