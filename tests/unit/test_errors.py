"""Errors as callers see them: an `ApiError` is its status and (bounded) message; anything else
is INTERNAL with a request id that the log line of its traceback carries too."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from runtime.errors import MAX_MESSAGE_CHARS, ApiErrorInterceptor, InvalidArgument


async def _boom(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise KeyError("internals of the store")


async def _invalid(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise InvalidArgument("bad " + "x" * 100_000)


async def _redis_away(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379")


async def _stream_boom(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    yield b"first"
    raise ZeroDivisionError


async def _call(method: str, request_id: str | None) -> grpc.aio.AioRpcError:
    handlers: dict[str, Any] = {
        "Boom": grpc.unary_unary_rpc_method_handler(_boom),
        "Invalid": grpc.unary_unary_rpc_method_handler(_invalid),
        "RedisAway": grpc.unary_unary_rpc_method_handler(_redis_away),
        "StreamBoom": grpc.unary_stream_rpc_method_handler(_stream_boom),
    }
    server = grpc.aio.server(interceptors=[ApiErrorInterceptor()])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("t.T", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    metadata = (("x-request-id", request_id),) if request_id else ()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            kind: Callable[..., Any] = (channel.unary_stream if method == "StreamBoom"
                                        else channel.unary_unary)
            call = kind(f"/t.T/{method}")(b"", metadata=metadata, timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                if method == "StreamBoom":
                    assert [item async for item in call] == [b"first"]
                else:
                    await call
            return caught.value
    finally:
        await server.stop(None)


async def test_an_unexpected_error_is_internal_with_the_request_id(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="runtime.errors"):
        error = await _call("Boom", "req-42")
    assert error.code() == grpc.StatusCode.INTERNAL
    assert error.details() == "internal error (request id req-42)"
    logged = [r for r in caplog.records if "req-42" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert logged[0].exc_info[0] is KeyError and "/t.T/Boom" in logged[0].getMessage()


async def test_without_a_request_id_one_is_made_up() -> None:
    error = await _call("StreamBoom", None)
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "ZeroDivisionError" not in (error.details() or "")
    assert (error.details() or "").startswith("internal error (request id ")


async def test_an_api_errors_message_is_bounded() -> None:
    error = await _call("Invalid", "req-1")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = error.details() or ""
    assert details.startswith("bad xxx") and len(details) == MAX_MESSAGE_CHARS + 3


async def test_redis_or_kafka_away_is_unavailable() -> None:
    error = await _call("RedisAway", "req-7")
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error.details() == "a dependency is unavailable, retry later (request id req-7)"
