"""App-level secrets of each source and the public URL, from `PARLEY_*` environment variables.

Per source (upper-case name): `PARLEY_<SOURCE>_APP_SECRET`, `_VERIFY_TOKEN` (Meta: FACEBOOK,
INSTAGRAM, WHATSAPP), `PARLEY_TWILIO_AUTH_TOKEN`, `PARLEY_VIBER_AUTH_TOKEN`,
`PARLEY_GOOGLE_CLIENT_TOKEN`. A source without its secret rejects every webhook (403): an
unverifiable request is never accepted. `PARLEY_PUBLIC_URL` is the URL the sources call (Twilio
signs it), e.g. `https://parley.example.com`; by default Envoy's local address.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from runtime.settings import Settings
from sources.inbound import SourceConfig


def source_config(source: str, env: Mapping[str, str] = os.environ) -> SourceConfig:
    """The secrets of `source` ("facebook", "twilio", ...)."""
    prefix = f"PARLEY_{source.upper()}_"
    return SourceConfig(
        app_secret=env.get(prefix + "APP_SECRET", ""),
        verify_token=env.get(prefix + "VERIFY_TOKEN", ""),
        auth_token=env.get(prefix + "AUTH_TOKEN", ""),
        client_token=env.get(prefix + "CLIENT_TOKEN", ""),
    )


def public_url(settings: Settings, env: Mapping[str, str] = os.environ) -> str:
    """The public base URL of this install, without a trailing slash."""
    return env.get("PARLEY_PUBLIC_URL", f"http://127.0.0.1:{settings.http_port}").rstrip("/")
