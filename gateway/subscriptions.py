"""Subscriptions to realtime events: one reader of the event log per gateway process fans live
events out to each subscriber's bounded queue; a subscriber with a resume token first replays
the log from it.

The log is several streams (`store.event_positions`): the reader follows each with a blocking
read of its own, and keeps per stream the position of the last event it fanned out. Each event
a subscriber gets carries the resume token of everything the subscriber has seen or skipped by
then: that position with the event's stream advanced.

Memory per subscriber is bounded: a subscriber whose queue is full (it reads slower than events
come) is cut with a `stream.error` event, and can resume from the last token it saw. A stopping
gateway ends every stream the same way, and so does a stream's `Ending` when its time comes (a
chat plugin visitor's token expiring).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import grpc

from parley.v1 import resources_pb2
from runtime import tracing
from runtime.service_settings import EVENTS_HEARTBEAT_S, EVENTS_SUBSCRIBER_BUFFER
from runtime.setting import declared, read_fields
from store.client import EventLog, Head, LoggedEvent, event_positions, events

log = logging.getLogger(__name__)

HEARTBEAT = "heartbeat"
STREAM_ERROR = "stream.error"
#: Events read from the log per round trip.
BATCH = 500


@dataclass(frozen=True)
class Limits:
    """Heartbeat interval and per-subscriber buffer (events): the `PARLEY_EVENTS_HEARTBEAT_S` and
    `_SUBSCRIBER_BUFFER` settings (`runtime.service_settings`)."""

    heartbeat_s: float = declared(EVENTS_HEARTBEAT_S)
    buffer: int = declared(EVENTS_SUBSCRIBER_BUFFER)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Limits:
        """The limits configured in the environment (or `env`)."""
        return read_fields(cls, env)


@dataclass(frozen=True)
class Filter:
    """Which events a subscriber wants; the parts combine with AND, empty parts match all."""

    types: frozenset[str] = frozenset()
    conversation_id: str = ""
    channel_id: str = ""

    @classmethod
    def of(cls, types: list[str], conversation_id: str, channel_id: str) -> Filter:
        """A filter; InvalidArgument for an unknown event type."""
        return cls(frozenset(events.check_types(types)), conversation_id, channel_id)

    def matches(self, head: Head) -> bool:
        """True when the event of `head` is wanted."""
        return ((not self.types or head.type in self.types)
                and (not self.conversation_id or head.conversation_id == self.conversation_id)
                and (not self.channel_id or head.channel_id == self.channel_id))


def heartbeat() -> resources_pb2.Event:
    """The event that keeps an idle stream open."""
    return events.event(HEARTBEAT, {})


def stream_error(code: grpc.StatusCode, message: str) -> resources_pb2.Event:
    """The last event of a stream the server ends."""
    return events.event(STREAM_ERROR, {"code": code.value[0], "status": code.name, "message": message})


@dataclass(frozen=True)
class Ending:
    """When the server ends a stream (epoch seconds), and the `stream.error` event it ends with."""

    at_s: float
    error: resources_pb2.Event


#: A live event as the hub fans it out: the event, and the position after it.
Live = tuple[LoggedEvent, event_positions.Vector]


@dataclass(eq=False)
class _Subscriber:
    wanted: Filter
    #: Live events, or last the `stream.error` event that ends the stream.
    queue: asyncio.Queue[Live | resources_pb2.Event]
    #: Set once the stream is ending: nothing more is queued.
    cut: bool = False

    def end(self, error: resources_pb2.Event) -> None:
        """End the stream with `error`, dropping what still waits (it can be resumed)."""
        self.cut = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(error)


@dataclass
class Hub:
    """Reads the log once for every live subscriber of this process."""

    log: EventLog
    limits: Limits
    subscribers: set[_Subscriber] = field(default_factory=set)
    #: Per stream, the position of the last event fanned out.
    read: event_positions.Vector = field(init=False)

    def __post_init__(self) -> None:
        self.read = event_positions.origin(self.log.streams)

    async def run(self) -> None:
        """Fan the log's new events out until cancelled; then end every stream with an event
        that says so (the gateway is stopping: resume elsewhere or later)."""
        try:
            self.read = await self.log.head_vector()
            # One blocking read per stream: on Redis Cluster no command may name two streams.
            await asyncio.gather(*(self._follow(slot) for slot in range(self.log.streams)))
        finally:
            for subscriber in list(self.subscribers):
                subscriber.end(stream_error(grpc.StatusCode.UNAVAILABLE, "the gateway is stopping; "
                                            "subscribe again with the last resume_token"))

    async def _follow(self, slot: int) -> None:
        """Fan out the new events of stream `slot`, until cancelled."""
        while True:
            try:
                entries = await self.log.read(slot, self.read[slot], BATCH, block_ms=1000)
                # Decoded only when a subscriber wants it (one who subscribes meanwhile, from
                # now on, may miss what was logged before).
                batch = await self.log.chosen(slot, entries, self._wanted)
            except (OSError, ConnectionError) as exc:
                log.warning("event stream %d unreachable (%s); retrying", slot, exc)
                await asyncio.sleep(1)
                continue
            for head, item in batch:
                self.read = event_positions.advanced(self.read, slot, head.position)
                if item is None:
                    continue
                item.event.resume_token = self.log.token(self.read)
                for subscriber in list(self.subscribers):
                    if not subscriber.cut and subscriber.wanted.matches(head):
                        self._offer(subscriber, (item, self.read))

    def _wanted(self, head: Head) -> bool:
        """True when some subscriber wants the event of `head`."""
        return any(not s.cut and s.wanted.matches(head) for s in self.subscribers)

    def _offer(self, subscriber: _Subscriber, live: Live) -> None:
        try:
            subscriber.queue.put_nowait(live)
        except asyncio.QueueFull:
            subscriber.end(stream_error(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"subscriber too slow: more than {self.limits.buffer} events were waiting; "
                "subscribe again with the last resume_token"))

    async def open(self, wanted: Filter, resume_token: str,
                   ending: Ending | None = None) -> AsyncIterator[resources_pb2.Event]:
        """The events `wanted` after `resume_token` ("" = from now on), then live ones, with
        heartbeats; the stream ends with a `stream.error` event when the subscriber is too slow,
        or at `ending`. Raises InvalidArgument / OutOfRange at once (not in the stream) for an
        unusable token."""
        since = await self.log.check_resumable(resume_token) if resume_token else None
        return self._events(wanted, since, ending)

    async def _events(self, wanted: Filter, since: event_positions.Vector | None,
                      ending: Ending | None) -> AsyncIterator[resources_pb2.Event]:
        subscriber = _Subscriber(wanted, asyncio.Queue(self.limits.buffer))
        self.subscribers.add(subscriber)
        timer = None if ending is None else asyncio.get_running_loop().call_later(
            max(0.0, ending.at_s - time.time()), subscriber.end, ending.error)
        try:
            # What the subscriber has seen or skipped, per stream. Registered before the replay,
            # so what comes meanwhile waits in the queue; the replay reads each stream to its
            # end, past where the hub was then.
            seen = self.read if since is None else since
            if since is not None:
                async for head, item in self.log.replay(since, BATCH, wanted.matches):
                    seen = event_positions.advanced(seen, head.slot, head.position)
                    if item is not None:
                        item.event.resume_token = self.log.token(seen)
                        tracing.served(item.event.type, item.traceparent)
                        yield item.event
            while True:
                try:
                    queued = await asyncio.wait_for(subscriber.queue.get(), self.limits.heartbeat_s)
                except TimeoutError:
                    yield heartbeat()
                    continue
                if isinstance(queued, resources_pb2.Event):
                    yield queued  # the stream's end
                    return
                item, after = queued
                if item.position <= seen[item.slot]:
                    continue  # replayed already
                # While a replay has read some stream further than the hub had, the token must
                # cover both: then the subscriber gets a copy of its own.
                seen = event_positions.later(seen, after)
                tracing.served(item.event.type, item.traceparent)
                yield item.event if seen == after else self._retokened(item.event, seen)
        finally:
            if timer is not None:
                timer.cancel()
            self.subscribers.discard(subscriber)

    def _retokened(self, event: resources_pb2.Event,
                   seen: event_positions.Vector) -> resources_pb2.Event:
        """A copy of `event` whose resume token is `seen`."""
        own = resources_pb2.Event()
        own.CopyFrom(event)
        own.resume_token = self.log.token(seen)
        return own
