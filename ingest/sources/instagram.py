"""Instagram Messaging webhooks (`object: "instagram"`), one channel per Instagram account.

The `entry[].messaging[]` items have Messenger's shape (IGSID instead of PSID; echoes come with the
`messages` field; `messaging_seen` names the message read), so `ingest.sources.meta` reads them.
"""

from __future__ import annotations

from ingest.sources import meta
from ingest.sources.base import Event, RawEvent, SourceConfig, WebhookRequest

NAME = "instagram"
#: The webhook body's `object` for Instagram subscriptions.
OBJECT = "instagram"


def verify(request: WebhookRequest, config: SourceConfig) -> None:
    """Check `X-Hub-Signature-256` (see `meta.verify_signature`)."""
    meta.verify_signature(request, config)


def routing_key(body: bytes) -> str:
    """The IGSID when the body concerns one user, else the account id; "" for garbage."""
    return meta.messaging_routing_key(body, OBJECT)


def translate(raw: RawEvent) -> list[Event]:
    """Instagram messaging events as normalized events; `TranslationError` if unreadable."""
    return meta.translate_messaging(NAME, OBJECT, raw)
