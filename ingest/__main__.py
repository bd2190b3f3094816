"""`python -m ingest`: the ingest service (inbound webhooks, custom sources' API, the translator
worker)."""

from __future__ import annotations

from ingest.sources_service import SourcesServicer
from ingest.translator_worker import TranslatorWorker
from ingest.webhooks_service import WebhooksServicer
from parley.v1 import ingest_pb2, ingest_pb2_grpc, sources_pb2, sources_pb2_grpc
from runtime.server import Registration
from runtime.service import Plan, Process, run
from store import client as store


async def build(process: Process) -> Plan:
    """Serve the sources' webhooks and translate what they wrote."""
    settings, redis, producer = process.settings, process.redis, await process.producer()
    follow = await store.follow(settings, redis)
    sources = SourcesServicer(settings, redis, store.reads(settings, redis),
                              store.commands(settings, redis, producer), producer)
    return Plan([
        Registration.of(ingest_pb2, ingest_pb2_grpc, WebhooksServicer(settings, producer)),
        Registration.of(sources_pb2, sources_pb2_grpc, sources),
    ], background=[follow, TranslatorWorker(settings).run])


if __name__ == "__main__":
    run("ingest", build)
