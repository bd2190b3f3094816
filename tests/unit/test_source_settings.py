"""Every source of the registry has its settings declared (`runtime.source_settings`): a source
added without them would fail to start."""

from __future__ import annotations

from runtime.source_settings import SOURCES
from sources import CONNECTORS, WEBHOOK_SOURCES


def test_every_registered_source_has_its_settings_declared() -> None:
    registered = set(WEBHOOK_SOURCES) | {name for name, _ in CONNECTORS.values()}
    assert registered - set(SOURCES) == set(), "declare them in runtime.source_settings.SOURCES"
