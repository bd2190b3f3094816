"""`python -m ingest`: the ingest service (inbound webhooks + the translator worker)."""

from __future__ import annotations

import asyncio

from ingest.translator_worker import TranslatorWorker
from ingest.webhooks_service import WebhooksServicer
from parley.v1 import ingest_pb2, ingest_pb2_grpc
from runtime import kafka
from runtime import logging as runtime_logging
from runtime import settings as settings_module
from runtime.server import Registration, serve


async def main() -> None:
    """Serve the sources' webhooks and translate what they wrote."""
    settings = settings_module.load()
    runtime_logging.configure("ingest", settings.log_level)
    producer = kafka.producer(settings)
    await producer.start()
    registrations = [
        Registration.of(ingest_pb2, ingest_pb2_grpc, WebhooksServicer(settings, producer)),
    ]
    try:
        await serve("ingest", settings, registrations, background=[TranslatorWorker(settings).run])
    finally:
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(main())
