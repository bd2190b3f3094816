"""Deterministic ids (RFC 4122 UUIDv5), so a redelivered webhook or a replay yields the same ids."""

from __future__ import annotations

import hashlib
import uuid
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]

#: The root of every Parley id. Never change it: every stored id derives from it.
PARLEY_NAMESPACE = uuid.UUID("5b1c9c1e-6f1e-5c55-9a0d-3f4b2c8e7a10")
_NAMESPACE_BYTES = PARLEY_NAMESPACE.bytes


def uuid5_text(name: str) -> str:
    """`str(uuid.uuid5(PARLEY_NAMESPACE, name))`, made without a `uuid.UUID` object, in half
    the time (translation derives four ids per message)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _derive(kind: str, *parts: str) -> str:
    # A JSON array names the kind and keeps ("ab", "c") apart from ("a", "bc"), whatever the parts:
    # `json.dumps([kind, *parts])`, written by the encoder it uses for strings.
    return uuid5_text("[" + ", ".join(map(encode_basestring_ascii, (kind, *parts))) + "]")


def channel_id(source: str, source_channel_id: str) -> str:
    """Id of a channel: its source plus the source's channel id (page id, phone number, ...)."""
    return _derive("channel", source, source_channel_id)


def conversation_id(channel_id: str, source_conversation_key: str) -> str:
    """Id of a conversation: its channel plus the source's conversation key (PSID, From number)."""
    return _derive("conversation", channel_id, source_conversation_key)


def message_id(channel_id: str, source_message_id: str) -> str:
    """Id of a message: its channel plus the source's message id (mid, wamid, MessageSid, ...)."""
    return _derive("message", channel_id, source_message_id)


def message_id_from_bytes(channel_id: str, raw: bytes) -> str:
    """Id of a message whose source gives no message id: from a hash of the raw bytes."""
    return message_id(channel_id, "sha256:" + hashlib.sha256(raw).hexdigest())


def contact_id(channel_id: str, source_contact_id: str) -> str:
    """Id of a contact: its channel plus the source's contact id."""
    return _derive("contact", channel_id, source_contact_id)


def sent_message_id(sender: str, idempotency_key: str) -> str:
    """Id of a message `sender` (the API token's name) sent with an idempotency key: the same
    sender and key, the same message (so a retried send finds the first one instead of sending
    twice); another sender's same key is another message (keys are the caller's own: no caller
    can collide with or probe another's)."""
    return _derive("sent", sender, idempotency_key)
