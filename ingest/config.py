"""App-level secrets of each source and the public URL, from their declarations
(`Source.settings` of the registry, `runtime.settings.PUBLIC_URL`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from runtime.settings import PUBLIC_URL, Settings
from sources import REGISTRY
from sources.settings import read
from sources.inbound import SourceConfig


def source_config(source: str, env: Mapping[str, str] = os.environ) -> SourceConfig:
    """The secrets of `source` ("facebook", "twilio", ...)."""
    declared = REGISTRY[source].settings
    return SourceConfig(
        app_secret=read(declared.app_secret, env),
        verify_token=read(declared.verify_token, env),
        auth_token=read(declared.auth_token, env),
        client_token=read(declared.client_token, env),
    )


def public_url(settings: Settings, env: Mapping[str, str] = os.environ) -> str:
    """The public base URL of this install, without a trailing slash: by default Envoy's local
    address."""
    return (PUBLIC_URL.read(env) or f"http://127.0.0.1:{settings.http_port}").rstrip("/")
