"""Parley's Python SDK.

    import parley
    client = parley.Client("127.0.0.1:8080")            # token: PARLEY_TOKEN
    for conversation in client.conversations.list(filters="unread_count:[1 TO *]"):
        print(conversation.id, conversation.metadata["contact"]["display_name"])

`parley.AsyncClient` is the same API for asyncio. Results are the generated protobuf messages of
`parley.v1`; failures raise the typed errors of `parley.errors` (`parley.NotFound`, ...).
"""

from parley._async.client import AsyncClient
from parley._sync.client import Client
from parley.errors import (
    Conflict,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    OutOfRange,
    ParleyError,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from parley.views import MessageEvent, message_event

__all__ = [
    "AsyncClient", "Client", "Conflict", "DeadlineExceeded", "FailedPrecondition",
    "InvalidArgument", "MessageEvent", "NotFound", "OutOfRange", "ParleyError", "PermissionDenied",
    "ResourceExhausted", "Unauthenticated", "Unavailable", "message_event",
]
