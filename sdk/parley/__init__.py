"""Parley's Python SDK.

    import parley
    client = parley.Client("127.0.0.1:8080")            # token: PARLEY_TOKEN
    for conversation in client.conversations.list(filters="unread_count:[1 TO *]"):
        print(conversation.id, conversation.display_name, conversation.unread_count)

`parley.AsyncClient` is the same API for asyncio. Messages and conversations come as the views of
`parley.views` (`parley.Message`, `parley.Conversation`: content and metadata as plain Python data,
`message.text`); other results are the generated protobuf messages of `parley.v1`. Failures raise
the typed errors of `parley.errors` (`parley.NotFound`, ...).
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
from parley.views import Conversation, Message, MessageEvent, Page, message_event, message_text

__all__ = [
    "AsyncClient", "Client", "Conflict", "Conversation", "DeadlineExceeded", "FailedPrecondition",
    "InvalidArgument", "Message", "MessageEvent", "NotFound", "OutOfRange", "Page", "ParleyError",
    "PermissionDenied", "ResourceExhausted", "Unauthenticated", "Unavailable", "message_event",
    "message_text",
]
