"""Every source declares the settings it needs in its spec (`Source.settings`): a webhook source
the secret that verifies its webhooks, a source with a connector its API's URL, each under its
own name."""

from __future__ import annotations

import pytest

from sources import REGISTRY
from sources.spec import Source


@pytest.mark.parametrize("source", REGISTRY.values(), ids=list(REGISTRY))
def test_a_source_declares_what_it_needs_under_its_name(source: Source) -> None:
    declared = source.settings
    if source.webhook is not None:
        assert declared.app_secret or declared.auth_token or declared.client_token
    if source.connector is not None:
        assert declared.api_url is not None
    assert all(setting.env.startswith(f"PARLEY_{source.name.upper()}_")
               for setting in declared.declared())
