"""Standard Webhooks (standardwebhooks.com) signing, the one way Parley signs what it POSTs: an
outbound webhook's event, a custom source's `message.send` action."""

from __future__ import annotations

from datetime import datetime

from standardwebhooks.webhooks import Webhook as Signer


def signed_headers(key: bytes | str, message_id: str, payload: str,
                   now: datetime) -> dict[str, str]:
    """The JSON content type and the Standard Webhooks headers of `payload` sent as `message_id`
    (the same on every retry) at `now`, signed with `key` (raw bytes, or a `whsec_` string)."""
    return {"content-type": "application/json", "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Signer(key).sign(message_id, now, payload)}
