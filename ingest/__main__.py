"""`python -m ingest`: the ingest service (inbound webhooks, custom sources' API, the translator
worker)."""

from __future__ import annotations

from parley.v1 import sources_pb2, sources_pb2_grpc

from ingest.sources_service import SourcesServicer
from ingest.translator_worker import TranslatorWorker
from ingest.webhooks_service import Webhooks
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
        Webhooks(settings, producer).registration(),
        Registration.of(sources_pb2, sources_pb2_grpc, sources),
    ], background=[follow, TranslatorWorker(settings).run])


if __name__ == "__main__":
    run("ingest", build)
