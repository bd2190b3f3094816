"""One way to start a service process: `run(name, build)` loads the settings, sets up logging,
opens what every service shares (its Redis client, a Kafka producer when it asks for one), lets
`build` declare the gRPC services and background tasks, serves them (`runtime.server.serve`)
and closes everything in reverse order, however the process ends.

A service's `__main__` is then its declaration alone:

    async def build(process: Process) -> Plan:
        producer = await process.producer()
        return Plan([Registration.of(...)], background=[...])

    if __name__ == "__main__":
        run("ingest", build)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from runtime import kafka
from runtime import logging as runtime_logging
from runtime import redis as runtime_redis
from runtime import settings as settings_module
from runtime.server import Registration, Task, serve
from runtime.settings import Settings

@dataclass(frozen=True)
class Plan:
    """What a service process runs: its gRPC services and its background tasks."""

    registrations: Sequence[Registration]
    background: Sequence[Task] = ()


@dataclass
class Process:
    """What a service is built from: its settings, its Redis client, and, on request, a started
    Kafka producer. Whatever it opens is closed when the process stops (`on_close`)."""

    settings: Settings
    redis: runtime_redis.Client
    closing: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    _producer: AIOKafkaProducer | None = None

    async def producer(self) -> AIOKafkaProducer:
        """The process's producer (acks=all, idempotent), started on the first call."""
        if self._producer is None:
            self._producer = kafka.producer(self.settings)
            await self._producer.start()
            self.on_close(self._producer.stop)
        return self._producer

    def on_close(self, close: Callable[[], Awaitable[object]]) -> None:
        """Have `close` awaited when the process stops (the last registered first)."""
        self.closing.push_async_callback(close)


#: A process's name, or how its settings name it (a projector: `PARLEY_PROCESS`).
Name = str | Callable[[Settings], str]


async def _main(named: Name, build: Callable[[Process], Awaitable[Plan]]) -> None:
    settings = settings_module.load()
    name = named(settings) if callable(named) else named
    runtime_logging.configure(name, settings.log_level)
    redis = runtime_redis.client(settings)
    process = Process(settings, redis)
    async with process.closing:
        process.on_close(redis.aclose)
        plan = await build(process)
        await serve(name, settings, plan.registrations, background=plan.background)


def run(name: Name, build: Callable[[Process], Awaitable[Plan]]) -> None:
    """Run service process `name` as `build` declares it, until SIGTERM/SIGINT or a task fails."""
    asyncio.run(_main(name, build))
