"""What a source is, declared once: each `sources/<name>.py` ends with its `SOURCE`, and every
service derives its part from it (ingest its webhook path and raw topic, the translator its
`translate`, the store its connect and disconnect calls and labels, messaging its connector, the
CLI its connect arguments)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from sources.inbound import Event, RawEvent, SourceConfig, WebhookRequest
from sources.outbound import ConnectorConfig, Outbound, Outcome
from sources.settings import SourceSettings


@dataclass(frozen=True)
class Reply:
    """What a source's webhook call is answered once its raw bytes are written."""

    content_type: str
    data: bytes


#: The answer most sources expect: any 200.
OK = Reply("text/plain", b"ok")


@dataclass(frozen=True)
class Webhook:
    """A source's inbound webhook path, `POST /<source name>`, checked and written by ingest: the
    IngestService RPC `Receive<rpc>Webhook` (`ingest.proto`)."""

    #: The RPCs' name part (`ReceiveViberWebhook`: "Viber").
    rpc: str
    #: Raises `SignatureMissing` (HTTP 401) or `SignatureInvalid` (HTTP 403); checks the raw
    #: bytes in constant time.
    verify: Callable[[WebhookRequest, SourceConfig], None]
    #: The Kafka key of a raw record: the source's conversation key when the payload concerns one
    #: conversation, else the channel key (never raises).
    routing_key: Callable[[bytes], str]
    #: The answer once the raw bytes are written.
    reply: Reply = OK
    #: True when the source subscribes with Meta's GET handshake (`Verify<rpc>Webhook`).
    handshake: bool = False
    #: An unsigned call the source answers itself before verification (Google's one-time webhook
    #: verification): the answer's text, or None for an ordinary webhook. Nothing of it is written.
    unsigned_answer: Callable[[WebhookRequest, SourceConfig], str | None] | None = None


def rpc_name(source: str) -> str:
    """The RPC name part of channel source `source` ("twilio.sms": "TwilioSms"), as
    `channels.proto` names `Connect<part>` and `Disconnect<part>`."""
    return "".join(part.capitalize() for part in re.split(r"[._]", source))


@dataclass(frozen=True)
class ChannelKind:
    """A kind of channel users connect (`channels.<source>.connect`), a `Message.source` value;
    its request is `Connect<rpc_name>Request` of `channels.proto`."""

    #: The `Channel.source` value ("facebook", "twilio.sms").
    source: str
    #: How a conversation's default contact name names the source ("SMS 00006").
    label: str
    #: The fields of the connect request that must be set.
    required: tuple[str, ...]
    #: The channel's id at the source, from the connect request (InvalidArgument when malformed).
    channel_key: Callable[[Any], str]
    #: The fields of the connect request kept as the channel's secrets (never returned).
    secrets: tuple[str, ...] = ()
    #: False when each connect makes a new channel (not safe to retry).
    idempotent: bool = True
    #: True when its outbound messages reach the contact on Parley's own stream (the chat
    #: plugin's visitor), which marks them delivered, rather than through a connector.
    delivered_on_visitor_stream: bool = False

    @property
    def rpc(self) -> str:
        """The RPC name part of its connect and disconnect calls."""
        return rpc_name(self.source)


@dataclass(frozen=True)
class Connector:
    """How Parley sends a message through the source's API: pure functions around which
    `messaging.delivery` does the I/O, retries and timeouts."""

    #: The API's base URL (`PARLEY_<NAME>_API_URL` overrides it: tests point it at a local fake).
    default_api_url: str
    #: The source API call that sends one message.
    request: Callable[[Outbound, ConnectorConfig], httpx.Request]
    #: What the API's answer means.
    outcome: Callable[[httpx.Response], Outcome]
    #: The source conversation key ingest gives a recipient's replies, "" when `recipient` is
    #: not an address of the source (so a conversation Parley starts has the replies' id).
    conversation_key: Callable[[str], str]
    #: True when messages.send may start a conversation with `source_recipient_id`.
    can_start_conversations: bool = False


@dataclass(frozen=True)
class Profile:
    """A contact's name and picture as a source's API tells them ("" : not told)."""

    display_name: str
    avatar_url: str


@dataclass(frozen=True)
class ProfileApi:
    """How a source's API tells a contact's profile again (`conversations.refetch`): `request`
    asks it, from the API's base URL, the contact's id at the source and the channel's secrets;
    `read` reads its JSON answer."""

    request: Callable[[str, str, dict[str, str]], httpx.Request]
    read: Callable[[dict[str, Any]], Profile]


@dataclass(frozen=True)
class Source:
    """Everything Parley knows about one source."""

    #: Its raw topic is `source.<name>.events`, its webhook path `/<name>`, its settings
    #: `PARLEY_<NAME>_*`.
    name: str
    #: A pure function: raw bytes in, normalized events out; raises `TranslationError` for a
    #: payload it cannot read (the worker dead-letters it).
    translate: Callable[[RawEvent], list[Event]]
    #: Its inbound webhook; None when Parley's own API writes its raw records (chat plugin,
    #: custom sources), after checking their tokens.
    webhook: Webhook | None = None
    #: The kinds of channel users connect.
    channels: tuple[ChannelKind, ...] = ()
    #: How messages are sent to it; None when not through a source API.
    connector: Connector | None = None
    #: The operator's settings of it (`PARLEY_<NAME>_*`): its webhooks' secrets, its API's.
    settings: SourceSettings = SourceSettings()
    #: How its API tells a contact's profile; None when it has no such API.
    profile: ProfileApi | None = None
