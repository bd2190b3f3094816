"""`AsyncClient`: Parley's API for asyncio, one attribute per area (`client.messages`,
`client.conversations`, ...). Messages and conversations come as the views of `parley.views`
(content and metadata as plain Python data); other results are the generated protobuf messages of
`parley.v1`. Failures raise the typed errors of `parley.errors`.

The blocking `parley.Client` is generated from this module by scripts/unasync.py: edit this one.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from contextlib import aclosing
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format, struct_pb2

from parley._async.transport import AsyncTransport, Options, backoff_s
from parley.errors import ParleyError
from parley.views import Conversation, Message, Page
from parley.v1 import (
    channels_pb2,
    channels_pb2_grpc,
    contacts_pb2,
    contacts_pb2_grpc,
    conversations_pb2,
    conversations_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
    messages_pb2,
    messages_pb2_grpc,
    messaging_pb2,
    messaging_pb2_grpc,
    metadata_pb2,
    metadata_pb2_grpc,
    resources_pb2,
    sources_pb2,
    sources_pb2_grpc,
    status_pb2,
    status_pb2_grpc,
    tags_pb2,
    tags_pb2_grpc,
    templates_pb2,
    templates_pb2_grpc,
    webhooks_pb2,
    webhooks_pb2_grpc,
)

T = TypeVar("T")
#: Events a stream carries that are its own business, not the API's.
HEARTBEAT, STREAM_ERROR = "heartbeat", "stream.error"
#: Stream failures after which `events.subscribe` reconnects (the connection, not the request).
RECONNECT_ON = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL,
                          grpc.StatusCode.UNKNOWN, grpc.StatusCode.CANCELLED})


def to_value(data: Any) -> struct_pb2.Value:
    """A JSON-compatible Python value as a protobuf Value."""
    return json_format.ParseDict(data, struct_pb2.Value())


def to_struct(data: dict[str, Any]) -> struct_pb2.Struct:
    """A JSON object as a protobuf Struct."""
    return json_format.ParseDict(data, struct_pb2.Struct())


def _page(answer: Any, view: Callable[[Any], T]) -> Page[T]:
    """A list call's answer as a `Page` of the views of its items."""
    cursors = answer.pagination_data
    return Page([view(item) for item in answer.data], cursors.next_cursor,
                cursors.previous_cursor, cursors.total)


class _Area:
    """What every area shares: the transport, and the stubs of its services."""

    def __init__(self, transport: AsyncTransport, *stubs: Callable[[Any], Any]) -> None:
        self._transport = transport
        self._stubs = [stub(transport.channel) for stub in stubs]

    def _rpc(self, method: str) -> Any:
        """The stub method `method` of the area's services."""
        return next(getattr(stub, method) for stub in self._stubs if hasattr(stub, method))

    async def _read(self, method: str, request: Any) -> Any:
        """A call that changes nothing: tried again while Parley is unavailable."""
        return await self._transport.unary(self._rpc(method), request, idempotent=True)

    async def _write(self, method: str, request: Any, *, idempotent: bool) -> Any:
        """A call that changes something; tried again only when doing it twice is harmless."""
        return await self._transport.unary(self._rpc(method), request, idempotent=idempotent)

    async def _each(self, method: str, request: Any, newest_first: bool = False) -> AsyncIterator[Any]:
        """Every item of a paginated list, fetched page by page (following `next_cursor`) as it
        is read; `newest_first` turns each page's oldest-first order around."""
        while True:
            page = await self._read(method, request)
            for item in reversed(page.data) if newest_first else page.data:
                yield item
            if not page.pagination_data.next_cursor:
                return
            request.cursor = page.pagination_data.next_cursor


class AsyncMessages(_Area):
    """Messages: list a conversation's, send, resend, suggest replies."""

    async def page(self, conversation_id: str, cursor: str = "",
                   page_size: int = 0) -> Page[Message]:
        """One page: the newest `page_size` messages (20 by default) at `cursor` ("" = the
        newest page), oldest first, with `next_cursor` walking back in time."""
        return _page(await self._read("ListMessages", messages_pb2.ListMessagesRequest(
            conversation_id=conversation_id, cursor=cursor, page_size=page_size)), Message.of)

    async def list(self, conversation_id: str, page_size: int = 100) -> AsyncIterator[Message]:
        """Every message of a conversation, newest first, fetched page by page as it is read.
        NotFound for an unknown conversation."""
        request = messages_pb2.ListMessagesRequest(conversation_id=conversation_id,
                                                   page_size=page_size)
        async for message in self._each("ListMessages", request, newest_first=True):
            yield Message.of(message)

    async def send(self, message: Any, *, conversation_id: str = "", channel_id: str = "",
                   source_recipient_id: str = "",
                   idempotency_key: str | None = None) -> Message:
        """Send `message` (the source's payload, e.g. `{"text": "Hi"}`) to a conversation, or
        start one with `source_recipient_id` on `channel_id` (SMS, WhatsApp). Answers the pending
        message, with the id of the conversation it went to; delivery follows (see `events`).
        Safe to retry: without an `idempotency_key` the SDK makes one, so a retried call never
        sends twice."""
        request = messaging_pb2.SendMessageRequest(
            conversation_id=conversation_id, channel_id=channel_id,
            source_recipient_id=source_recipient_id, message=to_value(message),
            idempotency_key=idempotency_key or str(uuid.uuid4()))
        return Message.of(await self._write("SendMessage", request, idempotent=True))

    async def resend(self, message_id: str) -> Message:
        """Send a failed message again. Conflict unless it failed."""
        return Message.of(await self._write(
            "ResendMessage", messaging_pb2.ResendMessageRequest(message_id=message_id),
            idempotent=False))

    async def suggest_replies(self, message_id: str, suggestions: dict[str, Any]) -> Message:
        """Attach suggested replies (by id) to a message; answers the message."""
        return Message.of(await self._write("SuggestReplies", messaging_pb2.SuggestRepliesRequest(
            message_id=message_id, suggestions=to_struct(suggestions)), idempotent=True))


class AsyncConversations(_Area):
    """Conversations: list (with filters), read one, and the conversation commands."""

    async def page(self, filters: str = "", cursor: str = "",
                   page_size: int = 0) -> Page[Conversation]:
        """One page, newest activity first; `filters` is the Lucene-syntax query language
        (`unread_count:[1 TO *] AND channel_id:...`). InvalidArgument for a malformed one."""
        return _page(await self._read("ListConversations",
                                      conversations_pb2.ListConversationsRequest(
                                          filters=filters, cursor=cursor, page_size=page_size)),
                     Conversation.of)

    async def list(self, filters: str = "", page_size: int = 100) -> AsyncIterator[Conversation]:
        """Every conversation matching `filters`, newest activity first, page by page."""
        request = conversations_pb2.ListConversationsRequest(filters=filters, page_size=page_size)
        async for conversation in self._each("ListConversations", request):
            yield Conversation.of(conversation)

    async def info(self, conversation_id: str) -> Conversation:
        """One conversation. NotFound when unknown."""
        return Conversation.of(await self._read(
            "GetConversation", conversations_pb2.GetConversationRequest(
                conversation_id=conversation_id)))

    async def mark_read(self, conversation_id: str) -> None:
        """Mark every message so far read (unread_count becomes 0)."""
        await self._write("MarkConversationRead", conversations_pb2.MarkConversationReadRequest(
            conversation_id=conversation_id), idempotent=True)

    async def tag(self, conversation_id: str, tag_id: str) -> None:
        """Tag a conversation."""
        await self._write("TagConversation", conversations_pb2.TagConversationRequest(
            conversation_id=conversation_id, tag_id=tag_id), idempotent=True)

    async def untag(self, conversation_id: str, tag_id: str) -> None:
        """Remove a tag from a conversation."""
        await self._write("UntagConversation", conversations_pb2.UntagConversationRequest(
            conversation_id=conversation_id, tag_id=tag_id), idempotent=True)

    async def set_state(self, conversation_id: str, state: str) -> None:
        """Set the conversation's state (e.g. "OPEN", "CLOSED")."""
        await self._write("SetConversationState", conversations_pb2.SetConversationStateRequest(
            conversation_id=conversation_id, state=state), idempotent=True)

    async def remove_state(self, conversation_id: str) -> None:
        """Remove the conversation's state."""
        await self._write("RemoveConversationState",
                          conversations_pb2.RemoveConversationStateRequest(
                              conversation_id=conversation_id), idempotent=True)

    async def update_contact(self, conversation_id: str, display_name: str) -> None:
        """Set the display name of the conversation's contact."""
        await self._write("UpdateConversationContact",
                          conversations_pb2.UpdateConversationContactRequest(
                              conversation_id=conversation_id, display_name=display_name),
                          idempotent=True)


def _channel_rpc(source: str) -> str:
    """The name part of the connect and disconnect RPCs of channels of `source` ("twilio.sms":
    `ConnectTwilioSms`), as `channels.proto` names them; ValueError for a source it has none of."""
    part = "".join(word.capitalize() for word in re.split(r"[._]", source))
    if not hasattr(channels_pb2, f"Connect{part}Request"):
        raise ValueError(f"no channels of source {source!r} can be connected")
    return part


class AsyncChannels(_Area):
    """Channels: list, read, update, and connect or disconnect one per source. Connecting the
    same source channel again reconnects it (same id), so connects are safe to retry."""

    async def list(self, source: str = "") -> Sequence[resources_pb2.Channel]:
        """The connected channels (of `source`, e.g. "facebook", when given)."""
        return (await self._read("ListChannels", channels_pb2.ListChannelsRequest(
            source=source))).data

    async def info(self, channel_id: str) -> resources_pb2.Channel:
        """One channel. NotFound when unknown."""
        return await self._read("GetChannel", channels_pb2.GetChannelRequest(channel_id=channel_id))

    async def update(self, channel_id: str, *, name: str | None = None,
                     image_url: str | None = None) -> resources_pb2.Channel:
        """Rename a channel or change its image."""
        return await self._write("UpdateChannel", channels_pb2.UpdateChannelRequest(
            channel_id=channel_id, name=name, image_url=image_url), idempotent=True)

    async def _connect(self, method: str, request: Any) -> resources_pb2.Channel:
        return await self._write(method, request, idempotent=True)

    async def connect_facebook(self, page_id: str, page_token: str, name: str = "",
                               image_url: str = "") -> resources_pb2.Channel:
        """Connect a Facebook page (its page access token is stored, never returned)."""
        return await self._connect("ConnectFacebook", channels_pb2.ConnectFacebookRequest(
            page_id=page_id, page_token=page_token, name=name, image_url=image_url))

    async def connect_instagram(self, page_id: str, account_id: str, page_token: str,
                                name: str = "", image_url: str = "") -> resources_pb2.Channel:
        """Connect an Instagram account through its Facebook page."""
        return await self._connect("ConnectInstagram", channels_pb2.ConnectInstagramRequest(
            page_id=page_id, account_id=account_id, page_token=page_token, name=name,
            image_url=image_url))

    async def connect_google(self, gbm_id: str, name: str,
                             image_url: str = "") -> resources_pb2.Channel:
        """Connect a Google Business Messages agent."""
        return await self._connect("ConnectGoogle", channels_pb2.ConnectGoogleRequest(
            gbm_id=gbm_id, name=name, image_url=image_url))

    async def connect_twilio_sms(self, phone_number: str, name: str,
                                 image_url: str = "") -> resources_pb2.Channel:
        """Connect a Twilio SMS number (E.164, e.g. "+15005550006")."""
        return await self._connect("ConnectTwilioSms", channels_pb2.ConnectTwilioSmsRequest(
            phone_number=phone_number, name=name, image_url=image_url))

    async def connect_twilio_whatsapp(self, phone_number: str, name: str,
                                      image_url: str = "") -> resources_pb2.Channel:
        """Connect a Twilio WhatsApp number (E.164)."""
        return await self._connect("ConnectTwilioWhatsapp",
                                   channels_pb2.ConnectTwilioWhatsappRequest(
                                       phone_number=phone_number, name=name, image_url=image_url))

    async def connect_viber(self, name: str = "", image_url: str = "") -> resources_pb2.Channel:
        """Connect the install's Viber bot."""
        return await self._connect("ConnectViber", channels_pb2.ConnectViberRequest(
            name=name, image_url=image_url))

    async def connect_whatsapp(self, phone_number_id: str, user_token: str, name: str,
                               image_url: str = "") -> resources_pb2.Channel:
        """Connect a WhatsApp Cloud API number."""
        return await self._connect("ConnectWhatsapp", channels_pb2.ConnectWhatsappRequest(
            phone_number_id=phone_number_id, user_token=user_token, name=name,
            image_url=image_url))

    async def connect_chatplugin(self, name: str, image_url: str = "") -> resources_pb2.Channel:
        """Create a website chat plugin channel (each call makes a new one: not retried)."""
        return await self._write("ConnectChatplugin", channels_pb2.ConnectChatpluginRequest(
            name=name, image_url=image_url), idempotent=False)

    async def connect(self, source: str, name: str = "", image_url: str = "",
                      **fields: str) -> resources_pb2.Channel:
        """Connect a channel of any `source` ("twilio.sms") with the fields its
        `channels.<source>.connect` takes (`page_id=...`); the `connect_<source>` calls above
        type them. Not retried: a chat plugin's connect makes a new channel each time."""
        method = f"Connect{_channel_rpc(source)}"
        request = getattr(channels_pb2, f"{method}Request")
        return await self._write(method, request(name=name, image_url=image_url, **fields),
                                 idempotent=False)

    async def disconnect(self, channel_id: str) -> None:
        """Disconnect a channel of any source (also when it is disconnected already)."""
        method = f"Disconnect{_channel_rpc((await self.info(channel_id)).source)}"
        await self._write(method, getattr(channels_pb2, f"{method}Request")(
            channel_id=channel_id), idempotent=True)


class AsyncContacts(_Area):
    """Contacts: list, read, update, merge."""

    async def list(self, page_size: int = 100) -> AsyncIterator[resources_pb2.Contact]:
        """Every contact, page by page."""
        request = contacts_pb2.ListContactsRequest(page_size=page_size)
        async for contact in self._each("ListContacts", request):
            yield contact

    async def info(self, contact_id: str = "", *, conversation_id: str = "") -> resources_pb2.Contact:
        """A contact, by its id or by one of its conversations."""
        return await self._read("GetContact", contacts_pb2.GetContactRequest(
            id=contact_id, conversation_id=conversation_id))

    async def update(self, contact_id: str, **fields: Any) -> resources_pb2.Contact:
        """Update fields of a contact (`display_name="Ann"`; "" removes a field)."""
        request = json_format.ParseDict({"id": contact_id, **fields},
                                        contacts_pb2.UpdateContactRequest())
        return await self._write("UpdateContact", request, idempotent=True)

    async def merge(self, source_id: str, destination_id: str) -> resources_pb2.Contact:
        """Merge contact `source_id` into `destination_id`; answers the merged contact."""
        return await self._write("MergeContacts", contacts_pb2.MergeContactsRequest(
            source_id=source_id, destination_id=destination_id), idempotent=False)


class AsyncTags(_Area):
    """Tags."""

    async def create(self, name: str, color: str) -> resources_pb2.Tag:
        """A new tag (`color` e.g. "tag-red")."""
        return await self._write("CreateTag", tags_pb2.CreateTagRequest(name=name, color=color),
                                 idempotent=False)

    async def update(self, tag_id: str, *, name: str | None = None,
                     color: str | None = None) -> resources_pb2.Tag:
        """Rename or recolour a tag."""
        return await self._write("UpdateTag", tags_pb2.UpdateTagRequest(
            id=tag_id, name=name, color=color), idempotent=True)

    async def delete(self, tag_id: str) -> None:
        """Delete a tag."""
        await self._write("DeleteTag", tags_pb2.DeleteTagRequest(id=tag_id), idempotent=True)

    async def list(self) -> Sequence[resources_pb2.Tag]:
        """Every tag."""
        return (await self._read("ListTags", tags_pb2.ListTagsRequest())).data


class AsyncTemplates(_Area):
    """Message templates, per source."""

    async def create(self, name: str, source: str, content: Any) -> resources_pb2.Template:
        """A new template of `content` (the source's payload) for `source`."""
        return await self._write("CreateTemplate", templates_pb2.CreateTemplateRequest(
            name=name, source=source, content=to_value(content)), idempotent=False)

    async def list(self, source: str, name: str = "") -> Sequence[resources_pb2.Template]:
        """The templates of `source` (whose name contains `name`, when given)."""
        return (await self._read("ListTemplates", templates_pb2.ListTemplatesRequest(
            source=source, name=name))).data

    async def info(self, template_id: str) -> resources_pb2.Template:
        """One template."""
        return await self._read("GetTemplate", templates_pb2.GetTemplateRequest(id=template_id))

    async def update(self, template_id: str, *, name: str | None = None, source: str | None = None,
                     content: Any = None) -> resources_pb2.Template:
        """Change a template's name, source or content."""
        request = templates_pb2.UpdateTemplateRequest(id=template_id, name=name, source=source)
        if content is not None:
            request.content.CopyFrom(to_value(content))
        return await self._write("UpdateTemplate", request, idempotent=True)

    async def delete(self, template_id: str) -> None:
        """Delete a template."""
        await self._write("DeleteTemplate", templates_pb2.DeleteTemplateRequest(id=template_id),
                          idempotent=True)


class AsyncMetadata(_Area):
    """Metadata of conversations, messages and channels."""

    async def upsert(self, subject: str, subject_id: str, data: dict[str, Any]) -> None:
        """Deep-merge `data` into the metadata of a "conversation", "message" or "channel"."""
        await self._write("UpsertMetadata", metadata_pb2.UpsertMetadataRequest(
            subject=subject, id=subject_id, data=to_struct(data)), idempotent=True)


class AsyncWebhooks(_Area):
    """Outbound webhooks and their delivery log."""

    async def subscribe(self, url: str, *, name: str = "", events: Sequence[str] = (),
                        headers: dict[str, str] | None = None, signature_key: str = "",
                        webhook_id: str = "") -> resources_pb2.Webhook:
        """Subscribe `url` to `events` (all when empty). Without a `signature_key` one is made
        and returned this once, in `generated_signature_key`."""
        return await self._write("SubscribeWebhook", webhooks_pb2.SubscribeWebhookRequest(
            url=url, id=webhook_id, name=name, events=list(events), headers=headers or {},
            signature_key=signature_key), idempotent=bool(webhook_id))

    async def update(self, webhook_id: str, *, url: str | None = None, name: str | None = None,
                     events: Sequence[str] | None = None, headers: dict[str, str] | None = None,
                     status: str | None = None) -> resources_pb2.Webhook:
        """Change a webhook; `status` "Subscribed" enables a disabled one again."""
        request = webhooks_pb2.UpdateWebhookRequest(id=webhook_id, url=url, name=name,
                                                    status=status)
        if events is not None:
            request.events.values.extend(to_value(e) for e in events)
        if headers is not None:
            request.headers.CopyFrom(to_struct(dict(headers)))
        return await self._write("UpdateWebhook", request, idempotent=True)

    async def unsubscribe(self, webhook_id: str) -> resources_pb2.Webhook:
        """Stop deliveries to a webhook."""
        return await self._write("UnsubscribeWebhook", webhooks_pb2.UnsubscribeWebhookRequest(
            id=webhook_id), idempotent=True)

    async def info(self, webhook_id: str) -> resources_pb2.Webhook:
        """One webhook."""
        return await self._read("GetWebhook", webhooks_pb2.GetWebhookRequest(id=webhook_id))

    async def list(self) -> Sequence[resources_pb2.Webhook]:
        """Every webhook."""
        return (await self._read("ListWebhooks", webhooks_pb2.ListWebhooksRequest())).data

    async def deliveries(self, webhook_id: str,
                         page_size: int = 100) -> AsyncIterator[webhooks_pb2.WebhookDelivery]:
        """A webhook's deliveries, newest first, each with its attempts."""
        request = webhooks_pb2.ListWebhookDeliveriesRequest(webhook_id=webhook_id,
                                                            page_size=page_size)
        async for delivery in self._each("ListWebhookDeliveries", request):
            yield delivery


class AsyncSources(_Area):
    """Custom sources (their own calls use the source's token, not this client's)."""

    async def create(self, source_id: str, *, action_endpoint: str = "", name: str = "",
                     image_url: str = "") -> sources_pb2.CreateSourceResponse:
        """A new source; the answer's `token` is shown this once."""
        return await self._write("CreateSource", sources_pb2.CreateSourceRequest(
            source_id=source_id, action_endpoint=action_endpoint, name=name, image_url=image_url),
            idempotent=False)

    async def list(self) -> Sequence[sources_pb2.Source]:
        """Every source."""
        return (await self._read("ListSources", sources_pb2.ListSourcesRequest())).data

    async def update(self, source_id: str, *, action_endpoint: str | None = None,
                     name: str | None = None, image_url: str | None = None) -> sources_pb2.Source:
        """Change a source."""
        return await self._write("UpdateSource", sources_pb2.UpdateSourceRequest(
            source_id=source_id, action_endpoint=action_endpoint, name=name, image_url=image_url),
            idempotent=True)

    async def delete(self, source_id: str) -> None:
        """Delete a source: its token stops working, its channels are disconnected."""
        await self._write("DeleteSource", sources_pb2.DeleteSourceRequest(source_id=source_id),
                          idempotent=True)


class AsyncEvents(_Area):
    """Realtime events."""

    async def subscribe(self, types: Sequence[str] = (), *, conversation_id: str = "",
                        channel_id: str = "",
                        resume_token: str = "") -> AsyncIterator[resources_pb2.Event]:
        """Events as they happen (of `types`, of one conversation or channel, when given), after
        `resume_token` when given. The stream never ends by itself: when Parley is restarted or
        the connection drops, it reconnects with backoff and resumes after the last event it
        yielded, so none is missed or repeated. OutOfRange when the token is older than the
        events Parley keeps."""
        token, attempt = resume_token, 0
        while True:
            request = events_pb2.SubscribeRequest(types=list(types), conversation_id=conversation_id,
                                                  channel_id=channel_id, resume_token=token)
            try:
                async with aclosing(self._transport.stream(self._rpc("Subscribe"), request)) as stream:
                    async for event in stream:
                        if event.type == HEARTBEAT:
                            continue
                        if event.type == STREAM_ERROR:
                            break  # the server ended the stream (stopping, or we were too slow)
                        attempt = 0
                        token = event.resume_token or token
                        yield event
            except ParleyError as exc:
                if exc.code not in RECONNECT_ON:
                    raise
            attempt += 1
            await asyncio.sleep(backoff_s(attempt))


class AsyncStatus(_Area):
    """Health of the install."""

    async def health(self) -> status_pb2.GetHealthResponse:
        """Every component's health and the overall status."""
        return await self._read("GetHealth", status_pb2.GetHealthRequest())


class AsyncClient:
    """Parley's API, for asyncio:

        async with AsyncClient("127.0.0.1:8080", token="...") as client:
            async for conversation in client.conversations.list(filters="unread_count:[1 TO *]"):
                ...

    `token` defaults to the PARLEY_TOKEN environment variable; `timeout_s` is each call's
    deadline; `secure` uses TLS (a public install behind HTTPS).
    """

    def __init__(self, target: str = "127.0.0.1:8080", *, token: str | None = None,
                 timeout_s: float = 10.0, secure: bool = False) -> None:
        self._transport = AsyncTransport(Options(target, token, timeout_s, secure))
        transport = self._transport
        self.messages = AsyncMessages(transport, messages_pb2_grpc.MessagesServiceStub,
                                      messaging_pb2_grpc.MessagingServiceStub)
        self.conversations = AsyncConversations(
            transport, conversations_pb2_grpc.ConversationsServiceStub)
        self.channels = AsyncChannels(transport, channels_pb2_grpc.ChannelsServiceStub)
        self.contacts = AsyncContacts(transport, contacts_pb2_grpc.ContactsServiceStub)
        self.tags = AsyncTags(transport, tags_pb2_grpc.TagsServiceStub)
        self.templates = AsyncTemplates(transport, templates_pb2_grpc.TemplatesServiceStub)
        self.metadata = AsyncMetadata(transport, metadata_pb2_grpc.MetadataServiceStub)
        self.webhooks = AsyncWebhooks(transport, webhooks_pb2_grpc.WebhooksServiceStub)
        self.sources = AsyncSources(transport, sources_pb2_grpc.SourcesServiceStub)
        self.events = AsyncEvents(transport, events_pb2_grpc.EventsServiceStub)
        self.status = AsyncStatus(transport, status_pb2_grpc.StatusServiceStub)

    async def close(self) -> None:
        """Close the connection."""
        await self._transport.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
