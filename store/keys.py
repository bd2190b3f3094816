"""Names of the store's Redis keys. The store owns this keyspace; nothing else writes it."""

from __future__ import annotations

from dataclasses import dataclass

from runtime import redis as runtime_redis
from runtime.settings import Settings


@dataclass(frozen=True)
class StoreKeys:
    """Key names under the install's namespace."""

    settings: Settings

    def _key(self, *parts: str) -> str:
        return runtime_redis.key(self.settings, *parts)

    def message(self, message_id: str) -> str:
        """String: the serialized `MessageRecord` of a message."""
        return self._key("msg", message_id)

    def conversation_messages(self, conversation_id: str) -> str:
        """Sorted set (all scores 0, ordered by member): `<sent_at_ms:015d>:<message_id>`."""
        return self._key("conv", conversation_id, "messages")

    def conversation_contact_messages(self, conversation_id: str) -> str:
        """Sorted set like `conversation_messages`, of the contact's messages only (unread)."""
        return self._key("conv", conversation_id, "contact")

    def conversation(self, conversation_id: str) -> str:
        """Hash: a conversation's channel, contact, source, creation time, last message (and
        `last_member`, the message-index member of the newest message)."""
        return self._key("conv", conversation_id)

    def conversations(self) -> str:
        """Sorted set: conversation ids scored by their last activity (the newest message's
        source time); ties are ordered by id."""
        return self._key("conversations")

    def metadata(self, subject: str, identifier: str) -> str:
        """String: the JSON metadata document of one subject (message, conversation, ...)."""
        return self._key("meta", subject, identifier)

    def channel(self, channel_id: str) -> str:
        """String: the serialized `ChannelRecord` of a channel (secrets included: never served)."""
        return self._key("channel", channel_id)

    def connected_channels(self) -> str:
        """Set: ids of the connected channels."""
        return self._key("channels", "connected")

    def index(self, kind: str, value: str = "") -> str:
        """Sorted set like `conversations` (ids scored by last activity): the conversations of
        one channel, source, tag or state ("channel", ...), with unread messages ("unread"), with
        a metadata path ("has", path) or a metadata value ("meta", `<path>=<text>`); "gram"
        indexes (name trigrams) hold membership only."""
        return self._key("idx", kind, value) if value else self._key("idx", kind)

    def meta_values(self, path: str) -> str:
        """Sorted set (all scores 0, lexical): every text metadata `path` has held, whose "meta"
        index may hold conversations; a prefix wildcard unites the indexes of its range."""
        return self._key("metavalues", path)

    def created(self) -> str:
        """Sorted set: conversation ids scored by creation time (epoch ms), for `created_at` ranges."""
        return self._key("created")

    def unread_counts(self) -> str:
        """Sorted set: conversation ids scored by their unread count, for `unread_count` ranges."""
        return self._key("unreadcounts")

    def temporary(self, name: str) -> str:
        """A short-lived key of one query (filtered lists)."""
        return self._key("tmp", name)

    def contacts(self) -> str:
        """Sorted set: contact ids scored by when they were first seen (epoch ms)."""
        return self._key("contacts", "seen")

    def contact_conversations(self, contact_id: str) -> str:
        """Hash: a contact's conversations, conversation id -> source."""
        return self._key("contact", contact_id, "conversations")

    def contact_of(self, conversation_id: str) -> str:
        """String: the contact id of a conversation (a merge moves it to the destination)."""
        return self._key("contactof", conversation_id)

    def entity(self, kind: str, entity_id: str) -> str:
        """String: the serialized record of one entity of a compacted topic (tag, template)."""
        return self._key(kind, entity_id)

    def entities(self, kind: str) -> str:
        """Set: the ids of every live entity of `kind`."""
        return self._key(kind + "s")

    def credential(self, sha256: str) -> str:
        """String: `<kind>/<id>` of the custom source ("source/<id>") or API token
        ("token/<name>") whose secret has this hex SHA-256."""
        return self._key("credential", sha256)

    def source_message(self, channel_id: str, source_message_id: str) -> str:
        """String: the Parley message id that first carried this source message id, so an echo of
        a message Parley sent itself is not stored twice."""
        return self._key("srcmsg", channel_id, source_message_id)

    def namespace_pattern(self) -> str:
        """SCAN pattern of every key of this install (used by `parley rebuild` only)."""
        return self._key("*")

    def durable_prefix(self) -> bytes:
        """Prefix of the keys `parley rebuild` keeps (`runtime.redis.durable_key`)."""
        return runtime_redis.durable_key(self.settings, "").encode()

    def events(self) -> str:
        """Stream: the realtime events the projector writes (for now the global one of
        `event_streams`). Durable: a rebuild does not emit them again."""
        return self.event_streams()[-1]

    def event_streams(self) -> list[str]:
        """Streams of the realtime events: one per partition number, then the global one."""
        ns = self.settings.namespace or "parley"
        return (["{" + f"{ns}:p{n}" + "}:durable:events" for n in range(self.settings.topic_partitions)]
                + ["{" + f"{ns}:g" + "}:durable:events"])

    def events_emitted(self, topic: str, partition: int) -> str:
        """String: the next offset of one topic partition whose records may emit events; a
        replay (rebuild) below it emits none."""
        return runtime_redis.durable_key(self.settings, "emitted", topic, str(partition))

    def projection_generation(self) -> str:
        """String: bumped by `parley rebuild`; a projector that sees it change replays Kafka."""
        return self._key("projection", "generation")

    def projection_layout(self) -> str:
        """String: the `LAYOUT_VERSION` of the projection in Redis."""
        return self._key("projection", "layout")

    def projector_owner(self, partition: int) -> str:
        """String: the generation of the projector that owns partition number `partition` (of
        every topic): bumped by each new owner, checked in each of its writes, so a projector
        that lost the partition but does not know it yet writes nothing. Kept by a rebuild."""
        return runtime_redis.durable_key(self.settings, "owner", "projector", str(partition))

    def projector_offset(self, topic: str, partition: int) -> str:
        """String: the next Kafka offset the projector applies for one topic partition."""
        return self._key("offset", "projector", topic, str(partition))
