"""The caller's `Authorization: Bearer <token>` header, and the name of their API token, as a
gRPC service sees them."""

from __future__ import annotations

import grpc

#: The header in which the edge (auth/) names the caller's API token; it replaces what a caller
#: sends, so a service can trust it.
TOKEN_NAME_HEADER = "x-parley-token-name"


def bearer_token(context: grpc.aio.ServicerContext) -> str:
    """The token of the request's `Authorization: Bearer` header, "" when there is none."""
    for key, value in context.invocation_metadata() or ():
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""
