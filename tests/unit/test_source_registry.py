"""The source registry and the contracts agree: every webhook path and every connect call of the
protos has its source, and every source its RPCs (pure: no infrastructure)."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.webhooks_service import Webhooks
from parley.v1 import channels_pb2, ingest_pb2
from runtime import settings as settings_module
from runtime.server import Registration
from sources import CHANNEL_KINDS, WEBHOOK_SOURCES
from store.channels_service import Channels
from store.keys import StoreKeys


def _methods(pb2: Any, service: str) -> set[str]:
    return {method.name for method in pb2.DESCRIPTOR.services_by_name[service].methods}


def test_ingest_serves_exactly_the_registrys_webhooks() -> None:
    registration = Webhooks(settings_module.load({}), producer=None).registration()  # type: ignore[arg-type]
    assert set(registration.servicer) == _methods(ingest_pb2, "IngestService")
    assert {name for name in registration.servicer if name.startswith("Receive")} == {
        f"Receive{source.webhook.rpc}Webhook" for source in WEBHOOK_SOURCES.values()
        if source.webhook is not None}


def test_channels_serve_a_connect_and_disconnect_per_kind() -> None:
    settings = settings_module.load({})
    registration = Channels(None, StoreKeys(settings), None).registration()  # type: ignore[arg-type]
    assert set(registration.servicer) == _methods(channels_pb2, "ChannelsService")


@pytest.mark.parametrize("kind", CHANNEL_KINDS.values(), ids=list(CHANNEL_KINDS))
def test_a_kinds_fields_are_its_connect_requests(kind: Any) -> None:
    fields = set(getattr(channels_pb2, f"Connect{kind.rpc}Request").DESCRIPTOR.fields_by_name)
    assert {"name", "image_url"} <= fields
    assert set(kind.required) | set(kind.secrets) <= fields


def test_a_contract_method_without_a_handler_is_refused() -> None:
    handlers = dict(Webhooks(settings_module.load({}), producer=None)  # type: ignore[arg-type]
                    .registration().servicer)
    handlers.pop("ReceiveViberWebhook")
    with pytest.raises(ValueError, match="ReceiveViberWebhook"):
        Registration.of_handlers(ingest_pb2, "IngestService", handlers)
