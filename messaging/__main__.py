"""`python -m messaging`: the messaging service (messages.send, .resend, .suggest-replies), the
sender of pending messages and the outbox of sends to conversations not in the store yet."""

from __future__ import annotations

import asyncio

from messaging import policy
from messaging.claims import SendClaims
from messaging.messaging_service import MessagingServicer
from messaging.outbox import Outbox
from messaging.record_writer import RecordWriter
from messaging.sender import Sender
from store import client as store
from parley.v1 import messaging_pb2, messaging_pb2_grpc
from runtime import kafka
from runtime import logging as runtime_logging
from runtime import redis as runtime_redis
from runtime import settings as settings_module
from runtime.server import Registration, serve


async def main() -> None:
    """Serve the messaging service and send pending messages."""
    settings = settings_module.load()
    runtime_logging.configure("messaging", settings.log_level)
    redis = runtime_redis.client(settings)
    producer = kafka.producer(settings)
    await producer.start()
    reads = store.reads(settings, redis)
    follow = await store.follow(settings, redis)
    limits = policy.load(outbound_allow=settings.outbound_allow)
    writer = RecordWriter(settings, producer)
    sender = Sender(settings, reads, writer, limits, SendClaims(settings, redis, limits.claim_lease_s))
    servicer = MessagingServicer(settings, reads, store.commands(settings, redis, producer),
                                 producer)
    try:
        await serve("messaging", settings,
                    [Registration.of(messaging_pb2, messaging_pb2_grpc, servicer)],
                    background=[follow, sender.run,
                                Outbox(settings, reads, writer, limits).run])
    finally:
        await producer.stop()
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
