"""The outbound connectors, one module per source API (see `base` for what each defines).

Custom sources all send through `custom`, configured from their source record."""

from __future__ import annotations

from types import ModuleType

from messaging.connectors import custom, facebook, google, instagram, twilio, viber, whatsapp
from messaging.connectors.base import ConnectorConfig, connector_config
from store.client import StoreReads

#: The connector of every built-in `Message.source` Parley sends for.
CONNECTORS: dict[str, ModuleType] = {
    source: module
    for module in (facebook, instagram, whatsapp, twilio, viber, google)
    for source in module.SOURCES
}


def config_for(source: str) -> ConnectorConfig:
    """The API configuration of `source`'s connector, read from `PARLEY_<NAME>_*` now, where NAME
    is the module's name ("twilio" for "twilio.sms"); KeyError for a source without one."""
    module = CONNECTORS[source]
    return connector_config(module.__name__.rpartition(".")[2], module.DEFAULT_API_URL)


async def connector_for(source: str, reads: StoreReads) -> tuple[ModuleType, ConnectorConfig] | None:
    """The connector and configuration that send `source`'s messages: a built-in source's, or a
    custom source's action endpoint; None when there is neither."""
    if source in CONNECTORS:
        return CONNECTORS[source], config_for(source)
    record = await reads.source(source)
    if record is None or not record.source.action_endpoint:
        return None
    return custom, custom.config_for_source(record)
