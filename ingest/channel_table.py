"""The channels as the translator sees them: the compacted `parley.channels` topic, in memory.

Events of a channel that is not connected are not translated (they stay in the raw topic, and
reprocessing brings them in once the channel is connected).
"""

from __future__ import annotations

import asyncio
import logging
import time

from google.protobuf.message import DecodeError

from parley.v1 import records_pb2
from runtime import kafka, topics
from runtime.settings import Settings

log = logging.getLogger(__name__)

#: How long a lookup of an unknown channel waits for the table to catch up with the topic.
CATCH_UP_TIMEOUT_S = 5.0


class ChannelTable:
    """Connected channel ids, kept current by reading `parley.channels` from its start."""

    def __init__(self, settings: Settings) -> None:
        self.topic = settings.prefixed(topics.CHANNELS)
        self.consumer = kafka.consumer(settings, None)
        self.consumer.subscribe([self.topic])
        self.connected: set[str] = set()
        self.task: asyncio.Task[None] | None = None
        #: Wall-clock time (epoch ms) at which the last completed `caught_up` started: every
        #: channel record written before it has been read.
        self.complete_as_of_ms = 0

    async def start(self) -> None:
        """Start following the topic."""
        await self.consumer.start()
        self.task = asyncio.create_task(self._follow(), name="channel-table")

    async def stop(self) -> None:
        """Stop following the topic."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.consumer.stop()

    def is_connected(self, channel_id: str) -> bool:
        """True when the channel is connected, as far as the table has read."""
        return channel_id in self.connected

    async def caught_up(self) -> None:
        """Wait until the table has read every channel record written before this call."""
        started_ms = int(time.time() * 1000)
        deadline = asyncio.get_running_loop().time() + CATCH_UP_TIMEOUT_S
        while not self.consumer.assignment():
            if asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(0.02)
        ends = await self.consumer.end_offsets(list(self.consumer.assignment()))
        for tp, end in ends.items():
            while await self.consumer.position(tp) < end:
                if asyncio.get_running_loop().time() > deadline:
                    log.warning("channel table still behind on %s after %ss", tp, CATCH_UP_TIMEOUT_S)
                    return
                await asyncio.sleep(0.02)
        self.complete_as_of_ms = started_ms

    async def _follow(self) -> None:
        async for message in self.consumer:
            try:
                record = records_pb2.ChannelRecord.FromString(message.value)
            except DecodeError:
                log.warning("unreadable channel record at %s@%d", message.topic, message.offset)
                continue
            if record.channel.connected and not record.deleted:
                self.connected.add(record.channel.id)
            else:
                self.connected.discard(record.channel.id)
