"""One module per source: `verify` the request, find its `routing_key`, `translate` raw bytes.

`SOURCES` maps a raw-topic source name (`source.<name>.events`) to its module.
"""

from __future__ import annotations

from types import ModuleType

from ingest.sources import facebook, google, instagram, twilio, viber, whatsapp

SOURCES: dict[str, ModuleType] = {
    module.NAME: module for module in (facebook, instagram, whatsapp, google, twilio, viber)
}
