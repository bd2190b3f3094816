"""Reading the realtime event log (`StoreKeys.events`, written by the store's projector).

Resume tokens are the log's stream entry ids ("<ms>-<seq>"): reading after one gives exactly the
events that came after it. The log keeps about `PARLEY_EVENTS_RETAINED` events; a token older
than what was trimmed is OUT_OF_RANGE, never a silent gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import redis.asyncio as aioredis

from parley.v1 import resources_pb2
from runtime.errors import InvalidArgument, OutOfRange
from store import events, views
from store.keys import StoreKeys

_TOKEN = re.compile(r"^\d{1,20}-\d{1,20}$")


def position(token: str) -> tuple[int, int]:
    """A resume token as a comparable (ms, seq) pair."""
    ms, seq = token.split("-")
    return int(ms), int(seq)


def check_token(token: str) -> None:
    """InvalidArgument unless `token` is a resume token's shape."""
    if not _TOKEN.match(token):
        raise InvalidArgument(f"resume_token {token!r} is not a resume token")


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log, with what subscribers filter on."""

    event: resources_pb2.Event
    conversation_id: str
    channel_id: str

    @property
    def token(self) -> str:
        """This event's resume token (its log entry id)."""
        return self.event.resume_token


class EventLog:
    """Reads of the event log; conversation.updated events are filled in as served."""

    def __init__(self, redis: aioredis.Redis, keys: StoreKeys) -> None:
        self.redis = redis
        self.keys = keys

    async def head(self) -> str:
        """The token of the newest event ("0-0" when there is none): reading after it is live."""
        newest = await self.redis.xrevrange(self.keys.events(), count=1)
        return newest[0][0].decode() if newest else "0-0"

    async def check_resumable(self, token: str) -> None:
        """OutOfRange when events after `token` were trimmed from the log already."""
        check_token(token)
        try:
            info = await self.redis.xinfo_stream(self.keys.events())
        except aioredis.ResponseError:
            return  # no log yet: nothing was trimmed
        trimmed = info.get("max-deleted-entry-id", b"0-0")
        trimmed = trimmed.decode() if isinstance(trimmed, bytes) else str(trimmed)
        if position(token) < position(trimmed):
            raise OutOfRange(f"resume_token {token} is older than the retained events; "
                             "subscribe without one and reload what you show")

    async def after(self, token: str, count: int, block_ms: int | None = None) -> list[LoggedEvent]:
        """Up to `count` events after `token`, oldest first; with `block_ms`, waits that long for
        one when there is none yet."""
        found = await self.redis.xread({self.keys.events(): token}, count=count, block=block_ms)
        return await self.decode(found[0][1] if found else [])

    async def decode(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[LoggedEvent]:
        """Log entries (as XREAD / XREADGROUP give them) as events."""
        items = [logged(entry_id.decode(), fields) for entry_id, fields in entries]
        await self._fill_conversations(items)
        return items

    async def _fill_conversations(self, logged: list[LoggedEvent]) -> None:
        wanted = [e for e in logged if e.event.type == events.CONVERSATION_UPDATED]
        if not wanted:
            return
        served = {c.id: c for c in await views.load_conversations(
            self.redis, self.keys, sorted({e.conversation_id for e in wanted}))}
        for item in wanted:
            conversation = served.get(item.conversation_id)
            if conversation is None:
                continue
            item.event.payload.update({
                "created_at": conversation.created_at, "channel_id": conversation.channel.id,
                "metadata": events.as_json(conversation)["metadata"],
                "last_message": events.as_json(conversation.last_message),
            })


def logged(entry_id: str, fields: dict[bytes, bytes]) -> LoggedEvent:
    """A log entry as an event whose resume token is the entry id (a `message.*` event with its
    payload made from its record)."""
    event = resources_pb2.Event.FromString(fields[b"event"])
    event.resume_token = entry_id
    if b"record" in fields:
        event.payload.update(events.message_payload(fields[b"record"]))
    return LoggedEvent(event, fields[b"conversation_id"].decode(), fields[b"channel_id"].decode())
