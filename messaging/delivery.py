"""Sending one pending message through its source's connector: the stale guard, the API call,
retries with backoff on transient failures, and the resulting outcome."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from messaging.connectors import connector_for
from messaging.connectors.base import Delivered, Outbound, Outcome, Rejected, Retry
from messaging.policy import SendPolicy
from parley.v1 import records_pb2
from runtime import json_values
from store.reads import StoreReads

log = logging.getLogger(__name__)


def outbound(record: records_pb2.MessageRecord, channel: records_pb2.ChannelRecord) -> Outbound:
    """What the connector needs to send `record` through `channel`."""
    name = channel.channel.metadata.fields.get("name")
    return Outbound(
        message_id=record.message.id, conversation_id=record.conversation_id,
        source=channel.channel.source,
        source_channel_id=channel.channel.source_channel_id,
        channel_name=name.string_value if name is not None else "",
        recipient=record.recipient_source_id,
        content=json_values.from_value(record.message.content), secrets=dict(channel.secrets),
    )


async def attempt_delivery(http: httpx.AsyncClient, policy: SendPolicy,
                           record: records_pb2.MessageRecord,
                           channel: records_pb2.ChannelRecord | None,
                           reads: StoreReads) -> Delivered | Rejected:
    """Send `record` through `channel`: Delivered, or Rejected with why (the source's own error,
    the last transient error once the retries are spent, or why it was not tried)."""
    pending_for_s = time.time() - record.pending_since_ms / 1000
    if pending_for_s > policy.stale_after_s:
        return Rejected(f"not sent: pending for {pending_for_s:.0f} s, longer than the "
                        f"{policy.stale_after_s:.0f} s limit")
    if channel is None or not channel.channel.connected:
        return Rejected(f"not sent: channel {record.channel_id} is disconnected")
    found = await connector_for(channel.channel.source, reads)
    if found is None:
        return Rejected(f"not sent: source {channel.channel.source!r} has no connector "
                        "(a custom source needs an action_endpoint)")
    connector, config = found
    message = outbound(record, channel)
    outcome: Outcome = Retry("not tried")
    for number in range(1, policy.attempts + 1):
        try:
            # The whole exchange is bounded, not each read: a slow trickle is a timeout too.
            async with asyncio.timeout(policy.timeout_s):
                response = await http.send(connector.request(message, config))
            outcome = connector.outcome(response)
        except (TimeoutError, httpx.TimeoutException):
            outcome = Retry(f"timeout: no answer within {policy.timeout_s:g} s")
        except httpx.TransportError as exc:
            outcome = Retry(f"connection error: {type(exc).__name__}")
        if not isinstance(outcome, Retry):
            return outcome
        log.info("message %s: attempt %d of %d failed (%s)", record.message.id, number,
                 policy.attempts, outcome.error)
        if number < policy.attempts:
            await asyncio.sleep(policy.backoff_s(number))
    return Rejected(f"{outcome.error} (gave up after {policy.attempts} attempts)")
