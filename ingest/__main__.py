"""`python -m ingest`: the ingest service (inbound webhooks, custom sources' API, the translator
worker)."""

from __future__ import annotations

import asyncio

from ingest.sources_service import SourcesServicer
from ingest.translator_worker import TranslatorWorker
from ingest.webhooks_service import WebhooksServicer
from parley.v1 import ingest_pb2, ingest_pb2_grpc, sources_pb2, sources_pb2_grpc
from runtime import kafka
from runtime import logging as runtime_logging
from runtime import redis as runtime_redis
from runtime import settings as settings_module
from runtime.server import Registration, serve
from store import client as store


async def main() -> None:
    """Serve the sources' webhooks and translate what they wrote."""
    settings = settings_module.load()
    runtime_logging.configure("ingest", settings.log_level)
    redis = runtime_redis.client(settings)
    producer = kafka.producer(settings)
    await producer.start()
    follow = await store.follow(settings, redis)
    sources = SourcesServicer(settings, redis, store.reads(settings, redis),
                              store.commands(settings, redis, producer), producer)
    registrations = [
        Registration.of(ingest_pb2, ingest_pb2_grpc, WebhooksServicer(settings, producer)),
        Registration.of(sources_pb2, sources_pb2_grpc, sources),
    ]
    try:
        await serve("ingest", settings, registrations, background=[follow, TranslatorWorker(settings).run])
    finally:
        await producer.stop()
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
