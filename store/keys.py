"""Names of the store's Redis keys. The store owns this keyspace; nothing else writes it.

The keyspace is cut into slots the way Kafka Streams shards state: every key of one partition
number shares the hash tag `{<namespace>:p<n>}` (its conversations, messages, metadata
documents, its share of every index, its event stream, its offsets), so a projector's batch of
that partition touches one Redis Cluster slot. The global entities (channels, tags, templates,
webhooks, sources, API tokens, contacts) share the tag `{<namespace>:g}`. A metadata document
lives in the partition of its Kafka key (`runtime.partitioning.metadata_key`): a conversation's
and its messages' in the conversation's, a channel's in the channel id's.

Within its slot, a projection key names its generation (`{ns:p7}:<generation>:conv:<id>`): a
layout change or `parley rebuild` builds a new generation beside the one that serves, in the same
slots (`store.generations`). What is not the projection's — the realtime event streams and their
high-water marks, the generation pointers — is `durable` and has no generation.

`StoreKeys` names the global slot's keys and finds the others: `partition(n)`,
`of_conversation(id)`, `partitions()`; `PartitionKeys` names one partition's keys. Both name the
keys of `generation`, which a service follows (`store.generations.follow`) and a projector fixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from runtime import topics
from runtime.partitioning import partition_of
from runtime.settings import Settings

#: Topics whose records are projected into the keyspace of their partition; the others hold
#: global entities, projected into the global slot.
PARTITIONED_TOPICS = (topics.MESSAGES, topics.METADATA)
#: The first part, after the slot's tag, of the keys that belong to no generation: the realtime
#: event streams and their high-water marks, the generation pointers.
DURABLE = "durable"


@dataclass
class Generation:
    """The number of the projection generation keys name (0: none yet). Mutable: one object is
    shared by every key namer of a process, so following the serving generation moves them all."""

    number: int = 0


@dataclass(frozen=True)
class _SlotKeys:
    """Keys sharing one hash tag, `{<namespace>:<slot>}`."""

    settings: Settings
    slot: str
    generation: Generation

    @cached_property
    def tag(self) -> str:
        """The slot's hash tag, with its braces."""
        return "{" + f"{self.settings.namespace or 'parley'}:{self.slot}" + "}"

    def _key(self, *parts: str) -> str:
        """A projection key of the generation."""
        return f"{self.tag}:{self.generation.number}:{':'.join(parts)}"

    def _durable(self, *parts: str) -> str:
        return ":".join((self.tag, DURABLE, *parts))

    def generation_pattern(self, number: int) -> str:
        """SCAN pattern of the keys of generation `number` in every slot of this install."""
        return "{" + f"{self.settings.namespace or 'parley'}:*}}:{number}:*"

    def events(self) -> str:
        """Stream: the realtime events of this slot, in the order they were projected. Durable:
        a rebuild does not emit them again."""
        return self._durable("events")

    def events_emitted(self, topic: str, partition: int) -> str:
        """String: the next offset of one topic partition whose records may emit events, shared
        by the generations: whichever applies a record first emits its events, and a replay
        below it (a new generation) emits none."""
        return self._durable("emitted", topic, str(partition))

    def projector_owner(self, partition: int) -> str:
        """String: the owner generation of the projector that owns partition number `partition`
        (of every topic) for this projection generation, as this slot knows it: bumped by each
        new owner, checked in each of its writes here, so a projector that lost the partition
        but does not know it yet writes nothing."""
        return self._key("owner", str(partition))

    def projector_offset(self, topic: str, partition: int) -> str:
        """String: the next Kafka offset the projector applies for one topic partition."""
        return self._key("offset", topic, str(partition))

    def temporary(self, name: str) -> str:
        """A short-lived key of one query (filtered lists)."""
        return ":".join((self.tag, "tmp", name))


@dataclass(frozen=True)
class PartitionKeys(_SlotKeys):
    """The keys of one partition number: its conversations and everything about them."""

    number: int

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
        """Sorted set: this partition's conversation ids scored by their last activity (the
        newest message's source time); ties are ordered by id."""
        return self._key("conversations")

    def metadata(self, subject: str, identifier: str) -> str:
        """String: the JSON metadata document of one subject (message, conversation, channel)
        whose Kafka key falls in this partition."""
        return self._key("meta", subject, identifier)

    def index(self, kind: str, value: str = "") -> str:
        """Sorted set like `conversations` (ids scored by last activity): the conversations of
        one channel, source, tag or state ("channel", ...), with unread messages ("unread"), with
        a metadata path ("has", path) or a metadata value ("meta", `<path>=<text>`); "gram"
        indexes (name trigrams) hold membership only."""
        return self._key("idx", kind, value) if value else self._key("idx", kind)

    def meta_values(self, path: str) -> str:
        """Sorted set (all scores 0, lexical): every text metadata `path` has held here, whose
        "meta" index may hold conversations; a prefix wildcard unites the indexes of its range."""
        return self._key("metavalues", path)

    def created(self) -> str:
        """Sorted set: conversation ids scored by creation time (epoch ms), for `created_at` ranges."""
        return self._key("created")

    def unread_counts(self) -> str:
        """Sorted set: conversation ids scored by their unread count, for `unread_count` ranges."""
        return self._key("unreadcounts")

    def source_message(self, channel_id: str, source_message_id: str) -> str:
        """String: the Parley message id that first carried this source message id, so an echo of
        a message Parley sent itself is not stored twice (an echo is in the same conversation)."""
        return self._key("srcmsg", channel_id, source_message_id)


@dataclass(frozen=True)
class StoreKeys(_SlotKeys):
    """The global slot's keys, and the way to every partition's."""

    slot: str = "g"
    generation: Generation = field(default_factory=Generation)

    def partition(self, number: int) -> PartitionKeys:
        """The keys of partition number `number` (of the same generation)."""
        return self._partitions[number]

    @cached_property
    def _partitions(self) -> list[PartitionKeys]:
        # Made once: they share this namer's generation, so they follow it.
        return [PartitionKeys(self.settings, f"p{n}", self.generation, n)
                for n in range(self.settings.topic_partitions)]

    def of_generation(self, number: int) -> StoreKeys:
        """The keys of generation `number`, fixed (what a projector of it writes)."""
        return StoreKeys(self.settings, self.slot, Generation(number))

    def partitions(self) -> list[PartitionKeys]:
        """The keys of every partition number (`PARLEY_TOPIC_PARTITIONS` of them)."""
        return list(self._partitions)

    def of_conversation(self, conversation_id: str) -> PartitionKeys:
        """The keys of the partition a conversation's records land on."""
        return self.partition(partition_of(conversation_id, self.settings.topic_partitions))

    def of_record(self, topic: str, partition: int) -> _SlotKeys:
        """The keys of the slot that records of `topic` (without namespace) partition `partition`
        are projected into."""
        return self.partition(partition) if topic in PARTITIONED_TOPICS else self

    def event_streams(self) -> list[str]:
        """Every slot's realtime event stream: the partitions', then the global one."""
        return [p.events() for p in self.partitions()] + [self.events()]

    def channel(self, channel_id: str) -> str:
        """String: the serialized `ChannelRecord` of a channel (secrets included: never served)."""
        return self._key("channel", channel_id)

    def connected_channels(self) -> str:
        """Set: ids of the connected channels."""
        return self._key("channels", "connected")

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

    def generations(self, pointer: str) -> str:
        """A key of the projection's generations (`store.generations`): the strings
        `serving:<layout>`, `building:<layout>`, `target:<n>`, "next" (the counter), the sorted
        set "retired"."""
        return self._durable("generations", pointer)

    def namespace_pattern(self) -> str:
        """SCAN pattern of every key of every slot of this install."""
        return "{" + f"{self.settings.namespace or 'parley'}:*"
