"""How every call goes out: the channel, the token, a deadline per attempt, typed errors, and
retries with backoff on UNAVAILABLE for the calls that are safe to repeat.

The blocking transport is generated from this module by scripts/unasync.py: edit this one.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from parley.errors import from_rpc_error

T = TypeVar("T")

#: Calls to an unavailable Parley are tried this often at most (idempotent calls only).
ATTEMPTS = 4
#: Backoff before the second attempt (doubling, with jitter), and its ceiling.
BACKOFF_S, MAX_BACKOFF_S = 0.2, 5.0


def backoff_s(attempt: int) -> float:
    """The pause before attempt `attempt + 1`: exponential with full jitter."""
    return random.uniform(0, min(MAX_BACKOFF_S, BACKOFF_S * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Options:
    """Where Parley is and how to call it."""

    #: host:port of Parley's public port (Envoy serves gRPC there).
    target: str
    #: API token (`Authorization: Bearer`); None reads PARLEY_TOKEN.
    token: str | None
    #: Deadline of each attempt of a unary call, in seconds.
    timeout_s: float
    #: TLS (a public install) or plaintext (a local one).
    secure: bool


class AsyncTransport:
    """One channel to Parley, shared by every area of a client."""

    def __init__(self, options: Options) -> None:
        self.options = options
        token = options.token if options.token is not None else os.environ.get("PARLEY_TOKEN", "")
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ())
        self.channel = (
            grpc.aio.secure_channel(options.target, grpc.ssl_channel_credentials())
            if options.secure else grpc.aio.insecure_channel(options.target))

    async def unary(self, method: Callable[..., Any], request: Any, *, idempotent: bool,
                    timeout_s: float | None = None) -> Any:
        """`method(request)` with the token and a deadline; a typed error when it fails. An
        idempotent call that finds Parley unavailable is tried again, with backoff."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await method(request, timeout=timeout_s or self.options.timeout_s,
                                    metadata=self.metadata)
            except grpc.RpcError as exc:
                retry = idempotent and exc.code() == grpc.StatusCode.UNAVAILABLE
                if not retry or attempt == ATTEMPTS:
                    raise from_rpc_error(exc) from None
            await asyncio.sleep(backoff_s(attempt))
        raise AssertionError("unreachable")

    async def stream(self, method: Callable[..., Any], request: Any) -> AsyncGenerator[Any, None]:
        """The messages of a server stream (no deadline: it lasts as long as it is read)."""
        call = method(request, metadata=self.metadata)
        try:
            async for item in call:
                yield item
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        finally:
            call.cancel()

    async def close(self) -> None:
        """Close the channel."""
        await self.channel.close()
