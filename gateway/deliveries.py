"""Webhook deliveries in Redis (durable: `parley rebuild` keeps them): one hash per delivery of an
event to a webhook, a schedule of the attempts due, and a log per webhook. An event id is
`<slot>.<entry id>` (`store.client.LoggedEvent.id`): unique across the event log's streams.

- `due`: sorted set of `<webhook id>|<event id>` scored by when the next attempt is due (ms);
- `delivery`: hash `type`, `body` (the JSON POSTed), `created_ms`, `status` (pending, delivered,
  failed) and `attempts` (JSON list of {attempted_at, http_status, latency_ms, error});
- `log`: per webhook, sorted set of `<created_ms:015d>:<event id>` (lexical, all scores 0), the
  most recent `LOG_KEPT` deliveries;
- `failing`: per webhook, since when (ms) its deliveries fail; removed by a success;
- `rejected`: stream of the events and deliveries that could not be processed by their own fault
  (`what`: event id or delivery, `reason`), the most recent `LOG_KEPT`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


from parley.v1 import webhooks_pb2
from runtime import redis as runtime_redis
from runtime.settings import Settings
from runtime.redis import Client
from store import pages

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
#: Deliveries listed per webhook at most; older ones leave the log (and expire after KEPT_S).
LOG_KEPT = 10_000
KEPT_S = 30 * 24 * 3600


@dataclass(frozen=True)
class DeliveryKeys:
    """Key names of the deliveries."""

    settings: Settings

    def _key(self, *parts: str) -> str:
        """A durable key of the deliveries. They share one hash tag: a delivery's attempt, its
        schedule and the webhook's failing streak change in one MULTI/EXEC, which a Redis
        Cluster runs only within one slot."""
        tag = "{" + f"{self.settings.namespace or 'parley'}:webhooks" + "}"
        return ":".join((tag, runtime_redis.DURABLE, *parts))

    def due(self) -> str:
        """Sorted set: deliveries by when their next attempt is due."""
        return self._key("due")

    def delivery(self, webhook_id: str, event_id: str) -> str:
        """Hash: one event's delivery to one webhook."""
        return self._key("delivery", webhook_id, event_id)

    def log(self, webhook_id: str) -> str:
        """Sorted set: a webhook's deliveries, by creation."""
        return self._key("log", webhook_id)

    def failing(self, webhook_id: str) -> str:
        """String: since when (epoch ms) a webhook's deliveries fail."""
        return self._key("failing", webhook_id)

    def rejected(self) -> str:
        """Stream: events and deliveries that could not be processed, with the reason."""
        return self._key("rejected")


def due_member(webhook_id: str, event_id: str) -> str:
    """The `due` member of a delivery."""
    return f"{webhook_id}|{event_id}"


def log_member(created_ms: int, event_id: str) -> str:
    """The `log` member of a delivery (lexical order is creation order)."""
    return f"{created_ms:015d}:{event_id}"


def attempt(attempted_at: str, http_status: int, latency_ms: int, error: str) -> dict[str, Any]:
    """One attempt as the log keeps it."""
    return {"attempted_at": attempted_at, "http_status": http_status, "latency_ms": latency_ms,
            "error": error}


def served(event_id: str, fields: dict[bytes, bytes]) -> webhooks_pb2.WebhookDelivery:
    """A delivery hash as the API serves it."""
    return webhooks_pb2.WebhookDelivery(
        event_id=event_id, event_type=fields[b"type"].decode(), status=fields[b"status"].decode(),
        attempts=[webhooks_pb2.DeliveryAttempt(**a) for a in json.loads(fields[b"attempts"])])


async def page(redis: Client, keys: DeliveryKeys, webhook_id: str, cursor: str,
               page_size: int) -> webhooks_pb2.ListWebhookDeliveriesResponse:
    """A page of a webhook's delivery log, newest first (`next_cursor` walks back in time)."""
    found = await pages.newest_first(redis, keys.log(webhook_id), cursor, page_size)
    event_ids = [pages.member_id(m) for m in reversed(found.members)]
    pipe = redis.pipeline(transaction=False)
    for event_id in event_ids:
        pipe.hgetall(keys.delivery(webhook_id, event_id))
    hashes = await pipe.execute() if event_ids else []
    return webhooks_pb2.ListWebhookDeliveriesResponse(
        data=[served(e, h) for e, h in zip(event_ids, hashes) if h],
        pagination_data=pages.pagination(found))
