"""Co-partitioning, as Kafka Streams does it: every record about one conversation lands on the
partition of that conversation, on every topic, and one projector owns a partition number on all
topics at once.

- Keys: a conversation's messages and read markers, its metadata and its messages' metadata are
  keyed by the conversation's id; a channel's metadata by the channel's id, like the channel's
  own records; every other entity by its id. Every topic has the same number of partitions, and
  Kafka's partitioner maps one key to one partition number on each.
- Assignment: `CoPartitionAssignor` gives a member the same partition numbers of every topic it
  subscribes to, so the records about a conversation are all projected by the same member.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from aiokafka.cluster import ClusterMetadata
from aiokafka.partitioner import murmur2
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.protocol import (
    ConsumerProtocolMemberAssignment,
    ConsumerProtocolMemberMetadata,
)

#: Metadata subjects keyed by their own identifier (a conversation, a channel).
_OWN_KEY_SUBJECTS = ("conversation", "channel")


@functools.lru_cache(maxsize=1 << 16)
def partition_of(key: str, partitions: int) -> int:
    """The partition number Kafka's default partitioner gives records keyed `key` on a topic of
    `partitions` partitions (murmur2 of the key's bytes), so the store finds where a
    conversation's records were projected without asking Kafka. Cached: murmur2 in Python takes
    some 8 us, and a page of conversations asks it for each of them several times."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def metadata_key(subject: str, identifier: str, conversation_id: str = "") -> str:
    """The Kafka key of a metadata record about `subject` `identifier`: the conversation's id for
    a conversation and for a message (`conversation_id`, the message's conversation), the
    channel's id for a channel. ValueError when a message's conversation is not given."""
    if subject in _OWN_KEY_SUBJECTS:
        return identifier
    if subject == "message" and conversation_id:
        return conversation_id
    raise ValueError(f"no partition key for {subject} {identifier!r} "
                     f"(a message's metadata needs its conversation)")


class CoPartitionAssignor(AbstractPartitionAssignor):  # type: ignore[misc]
    """Partition number i of every subscribed topic to the same member (members in a stable
    order, numbers dealt round-robin); refuses topics of different partition counts."""

    name = "copartition"
    version = 0

    @classmethod
    def assign(cls, cluster: ClusterMetadata, members: Mapping[str, ConsumerProtocolMemberMetadata]
               ) -> dict[str, ConsumerProtocolMemberAssignment]:
        """The assignment of `members` (each subscribed to the same topics)."""
        topics = sorted(set().union(*(m.subscription for m in members.values())))
        counts = {t: len(cluster.partitions_for_topic(t) or ()) for t in topics}
        if len(set(counts.values())) > 1:
            raise ValueError(f"topics are not co-partitioned: {counts}")
        partitions = next(iter(counts.values()), 0)
        ids = sorted(members)
        return {member: ConsumerProtocolMemberAssignment(
            cls.version, [(t, list(range(i, partitions, len(ids)))) for t in topics], b"")
            for i, member in enumerate(ids)}

    @classmethod
    def metadata(cls, topics: set[str]) -> ConsumerProtocolMemberMetadata:
        """What a member tells the group: the topics it subscribes to."""
        return ConsumerProtocolMemberMetadata(cls.version, sorted(topics), b"")

    @classmethod
    def on_assignment(cls, assignment: ConsumerProtocolMemberAssignment) -> None:
        """Nothing to remember."""
