"""`python -m messaging`: the messaging service (messages.send, .resend, .suggest-replies), the
lookups in the sources' APIs (conversations.refetch, channels.facebook.explore), the sender of
pending messages and the outbox of sends to conversations not in the store yet."""

from __future__ import annotations

import httpx

from messaging import policy
from messaging.claims import SendClaims
from messaging.lookups_service import TIMEOUT_S, SourceLookupsServicer
from messaging.messaging_service import MessagingServicer
from messaging.outbox import Outbox
from messaging.record_writer import RecordWriter
from messaging.sender import Sender
from parley.v1 import lookups_pb2, lookups_pb2_grpc, messaging_pb2, messaging_pb2_grpc
from runtime.server import Registration
from runtime.service import Plan, Process, run
from store import client as store


async def build(process: Process) -> Plan:
    """Serve the messaging service and send pending messages."""
    settings, redis, producer = process.settings, process.redis, await process.producer()
    reads = store.reads(settings, redis)
    follow = await store.follow(settings, redis)
    limits = policy.load(outbound_allow=settings.outbound_allow)
    writer = RecordWriter(settings, producer)
    sender = Sender(settings, reads, writer, limits, SendClaims(settings, redis, limits.claim_lease_s))
    commands = store.commands(settings, redis, producer)
    servicer = MessagingServicer(settings, reads, commands, producer)
    http = httpx.AsyncClient(timeout=TIMEOUT_S)  # to the sources' APIs: the operator's URLs
    process.on_close(http.aclose)
    lookups = SourceLookupsServicer(reads, commands, http)
    return Plan([Registration.of(messaging_pb2, messaging_pb2_grpc, servicer),
                 Registration.of(lookups_pb2, lookups_pb2_grpc, lookups)],
                background=[follow, sender.run, Outbox(settings, reads, writer, limits).run])


if __name__ == "__main__":
    run("messaging", build)
