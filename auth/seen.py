"""When each API token called: its first and latest call (`users.list`).

The auth service notes it as it lets calls through. It is not a projection of Kafka (`parley
rebuild` keeps it): a sorted set of token names by latest call, and a hash of their first calls,
both durable keys of the install. A process writes a token's latest call at most once a minute,
so a busy token costs one write a minute per auth replica, not one per call.
"""

from __future__ import annotations

import logging
import time

from parley.v1 import users_pb2
from runtime import timestamps
from runtime.redis import Client, durable_key, text
from runtime.settings import Settings
from store.client import pages

log = logging.getLogger(__name__)

#: How often one process writes the same token's latest call, at most.
EVERY_S = 60.0


class SeenTokens:
    """The first and latest call of each token."""

    def __init__(self, settings: Settings, redis: Client) -> None:
        self.redis = redis
        self.latest = durable_key(settings, "users", "latest")
        self.first = durable_key(settings, "users", "first")
        #: When this process last wrote each token's call (monotonic seconds); only spares writes.
        self.written: dict[str, float] = {}

    async def saw(self, name: str) -> None:
        """Note a call of the token `name` now (once a minute per token at most). A failure is
        logged, never raised: noting a call must not refuse it."""
        now = time.monotonic()
        if now - self.written.get(name, -EVERY_S) < EVERY_S:
            return
        if len(self.written) > 10_000:  # bounded, as the auth service's token cache
            self.written.clear()
        self.written[name] = now
        at_ms = timestamps.now_ms()
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.zadd(self.latest, {name: at_ms}, gt=True)
            pipe.hsetnx(self.first, name, at_ms)
            await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - Redis trouble must not refuse the call
            log.warning("noting a call of token %s failed: %s", name, exc)

    async def page(self, cursor: str, page_size: int) -> tuple[list[users_pb2.User], pages.Page]:
        """One page of the tokens that called, latest first."""
        page = await pages.newest_first_by_score(self.redis, [self.latest], cursor, page_size)
        names = [pages.member_id(m) for m in reversed(page.members)]
        firsts = await self.redis.hmget(self.first, names) if names else []
        users = [users_pb2.User(
            id=name, name=name, first_seen_at=timestamps.format_ms(int(text(first))) if first else "",
            last_seen_at=timestamps.format_ms(int(member.split(":", 1)[0])))
            for name, first, member in zip(names, firsts, reversed(page.members))]
        return users, page
