"""The sources Parley connects, one module each, registered here once.

Each module ends with its `SOURCE` (`sources.spec.Source`): its raw topic and webhook path, its
translator, the kinds of channel users connect, its connector. Ingest, the translator, the
store, messaging and the CLI derive their parts from `REGISTRY`; adding a source is its module,
its line below, its proto messages (`Receive<Name>Webhook` in `ingest.proto`, `Connect<Name>` and
`Disconnect<Name>` in `channels.proto`) and its tests.
"""

from __future__ import annotations

from runtime.setting import Setting
from sources import chatplugin, custom, facebook, google, instagram, twilio, viber, whatsapp
from sources.spec import ChannelKind, Connector, Source

#: Every source, by name (`source.<name>.events`).
REGISTRY: dict[str, Source] = {
    module.SOURCE.name: module.SOURCE
    for module in (facebook, instagram, whatsapp, google, twilio, viber, chatplugin, custom)
}

#: The operator's settings of every source, in README's order (`runtime.settings_table`).
DECLARED: tuple[Setting[str], ...] = tuple(
    setting for source in REGISTRY.values() for setting in source.settings.declared())

#: The sources with an inbound webhook path of their own.
WEBHOOK_SOURCES: dict[str, Source] = {
    name: source for name, source in REGISTRY.items() if source.webhook is not None
}

#: Every kind of channel users connect, by `Channel.source` ("twilio.sms").
CHANNEL_KINDS: dict[str, ChannelKind] = {
    kind.source: kind for source in REGISTRY.values() for kind in source.channels
}

#: The built-in connector that sends messages of each kind of channel, with the name of its source
#: (which names its settings, `PARLEY_<NAME>_API_URL`): Twilio's for "twilio.whatsapp". Chat
#: plugin and custom sources' channels have none here.
CONNECTORS: dict[str, tuple[str, Connector]] = {
    kind.source: (source.name, source.connector)
    for source in REGISTRY.values() if source.connector is not None for kind in source.channels
}
