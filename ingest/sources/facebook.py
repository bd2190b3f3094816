"""Facebook Messenger Platform webhooks (`object: "page"`), one channel per Page.

Messages, echoes of the Page's own messages, postbacks, delivery and read receipts and reactions
arrive as `entry[].messaging[]` items; `ingest.sources.meta` reads them (shared with Instagram).
"""

from __future__ import annotations

from ingest.sources import meta
from ingest.sources.base import Event, RawEvent, SourceConfig, WebhookRequest

NAME = "facebook"
#: The webhook body's `object` for Page subscriptions.
OBJECT = "page"


def verify(request: WebhookRequest, config: SourceConfig) -> None:
    """Check `X-Hub-Signature-256` (see `meta.verify_signature`)."""
    meta.verify_signature(request, config)


def routing_key(body: bytes) -> str:
    """The PSID when the body concerns one user, else the Page id; "" for garbage."""
    return meta.messaging_routing_key(body, OBJECT)


def translate(raw: RawEvent) -> list[Event]:
    """Messenger events as normalized events; `TranslationError` for an unreadable body."""
    return meta.translate_messaging(NAME, OBJECT, raw)
