"""One module per source: `verify` the request, find its `routing_key`, `translate` raw bytes.

`SOURCES` maps a raw-topic source name (`source.<name>.events`) to its module. The chat plugin
and custom sources are written by Parley's own API after it checked their tokens, so their
modules have no `verify`: `WEBHOOK_SOURCES` are the ones with an inbound webhook path.
"""

from __future__ import annotations

from types import ModuleType

from ingest.sources import chatplugin, custom, facebook, google, instagram, twilio, viber, whatsapp

WEBHOOK_SOURCES: dict[str, ModuleType] = {
    module.NAME: module for module in (facebook, instagram, whatsapp, google, twilio, viber)
}
SOURCES: dict[str, ModuleType] = {**WEBHOOK_SOURCES, chatplugin.NAME: chatplugin,
                                  custom.NAME: custom}
