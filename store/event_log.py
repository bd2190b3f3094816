"""Reading the realtime event log the projector writes: one Redis stream per partition number and
a global one (`StoreKeys.event_streams`, `store.events` for the entries).

On Redis Cluster those streams live on different nodes, so no command here names two of them:
readers read each stream on its own and merge. Resume tokens are positions in every stream
(`store.event_positions`): reading after one gives exactly the events that came after it. The
streams keep about `PARLEY_EVENTS_RETAINED` events in all; a token older than what was trimmed
of any stream is OUT_OF_RANGE, never a silent gap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from parley.v1 import resources_pb2
from runtime.errors import OutOfRange
from runtime.redis import Client
from store import event_positions, events, views
from store.event_positions import Position, Vector
from store.keys import StoreKeys

#: A stream entry as XREAD / XREADGROUP give it.
Entry = tuple[bytes, dict[bytes, bytes]]
#: An entry by its head, with its event when it was wanted (`EventLog.chosen`).
Chosen = tuple["Head", "LoggedEvent | None"]


def _entries(reply: Any) -> list[Entry]:
    """The entries of the one stream an XREAD or XREADGROUP read, `[[name, entries]]` (RESP2,
    which Parley's clients speak; redis-py types the reply for RESP3 as well)."""
    return list(reply[0][1]) if reply else []


@dataclass(frozen=True)
class Head:
    """What subscribers and webhooks choose an event by, read from its entry's plain fields: an
    event is decoded (its payload built, the costly part) only when someone wants it."""

    type: str
    conversation_id: str
    channel_id: str
    #: Its stream (`StoreKeys.event_streams` index) and where it is there (its entry id).
    slot: int
    position: Position


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log, with what subscribers filter on and where it is in the log."""

    event: resources_pb2.Event
    conversation_id: str
    channel_id: str
    #: The stream it is in (`StoreKeys.event_streams` index) and its entry id there.
    slot: int
    position: Position
    #: Unique across the streams: `<slot>.<entry id>` (`event_positions.event_id`).
    id: str
    #: The trace context it was emitted in ("" : none), for the spans of whoever serves it.
    traceparent: str = ""

    @property
    def entry_id(self) -> str:
        """Its entry id in its stream."""
        return self.id.partition(".")[2]

    @property
    def head(self) -> Head:
        """What it is chosen by."""
        return Head(self.event.type, self.conversation_id, self.channel_id, self.slot,
                    self.position)


class EventLog:
    """Reads of the event log; conversation.updated events are filled in as served."""

    def __init__(self, redis: Client, keys: StoreKeys) -> None:
        self.redis = redis
        self.keys = keys
        self.names = keys.event_streams()

    @property
    def streams(self) -> int:
        """How many streams the log has (slots 0..streams-1, the global one last)."""
        return len(self.names)

    def event_id(self, slot: int, entry_id: str) -> str:
        """The id of entry `entry_id` of stream `slot`, unique across the streams."""
        return event_positions.event_id(slot, self.streams, entry_id)

    def token(self, vector: Vector) -> str:
        """The resume token of a position."""
        return event_positions.encode(vector)

    async def head_vector(self) -> Vector:
        """The position of the newest event of every stream: reading after it is live."""
        pipe = self.redis.pipeline(transaction=False)
        for name in self.names:
            pipe.xrevrange(name, count=1)
        newest = await pipe.execute()
        return tuple(event_positions.entry_position(found[0][0].decode()) if found
                     else event_positions.ORIGIN for found in newest)

    async def head(self) -> str:
        """The token of `head_vector`."""
        return self.token(await self.head_vector())

    async def check_resumable(self, token: str) -> Vector:
        """The position of `token`; InvalidArgument when it is none, OutOfRange when events
        after it were trimmed from a stream already."""
        vector = event_positions.decode(token, self.streams)
        pipe = self.redis.pipeline(transaction=False)
        for name in self.names:
            pipe.xinfo_stream(name)
        for position, info in zip(vector, await pipe.execute(raise_on_error=False), strict=True):
            # No stream yet: nothing was trimmed.
            if not isinstance(info, Exception) and position < _resumable_from(info):
                raise OutOfRange(f"resume_token {token[:60]} is older than the retained events; "
                                 "subscribe without one and reload what you show")
        return vector

    async def read(self, slot: int, after: Position, count: int,
                   block_ms: int | None = None) -> list[Entry]:
        """Up to `count` entries of stream `slot` after `after`, oldest first (`head` and
        `decode` read them); with `block_ms`, waits that long for one when there is none yet."""
        found = await self.redis.xread({self.names[slot]: f"{after[0]}-{after[1]}"}, count=count,
                                       block=block_ms)
        return _entries(found)

    async def replay(self, since: Vector, batch: int, wanted: Callable[[Head], bool]
                     ) -> AsyncIterator[Chosen]:
        """Every event after `since` up to the end of each stream as it is read, the streams
        merged by entry id (each stream's order is kept: a conversation's events are all in one
        stream), decoded when `wanted` (`chosen`); reads `batch` events of a stream at a time."""
        cursor = list(since)
        waiting: list[deque[Chosen]] = [deque() for _ in self.names]
        unread = set(range(self.streams))
        while True:
            # The earliest event is known once every stream not read to its end has one waiting.
            for slot in sorted(unread):
                if not waiting[slot]:
                    entries = await self.read(slot, cursor[slot], batch)
                    waiting[slot].extend(await self.chosen(slot, entries, wanted))
                    if len(entries) < batch:
                        unread.discard(slot)
            ready = [slot for slot in range(self.streams) if waiting[slot]]
            if not ready:
                return
            slot = min(ready, key=lambda s: waiting[s][0][0].position)
            item = waiting[slot].popleft()
            cursor[slot] = item[0].position
            yield item

    async def create_group(self, group: str) -> None:
        """Create consumer group `group` on every stream (and the streams), reading from their
        end; one that exists already is kept."""
        for name in self.names:
            try:
                await self.redis.xgroup_create(name, group, id="$", mkstream=True)
            except aioredis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def read_group(self, slot: int, group: str, consumer: str, count: int, block_ms: int,
                         stale_ms: int) -> list[Entry]:
        """For `consumer` of `group`: the entries of stream `slot` another consumer held for
        `stale_ms` without acknowledging them (it died), then new ones (waiting up to
        `block_ms` for one)."""
        name = self.names[slot]
        # [next id, claimed entries(, deleted ids on Redis 7)]
        stale = (await self.redis.xautoclaim(name, group, consumer, stale_ms, count=count))[1]
        fresh = await self.redis.xreadgroup(group, consumer, {name: ">"}, count=count,
                                            block=block_ms)
        return list(stale) + _entries(fresh)

    async def ack(self, slot: int, group: str, entry_ids: list[str]) -> None:
        """Acknowledge entries of stream `slot` for `group`."""
        if entry_ids:
            await self.redis.xack(self.names[slot], group, *entry_ids)

    @staticmethod
    def head_of(slot: int, entry: Entry) -> Head:
        """What an entry of stream `slot` is chosen by, without decoding its event."""
        fields = entry[1]
        return Head(fields[b"type"].decode(), fields[b"conversation_id"].decode(),
                    fields[b"channel_id"].decode(), slot,
                    event_positions.entry_position(entry[0].decode()))

    async def chosen(self, slot: int, entries: list[Entry], wanted: Callable[[Head], bool]
                     ) -> list[Chosen]:
        """Each entry of stream `slot` by its head, its event decoded only when `wanted`."""
        heads = [self.head_of(slot, entry) for entry in entries]
        chosen = [wanted(head) for head in heads]
        decoded = iter(await self.decode(
            slot, [entry for entry, pick in zip(entries, chosen) if pick]))
        return [(head, next(decoded) if pick else None) for head, pick in zip(heads, chosen)]

    def parse(self, slot: int, entry: Entry) -> LoggedEvent:
        """An entry of stream `slot` as an event (a `message.*` event with its payload made from
        its record); raises when it is none."""
        entry_id, fields = entry[0].decode(), entry[1]
        event = resources_pb2.Event.FromString(fields[b"event"])
        if b"record" in fields:
            event.payload.update(events.message_payload(fields[b"record"], fields.get(b"metadata")))
        return LoggedEvent(event, fields[b"conversation_id"].decode(),
                           fields[b"channel_id"].decode(), slot,
                           event_positions.entry_position(entry_id), self.event_id(slot, entry_id),
                           fields.get(events.TRACEPARENT.encode(), b"").decode())

    async def decode(self, slot: int, entries: list[Entry]) -> list[LoggedEvent]:
        """Entries of stream `slot` as events."""
        items = [self.parse(slot, entry) for entry in entries]
        await self.fill_conversations(items)
        return items

    async def fill_conversations(self, logged: list[LoggedEvent]) -> None:
        """Complete the `conversation.updated` events of `logged` with the conversation as
        served now (their entries hold only its id)."""
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


def _resumable_from(info: dict[str, Any]) -> Position:
    """The earliest position of a stream (as XINFO STREAM describes it) after which nothing was
    removed. XDEL records the newest entry it removed, but trimming (XADD MAXLEN) does not: it
    removes entries older than the first one kept, so once any was removed, only a position at
    or past that first entry is safe (at or past the newest one when none is kept)."""
    def position(field: str) -> Position:
        value = info.get(field) or b"0-0"
        return event_positions.entry_position(
            value.decode() if isinstance(value, bytes) else str(value))

    deleted = position("max-deleted-entry-id")
    if int(info["entries-added"]) <= int(info["length"]):
        return deleted
    kept = position("recorded-first-entry-id" if info["length"] else "last-generated-id")
    return max(deleted, kept)
