"""Names of the store's Redis keys. The store owns this keyspace; nothing else writes it."""

from __future__ import annotations

from dataclasses import dataclass

from runtime import redis as runtime_redis
from runtime.settings import Settings


@dataclass(frozen=True)
class StoreKeys:
    """Key names under the install's namespace."""

    settings: Settings

    def message(self, message_id: str) -> str:
        """String: the serialized `MessageRecord` of a message."""
        return runtime_redis.key(self.settings, "msg", message_id)

    def conversation_messages(self, conversation_id: str) -> str:
        """Sorted set (all scores 0, ordered by member): `<sent_at_ms:015d>:<message_id>`."""
        return runtime_redis.key(self.settings, "conv", conversation_id, "messages")

    def projector_offset(self, topic: str, partition: int) -> str:
        """String: the next Kafka offset the projector applies for one topic partition."""
        return runtime_redis.key(self.settings, "offset", "projector", topic, str(partition))
