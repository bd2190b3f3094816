"""`python -m ingest`: the ingest service.

IngestService and SourcesService are defined in the contracts; until their bodies are built
this process serves only health, so their RPCs answer UNIMPLEMENTED (501 through Envoy).
"""

from __future__ import annotations

import asyncio

from runtime import logging as runtime_logging
from runtime import settings as settings_module
from runtime.server import serve


async def main() -> None:
    """Serve the ingest service."""
    settings = settings_module.load()
    runtime_logging.configure("ingest", settings.log_level)
    await serve("ingest", settings, registrations=[])


if __name__ == "__main__":
    asyncio.run(main())
