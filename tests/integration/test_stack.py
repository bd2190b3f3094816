"""The stack uses servers it is pointed at (PARLEY_KAFKA_BOOTSTRAP, PARLEY_REDIS_URL) instead of
starting its own."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from runtime.settings import Settings
from stack import kafka, redis, stack


def test_configured_servers_are_used_not_started(live_stack: Settings, tmp_path: Path) -> None:
    elsewhere = dataclasses.replace(
        live_stack, data_dir=tmp_path, kafka_bootstrap=live_stack.bootstrap_servers
    )
    assert kafka.start(elsewhere, stack.CACHE_DIR).startswith("using the Kafka at")
    assert redis.start(elsewhere).startswith("using the Redis at")
    assert not (tmp_path / "run").exists()  # no pid file: nothing was started
