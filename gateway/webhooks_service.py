"""WebhooksService: webhooks through the compacted `parley.webhooks` topic (projected by the
store like every entity), and their delivery log.

A webhook's URL must be one outbound calls may reach (`runtime.outbound`). Its header values are
write-only, like signing keys: they often are the receiver's credentials, so every answer shows
them as `MASK` (and an update that sends `MASK` back keeps the value it stands for)."""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from collections.abc import Mapping, Sequence

from google.protobuf import json_format

from gateway import deliveries
from gateway.deliveries import DeliveryKeys
from gateway.dispatcher import SUBSCRIBED
from parley.v1 import records_pb2, resources_pb2, webhooks_pb2, webhooks_pb2_grpc
from runtime import json_values, outbound, timestamps, topics
from runtime.errors import InvalidArgument, NotFound
from store.client import CommandWriter, StoreReads, events
from runtime.server import Ctx
from runtime.redis import Client

UNSUBSCRIBED, DISABLED = "Unsubscribed", "Disabled"
#: What answers show instead of a header's value.
MASK = "****"


def served(webhook: resources_pb2.Webhook) -> resources_pb2.Webhook:
    """`webhook` as answers show it: its header values masked."""
    shown = resources_pb2.Webhook()
    shown.CopyFrom(webhook)
    # Over a copy of the names: writing into a protobuf map while iterating it may end the
    # iteration early and leave values unmasked.
    for name in list(shown.headers):
        shown.headers[name] = MASK
    return shown


def unmasked(headers: Mapping[str, str], current: Mapping[str, str]) -> dict[str, str]:
    """New `headers` where a `MASK` value keeps the `current` value of that header (a client that
    read the webhook and sends its headers back changes nothing); InvalidArgument for a `MASK`
    of a header the webhook does not have."""
    kept = {}
    for name, value in headers.items():
        if value == MASK and name not in current:
            raise InvalidArgument(f"headers.{name}: {MASK} keeps a header's value, and the "
                                  "webhook has no such header")
        kept[name] = current[name] if value == MASK else value
    return kept


def checked_key(key: str) -> str:
    """`key` when it is a Standard Webhooks secret ("whsec_" + base64, or bare base64)."""
    try:
        decoded = base64.b64decode(key.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) < 16:
        raise InvalidArgument("signature_key must be whsec_ followed by base64 of at least 16 bytes")
    return key


def new_key() -> str:
    """A new signing secret, formatted as Standard Webhooks libraries expect it."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhooksServicer(webhooks_pb2_grpc.WebhooksServiceServicer):
    """Subscribe, update, unsubscribe, read and list webhooks; read their delivery logs."""

    def __init__(self, redis: Client, reads: StoreReads, delivery_keys: DeliveryKeys,
                 commands: CommandWriter, outbound_allow: Sequence[outbound.Network] = ()) -> None:
        self.redis = redis
        self.reads = reads
        self.delivery_keys = delivery_keys
        self.commands = commands
        self.outbound_allow = outbound_allow

    async def _checked_url(self, url: str) -> str:
        """`url` when deliveries may go there, else InvalidArgument saying why."""
        try:
            await outbound.check_destination(url, self.outbound_allow)
        except outbound.Refused as exc:
            raise InvalidArgument(f"url {url!r} is refused: {exc}") from exc
        return url

    async def write(self, record: records_pb2.WebhookRecord) -> None:
        """Write a webhook through Kafka; return once the store projected it."""
        await self.commands.write(topics.WEBHOOKS, record.webhook.id, record)

    async def disable(self, record: records_pb2.WebhookRecord, reason: str) -> None:
        """Stop deliveries to a webhook that keeps failing, saying why (the dispatcher's call)."""
        disabled = records_pb2.WebhookRecord()
        disabled.CopyFrom(record)
        disabled.webhook.status, disabled.webhook.status_reason = DISABLED, reason
        await self.write(disabled)

    async def _existing(self, webhook_id: str) -> records_pb2.WebhookRecord:
        if not webhook_id:
            raise InvalidArgument("id is required")
        found = await self.reads.webhook(webhook_id)
        if found is None or found.deleted:
            raise NotFound(f"webhook {webhook_id} not found")
        return found

    async def SubscribeWebhook(self, request: webhooks_pb2.SubscribeWebhookRequest, context: Ctx) -> resources_pb2.Webhook:
        key = checked_key(request.signature_key) if request.signature_key else new_key()
        webhook = resources_pb2.Webhook(
            id=request.id or str(uuid.uuid4()), name=request.name,
            url=await self._checked_url(request.url), headers=unmasked(request.headers, {}),
            events=events.check_types(list(request.events)), status=SUBSCRIBED)
        await self.write(records_pb2.WebhookRecord(webhook=webhook, signature_key=key,
                                                   created_at_ms=timestamps.now_ms()))
        shown = served(webhook)
        if not request.signature_key:
            shown.generated_signature_key = key  # shown this once
        return shown

    async def UpdateWebhook(self, request: webhooks_pb2.UpdateWebhookRequest, context: Ctx) -> resources_pb2.Webhook:
        record = await self._existing(request.id)
        webhook = record.webhook
        if request.HasField("url"):
            webhook.url = await self._checked_url(request.url)
        if request.HasField("name"):
            webhook.name = request.name
        if request.HasField("headers"):
            headers = json_format.MessageToDict(request.headers)
            if not all(isinstance(v, str) for v in headers.values()):
                raise InvalidArgument("headers must map names to string values")
            kept = unmasked(headers, webhook.headers)
            webhook.ClearField("headers")
            webhook.headers.update(kept)
        if request.HasField("events"):
            types = [json_values.from_value(value) for value in request.events.values]
            if not all(isinstance(t, str) for t in types):
                raise InvalidArgument("events must be a list of event types")
            webhook.ClearField("events")
            webhook.events.extend(events.check_types(types))
        if request.HasField("signature_key"):
            record.signature_key = checked_key(request.signature_key)
        if request.HasField("status"):
            if request.status not in (SUBSCRIBED, UNSUBSCRIBED):
                raise InvalidArgument(f"status must be {SUBSCRIBED} or {UNSUBSCRIBED}")
            if request.status == SUBSCRIBED and webhook.status != SUBSCRIBED:
                record.created_at_ms = timestamps.now_ms()  # events of the time it was off are not sent
            webhook.status, webhook.status_reason = request.status, ""
        await self.write(record)
        return served(webhook)

    async def UnsubscribeWebhook(self, request: webhooks_pb2.UnsubscribeWebhookRequest, context: Ctx) -> resources_pb2.Webhook:
        record = await self._existing(request.id)
        record.webhook.status, record.webhook.status_reason = UNSUBSCRIBED, ""
        await self.write(record)
        return served(record.webhook)

    async def GetWebhook(self, request: webhooks_pb2.GetWebhookRequest, context: Ctx) -> resources_pb2.Webhook:
        return served((await self._existing(request.id)).webhook)

    async def ListWebhooks(self, request: webhooks_pb2.ListWebhooksRequest, context: Ctx) -> webhooks_pb2.ListWebhooksResponse:
        return webhooks_pb2.ListWebhooksResponse(
            data=[served(r.webhook) for r in await self.reads.webhooks() if not r.deleted])

    async def ListWebhookDeliveries(self, request: webhooks_pb2.ListWebhookDeliveriesRequest, context: Ctx) -> webhooks_pb2.ListWebhookDeliveriesResponse:
        await self._existing(request.webhook_id)
        return await deliveries.page(self.redis, self.delivery_keys, request.webhook_id,
                                     request.cursor, request.page_size)
