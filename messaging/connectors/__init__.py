"""The outbound connectors, one module per source API (see `base` for what each defines)."""

from __future__ import annotations

from types import ModuleType

from messaging.connectors import facebook, google, instagram, twilio, viber, whatsapp
from messaging.connectors.base import ConnectorConfig, connector_config

#: The connector of every `Message.source` Parley sends for.
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
