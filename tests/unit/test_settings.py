"""PARLEY_REDIS_CLUSTER_NODES: parsed once, a bad node named."""

from __future__ import annotations

import pytest

from runtime.settings import cluster_nodes


def test_cluster_nodes_are_host_port_pairs_and_empty_means_no_cluster() -> None:
    assert cluster_nodes("") == ()
    assert cluster_nodes("10.0.0.5:7000, redis-2:7001,[fd00::5]:7002,") == (
        ("10.0.0.5", 7000), ("redis-2", 7001), ("fd00::5", 7002))


@pytest.mark.parametrize("bad", ["redis-1", ":7000", "redis-1:", "redis-1:x", "redis-1:70000"])
def test_a_node_that_is_not_host_port_is_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match=f"PARLEY_REDIS_CLUSTER_NODES: '{bad}'"):
        cluster_nodes(f"127.0.0.1:7000,{bad}")
