"""App-level secrets of each source, from their declarations (`Source.settings` of the registry).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

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

