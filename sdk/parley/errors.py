"""Typed errors: every failed call raises a `ParleyError` subclass named after its gRPC status,
carrying the server's message (e.g. `NotFound("conversation 42 not found")`)."""

from __future__ import annotations

import grpc


class ParleyError(Exception):
    """A call failed; `code` is its gRPC status, `message` the server's explanation."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"


class InvalidArgument(ParleyError):
    """The request is malformed (HTTP 400), e.g. a bad filter or a missing field."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class FailedPrecondition(ParleyError):
    """The request is well-formed but cannot be taken now (HTTP 400)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class OutOfRange(ParleyError):
    """A position that is gone, e.g. a resume token older than the events kept (HTTP 400)."""

    code = grpc.StatusCode.OUT_OF_RANGE


class NotFound(ParleyError):
    """The resource does not exist (HTTP 404)."""

    code = grpc.StatusCode.NOT_FOUND


class Conflict(ParleyError):
    """The resource exists already, or is not in a state for this (HTTP 409)."""

    code = grpc.StatusCode.ABORTED


class Unauthenticated(ParleyError):
    """No token, or a bad or expired one (HTTP 401)."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(ParleyError):
    """The token may not do this, or the channel is disconnected (HTTP 403)."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(ParleyError):
    """Too many requests, or a request too large (HTTP 429)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(ParleyError):
    """Parley, or what it depends on, cannot be reached now; try again (HTTP 503)."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(ParleyError):
    """No answer within the call's deadline."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


_BY_CODE: dict[grpc.StatusCode, type[ParleyError]] = {
    cls.code: cls for cls in (InvalidArgument, FailedPrecondition, OutOfRange, NotFound, Conflict,
                              Unauthenticated, PermissionDenied, ResourceExhausted, Unavailable,
                              DeadlineExceeded)
}
_BY_CODE[grpc.StatusCode.ALREADY_EXISTS] = Conflict


def from_rpc_error(error: grpc.RpcError) -> ParleyError:
    """The typed error of a failed gRPC call."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = (error.details() if hasattr(error, "details") else "") or str(code)
    return _BY_CODE.get(code, ParleyError)(message, code)
