"""The webhook dispatcher: every event of the log, to every webhook that wants it, signed per the
Standard Webhooks spec, retried on a schedule, each attempt logged (`gateway.deliveries`).

Intake reads each stream of the event log through a Redis consumer group of its own, creates an
event's deliveries (each write idempotent) and then acknowledges it: no event is lost across
restarts, and one taken again creates no delivery twice. An event (or a delivery) that cannot be
processed by its own fault is recorded with the reason (`DeliveryKeys.rejected`) and
acknowledged (or failed), never blocking the others. A delivery is named by its webhook and its
event's id, `<slot>.<entry id>` (unique across the streams), also its `webhook-id`. The
sender claims due deliveries (a lease, so a crashed process's attempt is retried after it) and
records each attempt's outcome; a delivered one is never attempted again. A receiver that
answered 2xx while the process died before recording it gets it again (same `webhook-id`, by
which receivers deduplicate, as the spec says).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx

from gateway import deliveries
from gateway.deliveries import DeliveryKeys
from parley.v1 import records_pb2
from runtime import metrics, outbound, standard_webhooks, timestamps
from runtime.record_failures import isolate
from runtime.retry import RetryPolicy
from runtime.service_settings import (WEBHOOK_DISABLE_AFTER_S, WEBHOOK_RETRY_S,
                                      WEBHOOK_TIMEOUT_S)
from runtime.setting import declared, read_fields
from runtime.redis import Client, text
from store.client import Entry, EventLog, Head, LoggedEvent, StoreReads, events

log = logging.getLogger(__name__)

GROUP = "webhook-dispatcher"
SUBSCRIBED = "Subscribed"
#: An event held by a consumer for this long without being acknowledged is taken over.
STALE_MS = 60_000
#: Deliveries attempted at once at most.
CONCURRENCY = 64

# Takes a due delivery for `lease` ms: only one sender attempts it at a time.
_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Policy:
    """Retries and limits of webhook deliveries: the `PARLEY_WEBHOOK_*` settings
    (`runtime.service_settings`)."""

    #: The attempts of one delivery (`PARLEY_WEBHOOK_RETRY_S`): the pauses, then it fails.
    retry: RetryPolicy = RetryPolicy(WEBHOOK_RETRY_S.default)
    timeout_s: float = declared(WEBHOOK_TIMEOUT_S)
    #: A webhook whose every delivery failed this long is disabled.
    disable_after_s: float = declared(WEBHOOK_DISABLE_AFTER_S)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Policy:
        """The policy configured in the environment (or `env`)."""
        return read_fields(cls, env, retry=RetryPolicy(WEBHOOK_RETRY_S.read(env)))


def wants(webhook: records_pb2.WebhookRecord, head: Head) -> bool:
    """The delivery rule: subscribed, the event not older than the subscription, a type it asked
    for (all when it names none)."""
    return (webhook.webhook.status == SUBSCRIBED
            and head.position[0] >= webhook.created_at_ms
            and (not webhook.webhook.events or head.type in webhook.webhook.events))


def body(item: LoggedEvent) -> str:
    """What a webhook receives: the event as `{type, payload, timestamp}`."""
    event = events.as_json(item.event)
    event.pop("resume_token", None)
    return json.dumps(event, separators=(",", ":"))


def signed_headers(webhook: records_pb2.WebhookRecord, event_id: str, payload: str,
                   now: datetime) -> dict[str, str]:
    """The webhook's own headers, then the Standard Webhooks ones (which they cannot override)."""
    return {**webhook.webhook.headers,
            **standard_webhooks.signed_headers(webhook.signature_key, event_id, payload, now)}


async def _deliveries_of(item: LoggedEvent, webhooks: Sequence[records_pb2.WebhookRecord]
                         ) -> list[tuple[records_pb2.WebhookRecord, str]]:
    """The webhooks that want `item`, each with the body it is sent."""
    wanted = [webhook for webhook in webhooks if wants(webhook, item.head)]
    payload = body(item) if wanted else ""
    return [(webhook, payload) for webhook in wanted]


Disable = Callable[[records_pb2.WebhookRecord, str], Coroutine[Any, Any, None]]


@dataclass
class Dispatcher:
    """Creates and sends deliveries until cancelled (`run`)."""

    redis: Client
    event_log: EventLog
    reads: StoreReads
    keys: DeliveryKeys
    policy: Policy
    #: Writes the webhook disabled (through Kafka, like every webhook change).
    disable: Disable
    #: Networks deliveries may reach although they are not global (`runtime.outbound`).
    outbound_allow: Sequence[outbound.Network] = ()
    consumer: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    in_flight: set[str] = field(default_factory=set)

    async def run(self) -> None:
        """Take in events and send deliveries until cancelled."""
        await self.event_log.create_group(GROUP)
        claim = self.redis.register_script(_CLAIM)
        # Webhook URLs are user-given: every connection is checked (`runtime.outbound`).
        async with outbound.client(self.outbound_allow) as http:
            # One intake per stream: on Redis Cluster no command may name two streams.
            await asyncio.gather(*(self._intake(slot) for slot in range(self.event_log.streams)),
                                 self._send(http, claim))

    async def _intake(self, slot: int) -> None:
        while True:
            entries = await self.event_log.read_group(slot, GROUP, self.consumer, count=100,
                                                   block_ms=1000, stale_ms=STALE_MS)
            if not entries:
                continue
            webhooks = [w for w in await self.reads.webhooks() if w.webhook.status == SUBSCRIBED]
            # Only what a webhook wants is decoded (its payload built): most of a busy log is
            # wanted by none.
            items = []
            for entry in entries:
                item = await isolate(partial(self._wanted, slot, entry, webhooks),
                                     partial(self._reject, slot, entry[0].decode()))
                if item is not None:
                    items.append(item)
            await self.event_log.fill_conversations(items)
            await self._take(items, webhooks)
            await self.event_log.ack(slot, GROUP, [entry[0].decode() for entry in entries])

    async def _wanted(self, slot: int, entry: Entry,
                      webhooks: Sequence[records_pb2.WebhookRecord]) -> LoggedEvent | None:
        """The log entry as an event when one of `webhooks` wants it, else None (raises when it
        reads as no event)."""
        head = self.event_log.head_of(slot, entry)
        if not any(wants(w, head) for w in webhooks):
            return None
        return self.event_log.parse(slot, entry)

    async def _record_rejected(self, what: str, reason: str) -> None:
        """Record why event or delivery `what` cannot be processed."""
        log.warning("webhook dispatcher: %s rejected: %s", what, reason)
        await self.redis.xadd(self.keys.rejected(), {"what": what, "reason": reason},
                              maxlen=deliveries.LOG_KEPT, approximate=True)

    async def _reject(self, slot: int, entry_id: str, reason: str) -> None:
        """Record why entry `entry_id` of stream `slot` cannot be taken in; acknowledge it."""
        await self._record_rejected(self.event_log.event_id(slot, entry_id), reason)
        await self.event_log.ack(slot, GROUP, [entry_id])

    async def _take(self, items: Sequence[LoggedEvent],
                    webhooks: Sequence[records_pb2.WebhookRecord]) -> None:
        """Create the deliveries of `items` to `webhooks` (the caller then acknowledges them).

        Not one transaction: on Redis Cluster the deliveries, the schedule and the stream are on
        different nodes. Every write is idempotent instead (NX), so a process that dies before
        the acknowledgement leaves the events pending, and the consumer that takes them over
        (`STALE_MS`) writes the same deliveries again without changing or doubling any. The
        hashes are written before the schedule names them: the sender drops a due delivery
        whose hash it does not find.
        """
        now = timestamps.now_ms()
        hashes = self.redis.pipeline(transaction=False)
        schedule = self.redis.pipeline(transaction=False)
        for item in items:
            wanted = await isolate(partial(_deliveries_of, item, webhooks),
                                   partial(self._reject, item.slot, item.entry_id))
            for webhook, payload in wanted or ():
                wid = webhook.webhook.id
                key = self.keys.delivery(wid, item.id)
                # NX: an event taken over from a stale consumer never resets a delivery.
                for name, value in (("type", item.event.type), ("body", payload),
                                    ("created_ms", now), ("status", deliveries.PENDING),
                                    ("attempts", "[]")):
                    hashes.hsetnx(key, name, value)
                schedule.zadd(self.keys.due(), {deliveries.due_member(wid, item.id): now}, nx=True)
                schedule.zadd(self.keys.log(wid), {deliveries.log_member(now, item.id): 0}, nx=True)
                schedule.zremrangebyrank(self.keys.log(wid), 0, -deliveries.LOG_KEPT - 1)
        await hashes.execute()
        await schedule.execute()

    async def _send(self, http: httpx.AsyncClient, claim: Any) -> None:
        tasks: set[asyncio.Task[None]] = set()
        while True:
            now = timestamps.now_ms()
            due = await self.redis.zrangebyscore(self.keys.due(), "-inf", now, start=0,
                                                 num=CONCURRENCY)
            for raw in due:
                member = text(raw)
                if member in self.in_flight or len(self.in_flight) >= CONCURRENCY:
                    continue
                lease_ms = now + int((self.policy.timeout_s + 30) * 1000)
                if await claim(keys=[self.keys.due()], args=[member, now, lease_ms]):
                    self.in_flight.add(member)
                    task = asyncio.create_task(self._attempt(http, member))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            await asyncio.sleep(0.05)

    async def _attempt(self, http: httpx.AsyncClient, member: str) -> None:
        try:
            await isolate(partial(self._deliver, http, member), partial(self._give_up, member))
        except Exception:  # noqa: BLE001 - Redis away: the lease runs out and it is tried again
            log.exception("webhook delivery %s failed to run", member)
        finally:
            self.in_flight.discard(member)

    async def _give_up(self, member: str, reason: str) -> None:
        """A delivery that cannot be attempted by its own fault: failed, never due again."""
        webhook_id, _, event_id = member.partition("|")
        key = self.keys.delivery(webhook_id, event_id)
        await self._finish(key, member, None, deliveries.FAILED)
        await self._record_rejected(member, reason)

    async def _deliver(self, http: httpx.AsyncClient, member: str) -> None:
        webhook_id, event_id = member.split("|", 1)
        key = self.keys.delivery(webhook_id, event_id)
        fields = await self.redis.hgetall(key)
        webhook = await self.reads.webhook(webhook_id)
        if not fields or fields[b"status"] != deliveries.PENDING.encode():
            await self.redis.zrem(self.keys.due(), member)
            return
        if webhook is None or webhook.deleted or webhook.webhook.status != SUBSCRIBED:
            # Unsubscribed or disabled since: what was still due is not sent.
            await self._finish(key, member, None, deliveries.FAILED)
            return
        payload = text(fields[b"body"])
        now = datetime.now(UTC)
        started = time.perf_counter()
        status, error = 0, ""
        try:
            response = await http.post(webhook.webhook.url, content=payload.encode(),
                                       headers=signed_headers(webhook, event_id, payload, now),
                                       timeout=self.policy.timeout_s)
            status = response.status_code
            error = "" if response.is_success else f"HTTP {status}"
        except outbound.Refused as exc:
            error = f"refused: {exc}"
        except httpx.TimeoutException:
            error = f"timeout: no answer within {self.policy.timeout_s:g} s"
        except httpx.HTTPError as exc:
            error = f"connection error: {type(exc).__name__}"
        metrics.WEBHOOK_LATENCY.observe(time.perf_counter() - started)
        latency_ms = int((time.perf_counter() - started) * 1000)
        attempt = deliveries.attempt(timestamps.format_ms(int(now.timestamp() * 1000)), status,
                                     latency_ms, error)
        attempts = json.loads(fields[b"attempts"]) + [attempt]
        if not error:
            await self._finish(key, member, attempts, deliveries.DELIVERED, webhook_id)
            return
        pause = self.policy.retry.pause_after(len(attempts))
        if pause is None:
            await self._finish(key, member, attempts, deliveries.FAILED)
        else:
            next_ms = timestamps.now_ms() + int(pause * 1000)
            await self._finish(key, member, attempts, deliveries.PENDING, next_ms=next_ms)
        await self._note_failure(webhook, error)

    async def _finish(self, key: str, member: str,
                      attempts: list[dict[str, Any]] | None, status: str,
                      succeeded: str = "", next_ms: int | None = None) -> None:
        """Record an attempt: the delivery's attempts and status, and when it is due again (None:
        never); a success (`succeeded`: the webhook id) ends the webhook's failing streak."""
        pipe = self.redis.pipeline(transaction=True)
        if attempts is not None:
            pipe.hset(key, "attempts", json.dumps(attempts))
        pipe.hset(key, "status", status)
        if next_ms is None:
            pipe.zrem(self.keys.due(), member)
            pipe.expire(key, deliveries.KEPT_S)
        else:
            pipe.zadd(self.keys.due(), {member: next_ms})
        if succeeded:
            pipe.delete(self.keys.failing(succeeded))
        await pipe.execute()
        metrics.WEBHOOK_DELIVERIES.labels("retry" if status == deliveries.PENDING else status).inc()

    async def _note_failure(self, webhook: records_pb2.WebhookRecord, error: str) -> None:
        """Remember since when the webhook fails; disable it once that is too long."""
        now_ms = timestamps.now_ms()
        failing = self.keys.failing(webhook.webhook.id)
        await self.redis.set(failing, now_ms, nx=True)
        since = int(await self.redis.get(failing) or now_ms)
        if now_ms - since >= self.policy.disable_after_s * 1000:
            await self.disable(webhook, f"every delivery failed for {(now_ms - since) / 1000:.0f} s "
                                        f"(since {timestamps.format_ms(since)}); last error: {error}")
            await self.redis.delete(failing)
