"""`python -m messaging`: the messaging service.

MessagingService is defined in the contracts; until its bodies are built this process serves
only health, so its RPCs answer UNIMPLEMENTED (501 through Envoy).
"""

from __future__ import annotations

import asyncio

from runtime import logging as runtime_logging
from runtime import settings as settings_module
from runtime.server import serve


async def main() -> None:
    """Serve the messaging service."""
    settings = settings_module.load()
    runtime_logging.configure("messaging", settings.log_level)
    await serve("messaging", settings, registrations=[])


if __name__ == "__main__":
    asyncio.run(main())
