"""Typed API errors: plain functions raise them, one interceptor turns them into gRPC statuses.

Through Envoy the status becomes its HTTP code (NOT_FOUND 404, INVALID_ARGUMENT 400, ...) with a
JSON body `{"code", "message", "details"}`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from runtime.interceptors import Wrap, WrappingInterceptor
from runtime.record_failures import is_infrastructure

log = logging.getLogger(__name__)

#: Header Envoy sets on every request it forwards (made up here for calls that bypass it).
REQUEST_ID_HEADER = "x-request-id"
#: Longest message a caller is shown: messages may quote input, and gRPC carries them in a header.
MAX_MESSAGE_CHARS = 1024


class ApiError(Exception):
    """An error the caller caused or must know about; its message is shown to the caller."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ApiError):
    """Bad input (HTTP 400); nothing was written."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ApiError):
    """The named resource does not exist (HTTP 404)."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ApiError):
    """What the call would create exists already (HTTP 409)."""

    code = grpc.StatusCode.ALREADY_EXISTS


class Conflict(ApiError):
    """The resource is not in a state that allows the call (HTTP 409)."""

    code = grpc.StatusCode.ABORTED


class Unauthenticated(ApiError):
    """The caller did not prove who it is (HTTP 401)."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(ApiError):
    """The caller may not do this (HTTP 403)."""

    code = grpc.StatusCode.PERMISSION_DENIED


class FailedPrecondition(ApiError):
    """The request is well-formed but the system is not in a state to take it (HTTP 400)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class OutOfRange(ApiError):
    """A position that is no longer (or not yet) there, e.g. a trimmed resume token (HTTP 400)."""

    code = grpc.StatusCode.OUT_OF_RANGE


class Unavailable(ApiError):
    """A dependency (Kafka, Redis) is down; the caller should retry (HTTP 503)."""

    code = grpc.StatusCode.UNAVAILABLE


async def _abort(exc: Exception, method: str, context: grpc.aio.ServicerContext) -> None:
    """Abort the call with the status `exc` stands for. An `ApiError` shows its message; Kafka or
    Redis away is UNAVAILABLE (the caller retries); anything else is a bug: INTERNAL. Both carry
    only the request id, which the log line of the traceback has too (no class names go out)."""
    if isinstance(exc, ApiError):
        message = exc.message
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[:MAX_MESSAGE_CHARS] + "..."
        await context.abort(exc.code, message)
    metadata = dict(context.invocation_metadata() or ())
    request_id = metadata.get(REQUEST_ID_HEADER) or str(uuid.uuid4())
    log.error("%s failed (request id %s)", method, request_id, exc_info=exc)
    if is_infrastructure(exc):
        await context.abort(grpc.StatusCode.UNAVAILABLE,
                            f"a dependency is unavailable, retry later (request id {request_id})")
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error (request id {request_id})")


def _unary(inner: Callable[..., Awaitable[Any]], method: str) -> Callable[..., Awaitable[Any]]:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await inner(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # every failure becomes a status (see _abort)
            await _abort(exc, method, context)

    return call


def _stream(inner: Callable[..., Any], method: str) -> Callable[..., Any]:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            async for item in inner(request, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # every failure becomes a status (see _abort)
            await _abort(exc, method, context)

    return call


class ApiErrorInterceptor(WrappingInterceptor):
    """Turns an `ApiError` raised by any servicer into the matching gRPC status and message, and
    any other exception into INTERNAL with a request id (see `_abort`)."""

    def wrappers(self, method: str) -> tuple[Wrap, Wrap]:
        return (lambda inner: _unary(inner, method)), (lambda inner: _stream(inner, method))
