"""What connectors work with: the message to send, the API's configuration, and what an
answer means (`Delivered`, `Rejected`, `Retry`). A source's `Connector` (`sources.spec`) is a
pure `request` builder and a pure `outcome` reader; `messaging.delivery` does the I/O, retries
and timeouts around them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from sources.settings import SourceSettings, read


@dataclass(frozen=True)
class Outbound:
    """One message to send: everything a connector needs, nothing it has to look up."""

    #: Parley message id (some APIs take it as their own idempotency key).
    message_id: str
    #: Parley conversation id (custom sources get it with each message).
    conversation_id: str
    #: `Message.source` of the conversation, e.g. "facebook", "twilio.whatsapp".
    source: str
    #: The channel's id at the source: page id, phone number, WhatsApp phone_number_id, gbm_id.
    source_channel_id: str
    #: The channel's display name (Viber shows it as the sender).
    channel_name: str
    #: The contact's id at the source: PSID / IGSID, phone number, wa_id, Viber user id, Google
    #: conversation id.
    recipient: str
    #: The `message` given to messages.send, forwarded as it is (JSON).
    content: Any
    #: The channel's credentials ("page_token", "user_token"); never logged.
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ConnectorConfig:
    """App-level configuration of one source's API."""

    #: Base URL of the source's API, without a trailing slash.
    api_url: str
    #: Account id where the API needs one (Twilio's Account SID).
    account_id: str = ""
    #: App-level token where the API needs one (Twilio auth token, Viber bot token, Google access
    #: token); never logged.
    auth_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class Delivered:
    """The source accepted the message under its own id."""

    source_message_id: str


@dataclass(frozen=True)
class Rejected:
    """The source refused the message (a 4xx other than 429): sending again would not help."""

    error: str


@dataclass(frozen=True)
class Retry:
    """A transient failure (429, 5xx, timeout, connection error): try again after a backoff."""

    error: str


Outcome = Delivered | Rejected | Retry


def connector_config(declared: SourceSettings, default_api_url: str,
                     env: Mapping[str, str] = os.environ) -> ConnectorConfig:
    """The configuration of a source's connector from its declared settings (`Source.settings`):
    `PARLEY_<NAME>_API_URL`, `_ACCOUNT_SID`, `_AUTH_TOKEN`."""
    return ConnectorConfig(
        api_url=(read(declared.api_url, env) or default_api_url).rstrip("/"),
        account_id=read(declared.account_sid, env),
        auth_token=read(declared.auth_token, env),
    )


def by_status(response: httpx.Response, error: str) -> Rejected | Retry:
    """A failed answer as Retry (429, 5xx) or Rejected (other 4xx), with the source's `error`."""
    text = f"{response.status_code}: {error}" if error else f"HTTP {response.status_code}"
    if response.status_code == 429 or response.status_code >= 500:
        return Retry(text)
    return Rejected(text)


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, {} when it is not one."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        # Not JSON, or nested deeper than the parser goes.
        return {}
    return body if isinstance(body, dict) else {}
