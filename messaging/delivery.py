"""Sending one pending message through its source's connector: the stale guard, the API call,
retries with backoff on transient failures, and the resulting outcome."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import httpx
from messaging.connectors import connector_for
from messaging.policy import SendPolicy
from parley.v1 import records_pb2
from runtime import json_values, outbound
from sources import custom
from sources.outbound import ConnectorConfig, Delivered, Outbound, Outcome, Rejected, Retry
from sources.spec import Connector
from store.client import StoreReads

log = logging.getLogger(__name__)


def outbound_message(record: records_pb2.MessageRecord,
                     channel: records_pb2.ChannelRecord) -> Outbound:
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


@dataclass(frozen=True)
class Clients:
    """The HTTP clients of the sender, each kept for all its messages: `operator`'s for the
    built-in sources' APIs (URLs the operator configured), `checked` for custom sources' action
    endpoints (URLs users gave: every connection is checked, `runtime.outbound`)."""

    operator: httpx.AsyncClient
    checked: httpx.AsyncClient


async def attempt_delivery(clients: Clients, policy: SendPolicy,
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
    http = clients.checked if connector is custom.CONNECTOR else clients.operator
    return await _send(http, policy, connector, config, outbound_message(record, channel))


async def _send(http: httpx.AsyncClient, policy: SendPolicy, connector: Connector,
                config: ConnectorConfig, message: Outbound) -> Delivered | Rejected:
    """Call the connector's API until it answers for good or the policy gives up."""
    number = 0
    while True:
        number += 1
        try:
            # The whole exchange is bounded, not each read: a slow trickle is a timeout too.
            async with asyncio.timeout(policy.timeout_s):
                response = await http.send(connector.request(message, config))
            outcome: Outcome = connector.outcome(response)
        except outbound.Refused as exc:
            return Rejected(f"not sent: {exc}")
        except (TimeoutError, httpx.TimeoutException):
            outcome = Retry(f"timeout: no answer within {policy.timeout_s:g} s")
        except httpx.TransportError as exc:
            outcome = Retry(f"connection error: {type(exc).__name__}")
        if not isinstance(outcome, Retry):
            return outcome
        log.info("message %s: attempt %d of %d failed (%s)", message.message_id, number,
                 policy.retry.attempts, outcome.error)
        pause = policy.retry.pause_after(number)
        if pause is None:
            return Rejected(f"{outcome.error} (gave up after {number} attempts)")
        await asyncio.sleep(pause)
