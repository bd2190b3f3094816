"""`python -m messaging`: the messaging service (messages.send, .resend, .suggest-replies), the
sender of pending messages and the outbox of sends to conversations not in the store yet."""

from __future__ import annotations

from messaging import policy
from messaging.claims import SendClaims
from messaging.messaging_service import MessagingServicer
from messaging.outbox import Outbox
from messaging.record_writer import RecordWriter
from messaging.sender import Sender
from parley.v1 import messaging_pb2, messaging_pb2_grpc
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
    servicer = MessagingServicer(settings, reads, store.commands(settings, redis, producer),
                                 producer)
    return Plan([Registration.of(messaging_pb2, messaging_pb2_grpc, servicer)],
                background=[follow, sender.run, Outbox(settings, reads, writer, limits).run])


if __name__ == "__main__":
    run("messaging", build)
