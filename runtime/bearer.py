"""The caller's `Authorization: Bearer <token>` header, as a gRPC service sees it."""

from __future__ import annotations

import grpc


def bearer_token(context: grpc.aio.ServicerContext) -> str:
    """The token of the request's `Authorization: Bearer` header, "" when there is none."""
    for key, value in context.invocation_metadata() or ():
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""
