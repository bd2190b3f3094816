"""IngestService: the sources' inbound webhooks. Verify, then write the raw bytes, then answer."""

from __future__ import annotations

from types import ModuleType

import grpc
from aiokafka import AIOKafkaProducer
from google.api import httpbody_pb2

from ingest import config
from ingest.raw_writer import write_raw
from ingest.sources import WEBHOOK_SOURCES
from ingest.sources import google, meta
from ingest.sources.base import SignatureInvalid, SignatureMissing, WebhookRequest
from parley.v1 import ingest_pb2, ingest_pb2_grpc
from runtime import text
from runtime.errors import InvalidArgument, PermissionDenied, Unauthenticated
from runtime.settings import Settings

OK = httpbody_pb2.HttpBody(content_type="text/plain", data=b"ok")
#: Twilio expects TwiML; an empty document means "no automatic reply".
EMPTY_TWIML = httpbody_pb2.HttpBody(
    content_type="text/xml", data=b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
)

VerifyRequest = (
    ingest_pb2.VerifyFacebookWebhookRequest
    | ingest_pb2.VerifyInstagramWebhookRequest
    | ingest_pb2.VerifyWhatsappWebhookRequest
)


class WebhooksServicer(ingest_pb2_grpc.IngestServiceServicer):
    """One thin method per source path; `receive` and `handshake` do the work."""

    def __init__(self, settings: Settings, producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self.producer = producer
        self.public_url = config.public_url(settings)
        # Read once: the secrets are configuration of the process, not of each request.
        self.configs = {name: config.source_config(name) for name in WEBHOOK_SOURCES}

    async def receive(
        self, source: ModuleType, body: httpbody_pb2.HttpBody, context: grpc.aio.ServicerContext
    ) -> None:
        """Verify the webhook over its raw bytes, check it is text Parley can write (a signed body
        is still the sender's choice), then append it to the source's raw topic."""
        headers = {
            key.lower(): value for key, value in context.invocation_metadata() or ()
            if isinstance(value, str)
        }
        path = headers.get("x-envoy-original-path", f"/{source.NAME}")
        request = WebhookRequest(body=body.data, headers=headers, url=self.public_url + path)
        try:
            source.verify(request, self.configs[source.NAME])
        except SignatureMissing as exc:
            raise Unauthenticated(f"{source.NAME}: missing signature") from exc
        except SignatureInvalid as exc:
            raise PermissionDenied(f"{source.NAME}: invalid signature") from exc
        try:
            text.check_body(body.data)
        except ValueError as exc:
            raise InvalidArgument(f"{source.NAME}: {exc}") from exc
        await write_raw(
            self.producer, self.settings, source.NAME, source.routing_key(body.data),
            body.data, body.content_type, path,
        )

    def handshake(self, source: str, request: VerifyRequest) -> httpbody_pb2.HttpBody:
        """Meta's GET subscription handshake: echo hub.challenge for the right verify token."""
        hub = request.hub
        if not (hub.mode and hub.verify_token and hub.challenge):
            raise InvalidArgument("hub.mode, hub.verify_token and hub.challenge are required")
        try:
            challenge = meta.verify_subscription(
                hub.mode, hub.verify_token, hub.challenge, self.configs[source]
            )
        except SignatureInvalid as exc:
            raise PermissionDenied(f"{source}: wrong hub.mode or hub.verify_token") from exc
        return httpbody_pb2.HttpBody(content_type="text/plain", data=challenge.encode())

    async def VerifyFacebookWebhook(
        self, request: ingest_pb2.VerifyFacebookWebhookRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        return self.handshake("facebook", request)

    async def VerifyInstagramWebhook(
        self, request: ingest_pb2.VerifyInstagramWebhookRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        return self.handshake("instagram", request)

    async def VerifyWhatsappWebhook(
        self, request: ingest_pb2.VerifyWhatsappWebhookRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        return self.handshake("whatsapp", request)

    async def ReceiveFacebookWebhook(
        self, request: ingest_pb2.ReceiveFacebookWebhookRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        await self.receive(WEBHOOK_SOURCES["facebook"], request.body, context)
        return OK

    async def ReceiveInstagramWebhook(
        self, request: ingest_pb2.ReceiveInstagramWebhookRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        await self.receive(WEBHOOK_SOURCES["instagram"], request.body, context)
        return OK

    async def ReceiveWhatsappWebhook(
        self, request: ingest_pb2.ReceiveWhatsappWebhookRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        await self.receive(WEBHOOK_SOURCES["whatsapp"], request.body, context)
        return OK

    async def ReceiveGoogleWebhook(
        self, request: ingest_pb2.ReceiveGoogleWebhookRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        # Google's one-time webhook verification is unsigned: it proves itself with the client
        # token, and wants its secret echoed. Nothing of it is written.
        verification = WebhookRequest(body=request.body.data, headers={}, url="")
        secret = google.verification_secret(verification, self.configs[google.NAME])
        if secret is not None:
            return httpbody_pb2.HttpBody(content_type="text/plain", data=secret.encode())
        await self.receive(WEBHOOK_SOURCES["google"], request.body, context)
        return OK

    async def ReceiveTwilioWebhook(
        self, request: ingest_pb2.ReceiveTwilioWebhookRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        await self.receive(WEBHOOK_SOURCES["twilio"], request.body, context)
        return EMPTY_TWIML

    async def ReceiveViberWebhook(
        self, request: ingest_pb2.ReceiveViberWebhookRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        await self.receive(WEBHOOK_SOURCES["viber"], request.body, context)
        return OK
