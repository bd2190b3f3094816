"""Which connector sends a channel's messages, and its configuration: a built-in source's
(`sources.CONNECTORS`, configured from `PARLEY_<NAME>_*`), or a custom source's action endpoint
(configured from its source record)."""

from __future__ import annotations

from sources import CONNECTORS, REGISTRY, custom
from sources.outbound import ConnectorConfig, connector_config
from sources.spec import Connector
from store.client import StoreReads


def config_for(channel_source: str) -> ConnectorConfig:
    """The API configuration of the built-in connector of `channel_source`, read now from
    `PARLEY_<NAME>_*`, NAME its source's ("twilio" for "twilio.sms"); KeyError for a channel
    source without one."""
    name, connector = CONNECTORS[channel_source]
    return connector_config(REGISTRY[name].settings, connector.default_api_url)


async def connector_for(channel_source: str,
                        reads: StoreReads) -> tuple[Connector, ConnectorConfig] | None:
    """The connector and configuration that send `channel_source`'s messages: a built-in
    source's, or a custom source's action endpoint; None when there is neither."""
    if channel_source in CONNECTORS:
        return CONNECTORS[channel_source][1], config_for(channel_source)
    record = await reads.source(channel_source)
    if record is None or not record.source.action_endpoint:
        return None
    return custom.CONNECTOR, custom.config_for_source(record)
