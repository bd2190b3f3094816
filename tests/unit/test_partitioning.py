"""Co-partitioning: the keys of records about a conversation, and the assignor that gives one
member the same partition numbers of every topic."""

from __future__ import annotations

import pytest
from aiokafka.cluster import ClusterMetadata
from aiokafka.coordinator.protocol import ConsumerProtocolMemberMetadata

from aiokafka.partitioner import DefaultPartitioner

from runtime.partitioning import CoPartitionAssignor, metadata_key, partition_of


def test_records_about_a_conversation_share_its_key() -> None:
    assert metadata_key("conversation", "c1") == "c1"
    assert metadata_key("message", "m1", "c1") == "c1"
    assert metadata_key("channel", "ch1") == "ch1"
    with pytest.raises(ValueError, match="needs its conversation"):
        metadata_key("message", "m1")
    with pytest.raises(ValueError):
        metadata_key("contact", "x1")


def test_the_store_finds_the_partition_kafka_chose() -> None:
    for count in (1, 3, 12):
        for key in ("c1", "35c1ec3b-3eea-4b5e-9a3f-0d8e1f2a3b4c", "ünïcode", ""):
            assert partition_of(key, count) == DefaultPartitioner()(
                key.encode(), list(range(count)), list(range(count)))


class _Cluster(ClusterMetadata):  # type: ignore[misc]
    """Topic -> partition count, as the assignor reads it."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__()
        self.counts = counts

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self.counts[topic]))


def _assign(counts: dict[str, int], members: list[str]) -> dict[str, dict[str, list[int]]]:
    metadata = {m: CoPartitionAssignor.metadata(set(counts)) for m in members}
    assigned = CoPartitionAssignor.assign(_Cluster(counts), metadata)
    return {m: dict(a.assignment) for m, a in assigned.items()}


def test_a_member_gets_the_same_partition_numbers_of_every_topic() -> None:
    topics = {"p.messages": 6, "p.metadata": 6, "p.channels": 6}
    for members in (["a"], ["a", "b"], ["c", "a", "b"], ["a", "b", "c", "d", "e", "f", "g"]):
        assigned = _assign(topics, members)
        owners: dict[int, str] = {}
        for member, by_topic in assigned.items():
            numbers = {tuple(p) for p in by_topic.values()}
            assert len(numbers) == 1 and set(by_topic) == set(topics)
            for number in numbers.pop():
                assert owners.setdefault(number, member) == member
        assert sorted(owners) == list(range(6))  # every number, each to exactly one member


def test_topics_of_different_partition_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="not co-partitioned"):
        _assign({"p.messages": 6, "p.metadata": 3}, ["a", "b"])


def test_a_members_metadata_lists_its_topics() -> None:
    metadata = CoPartitionAssignor.metadata({"b", "a"})
    assert isinstance(metadata, ConsumerProtocolMemberMetadata)
    assert metadata.subscription == ["a", "b"]
