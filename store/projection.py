"""How one batch of application records changes the Redis projection.

`Projection` reads what the batch needs in one round trip (`load`), applies the records in log
order to that state in memory (`apply`), and then hands every write over (`commands`) for the
projector to run atomically (`store.batch_script`), together with the batch's next offset. The
realtime events of what changed (`store.events`) go into the same script. How each record type
is read and applied is one entry of `HANDLERS`, the table of the topics' record types; the
writes of the search indexes are `store.search.index_writes`'.

A batch is one topic partition's, and it writes one slot of the keyspace (`store.keys`): the
messages and metadata of partition n go to partition n's keys, the global entities to the
global slot. The one exception is what a message tells about its contact (the contact's
conversations, when it was first seen): the contacts are global, so a partition's batch writes
those before its script (`contacts_born`), with a script that gives the same result however
often and in whatever order it runs: a conversation that has a contact already (a merge or a
created contact took it, maybe replayed before its first message) keeps it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeAlias, TypeVar

from google.protobuf import json_format

from parley.v1 import records_pb2
from runtime import timestamps, topics
from runtime.topics import Topic
from runtime.redis import Client, PipelinedScript, Values, flat_hash
from store import batch_script, cursors, events
from store.batch_script import Command
from store.keys import PartitionKeys, StoreKeys
from store.metadata import deep_merge, remove_path
from store.search.index_writes import IndexWrites

Record: TypeAlias = (
    records_pb2.MessageRecord | records_pb2.MetadataRecord | records_pb2.ChannelRecord
    | records_pb2.TagRecord | records_pb2.TemplateRecord | records_pb2.ContactRecord
    | records_pb2.WebhookRecord | records_pb2.SourceRecord | records_pb2.TokenRecord)
#: A realtime event as the projection logs it (`store.events`).
EventEntry: TypeAlias = events.Entry

#: KEYS: the conversation's contact, the contacts, the contact's conversations. ARGV: the
#: contact's id, when it was first seen, the conversation and its source. A conversation that has
#: a contact keeps it.
CONTACT_BORN = PipelinedScript("""
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
return 1
""")

#: The version of the projection's layout in Redis. Change it with the keys or their contents:
#: a store that finds another one drops the projection and replays Kafka (store.rebuild).
LAYOUT_VERSION = 5

def source_message_id(record: records_pb2.MessageRecord) -> str:
    """The source's id of a message (`metadata.source.id`), "" when it has none yet."""
    source = record.message.metadata.fields.get("source")
    if source is None or not source.HasField("struct_value"):
        return ""
    found = source.struct_value.fields.get("id")
    return found.string_value if found is not None else ""


@dataclass
class Projection:
    """The state one batch reads and the writes it makes: `partition` is the keyspace of the
    batch's partition (None for a batch of global entities, written to `keys`' slot)."""

    keys: StoreKeys
    partition: PartitionKeys | None = None
    messages: dict[str, records_pb2.MessageRecord | None] = field(default_factory=dict)
    conversations: dict[str, dict[str, str]] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    source_index: dict[str, str | None] = field(default_factory=dict)
    #: Unread contact messages of a conversation after a read marker: (conversation, bound).
    unread_after: dict[tuple[str, str], int] = field(default_factory=dict)
    #: The messages Parley sent that carry a source id: an echo may hold it already.
    sent_with_source_id: list[records_pb2.MessageRecord] = field(default_factory=list)
    #: The two newest message members of conversations where an echo is replaced.
    newest: dict[str, list[str]] = field(default_factory=dict)
    #: The batch's Redis commands, in order (each a command name and its arguments).
    writes: list[Command] = field(default_factory=list)
    #: The contacts of the batch's new conversations, written before its own writes
    #: (`CONTACT_BORN`'s keys and arguments).
    contacts_born: list[tuple[Values, Values]] = field(default_factory=list)
    #: The realtime events of the batch, and whether the record being applied emits them (a
    #: replay of records that emitted theirs already does not).
    events: list[EventEntry] = field(default_factory=list)
    emitting: bool = True
    #: The trace context (`traceparent`) of the record being applied, kept with its events so
    #: the streams that serve them continue its trace ("" : none).
    traceparent: str = ""

    @property
    def part(self) -> PartitionKeys:
        """The keys of the batch's partition (the records about conversations have one)."""
        if self.partition is None:
            raise ValueError("a batch of global entities holds no conversation records")
        return self.partition

    async def load(self, redis: Client, records: list[Record]) -> None:
        """Read, in one round trip, everything `apply` will look at for `records`."""
        wanted = [read for record in records for read in HANDLERS[type(record)].reads(self, record)]
        replies = await batch_script.read(redis, self.slot.tag,
                                          [(read.command, read.key, *read.args) for read in wanted])
        for read, value in zip(wanted, replies):
            read.cache[read.name] = read.decode(value)
        await self._load_echoes(redis)

    def _message_reads(self, record: records_pb2.MessageRecord) -> list[Read]:
        """A message's earlier version and metadata document (its events serve the message
        as reads do), its conversation and the conversation's metadata, and the message its
        source id is stored under (noting a message Parley sent that has one: its echo may be
        stored already, see `_load_echoes`)."""
        mid, cid = record.message.id, record.conversation_id
        doc, own = self.part.metadata("conversation", cid), self.part.metadata("message", mid)
        reads = [Read(self.messages, mid, "GET", self.part.message(mid), _message),
                 Read(self.documents, own, "GET", own, _document),
                 Read(self.conversations, cid, "HGETALL", self.part.conversation(cid), flat_hash),
                 Read(self.documents, doc, "GET", doc, _document)]
        if sid := source_message_id(record):
            key = self.part.source_message(record.channel_id, sid)
            reads.append(Read(self.source_index, key, "GET", key, _text))
            if _sent_by_parley(record):
                self.sent_with_source_id.append(record)
        return reads

    def _metadata_reads(self, record: records_pb2.MetadataRecord) -> list[Read]:
        """A metadata document; the message or conversation it is about (for the event's
        filters); for a conversation's new read marker, its unread messages after it."""
        key = self.part.metadata(record.subject, record.identifier)
        reads = [Read(self.documents, key, "GET", key, _document)]
        if record.subject == "message":
            mid = record.identifier
            reads.append(Read(self.messages, mid, "GET", self.part.message(mid), _message))
        if record.subject == "conversation":
            cid = record.identifier
            reads.append(
                Read(self.conversations, cid, "HGETALL", self.part.conversation(cid), flat_hash))
            if "read_until" in record.data.fields:
                bound = cursors.read_bound(json_format.MessageToDict(record.data))
                reads.append(Read(self.unread_after, (cid, bound), "ZLEXCOUNT",
                                  self.part.conversation_contact_messages(cid), int, (bound, "+")))
        return reads

    async def _load_echoes(self, redis: Client) -> None:
        """For each message Parley sent whose source id an echo holds already: the echo, and the
        two newest messages of the conversation (one may be the echo, see `_drop_echo`)."""
        contested = [
            (owner, record.conversation_id) for record in self.sent_with_source_id
            if (owner := self.source_index.get(
                self.part.source_message(record.channel_id, source_message_id(record))))
            and owner != record.message.id
        ]
        if not contested:
            return
        found = await batch_script.read(redis, self.slot.tag, [
            command for owner, cid in contested for command in (
                ("GET", self.part.message(owner)),
                ("ZREVRANGE", self.part.conversation_messages(cid), 0, 1))])
        for i, (owner, cid) in enumerate(contested):
            self.messages.setdefault(owner, _message(found[2 * i]))
            self.newest[cid] = [m.decode() for m in found[2 * i + 1]]

    def apply(self, record: Record, emit: bool = True, traceparent: str = "") -> None:
        """Apply one record to the state and queue its writes (and its events when `emit`,
        in the trace of `traceparent` when given)."""
        self.emitting = emit
        self.traceparent = traceparent
        HANDLERS[type(record)].apply(self, record)

    @property
    def indexes(self) -> IndexWrites:
        """The writes of the search indexes of the batch's partition (queued with its own)."""
        return IndexWrites(self.part, self.writes)

    @property
    def slot(self) -> PartitionKeys | StoreKeys:
        """The keys of the slot the batch writes."""
        return self.keys if self.partition is None else self.partition

    def commands(self) -> list[Command]:
        """Every write of the batch, its events last (all in the batch's slot)."""
        # The log keeps about PARLEY_EVENTS_RETAINED events in all, shared by its streams.
        streams = self.keys.settings.topic_partitions + 1
        retained = max(1, self.keys.settings.events_retained // streams)
        return self.writes + [
            ("XADD", self.slot.events(), "MAXLEN", "~", retained, "*",
             *(item for pair in entry.items() for item in pair)) for entry in self.events]

    def _event(self, make: Callable[..., EventEntry], *args: Any, **kwargs: Any) -> None:
        """Log the event `make(*args, **kwargs)`, built only when the record emits events."""
        if self.emitting:
            entry = make(*args, **kwargs)
            if self.traceparent:
                entry[events.TRACEPARENT] = self.traceparent
            self.events.append(entry)

    def _write(self, *command: str | bytes | int) -> None:
        self.writes.append(command)

    def _message(self, record: records_pb2.MessageRecord) -> None:
        message, cid = record.message, record.conversation_id
        previous = self.messages.get(message.id)
        if (previous is not None and previous.message.delivery_state == "delivered"
                and message.delivery_state == "pending"):
            return  # delivered is final: a late duplicate of the send changes nothing
        # The conversation's hash as stored, before this message (and an echo it replaces).
        before = dict(self.conversations.get(cid) or {})
        if sid := source_message_id(record):
            key = self.part.source_message(record.channel_id, sid)
            owner = self.source_index.get(key)
            if owner not in (None, message.id):
                if not _sent_by_parley(record):
                    return  # the echo of a message stored under its own id already
                if (echo := self._echo_in(cid, owner)) is not None:
                    # The echo came first: the message Parley sent takes its place.
                    self._drop_echo(cid, echo)
                    owner = None
            if owner is None:
                self.source_index[key] = message.id
                self._write("SET", key, message.id)
        self.messages[message.id] = record
        serialized = record.SerializeToString()
        if previous is None or previous.SerializeToString() != serialized:
            self._event(events.message, record, serialized, created=previous is None,
                        document=self.documents.get(self.part.metadata("message", message.id)))
        member = cursors.message_member(record.sent_at_ms, message.id)
        index = self.part.conversation_messages(cid)
        if previous is not None and previous.sent_at_ms != record.sent_at_ms:
            self._write("ZREM", index, cursors.message_member(previous.sent_at_ms, message.id))
        self._write("SET", self.part.message(message.id), serialized)
        self._write("ZADD", index, 0, member)

        conversation = self.conversations.setdefault(cid, {})
        if not conversation:
            conversation.update(
                channel_id=record.channel_id, contact_id=record.contact_id, source=message.source,
                created_at_ms=str(record.sent_at_ms), last_member="",
            )
            # Every conversation's contact is a contact from its first message on.
            self.contacts_born.append((
                (self.keys.contact_of(cid), self.keys.contacts(),
                 self.keys.contact_conversations(record.contact_id)),
                (record.contact_id, record.sent_at_ms, cid, message.source)))

        conversation["created_at_ms"] = str(min(int(conversation["created_at_ms"]), record.sent_at_ms))
        if record.recipient_source_id:  # the address replies go to
            conversation.setdefault("contact_source_id", record.recipient_source_id)
        if message.from_contact:
            conversation.setdefault("contact_source_id", message.sender.id)
            # Unread = contact messages after the conversation's read marker (see views).
            contact_index = self.part.conversation_contact_messages(cid)
            if previous is not None and previous.sent_at_ms != record.sent_at_ms:
                self._write("ZREM", contact_index, cursors.message_member(previous.sent_at_ms, message.id))
            self._write("ZADD", contact_index, 0, member)

        if member >= conversation["last_member"]:
            conversation["last_member"] = member
            conversation["last_message_id"] = message.id
        document = self.documents.get(self.part.metadata("conversation", cid)) or {}
        unread = message.from_contact and cursors.is_unread(member, cursors.read_bound(document))
        # The unread count as a number, for ranges: a message counts once, when first projected
        # after the read marker; mark-read sets it exactly (see _conversation_metadata).
        if not before:
            self._write("ZADD", self.part.unread_counts(), "NX", 0, cid)
        if unread and previous is None:
            self._write("ZINCRBY", self.part.unread_counts(), 1, cid)
        # The conversation list is scored by last activity, and so are the search indexes.
        activity = _activity_ms(conversation)
        self._write("ZADD", self.part.conversations(), "GT", activity, cid)
        self.indexes.message(cid, record.channel_id, activity, before, conversation, document,
                             unread)
        # Only what changed (mostly the last message): a conversation's hash is written often.
        changed = [item for key, value in conversation.items() if before.get(key) != value
                   for item in (key, value)]
        if changed:
            self._write("HSET", self.part.conversation(cid), *changed)

    def _echo_in(self, cid: str, owner_id: str) -> records_pb2.MessageRecord | None:
        """Message `owner_id` when it is an echo (not sent by Parley) in conversation `cid`: only
        then may a sent message claiming its source id replace it; a source id claimed elsewhere
        is never a reason to remove a message."""
        owner = self.messages.get(owner_id)
        if owner is None or _sent_by_parley(owner) or owner.conversation_id != cid:
            return None
        return owner

    def _drop_echo(self, cid: str, echo: records_pb2.MessageRecord) -> None:
        """Remove `echo`, the echo of a message Parley sent, from its conversation."""
        echo_id = echo.message.id
        self.messages[echo_id] = None
        member = cursors.message_member(echo.sent_at_ms, echo_id)
        self._write("DEL", self.part.message(echo_id))
        self._write("ZREM", self.part.conversation_messages(cid), member)
        conversation = self.conversations.get(cid) or {}
        if conversation.get("last_member") == member:
            rest = [m for m in self.newest.get(cid, []) if m != member]
            conversation["last_member"] = rest[0] if rest else ""
            conversation["last_message_id"] = rest[0].split(":", 1)[1] if rest else ""

    def _metadata(self, record: records_pb2.MetadataRecord) -> None:
        key = self.part.metadata(record.subject, record.identifier)
        before = self.documents.get(key) or {}
        document = before
        for path in record.removed:
            document = remove_path(document, path)
        document = deep_merge(document, json_format.MessageToDict(record.data))
        self.documents[key] = document
        self._write("SET", key, json.dumps(document, separators=(",", ":")))
        if record.subject == "conversation":
            self._conversation_metadata(record.identifier, before, document)
        if document != before:
            self._metadata_events(record, document)

    def _metadata_events(self, record: records_pb2.MetadataRecord, document: dict[str, Any]) -> None:
        """`metadata.updated`, filterable by the conversation it belongs to; and
        `conversation.updated` when that document is a conversation's."""
        cid = channel_id = ""
        if record.subject == "conversation":
            cid = record.identifier
            channel_id = (self.conversations.get(cid) or {}).get("channel_id", "")
        elif record.subject == "message" and (message := self.messages.get(record.identifier)):
            cid, channel_id = message.conversation_id, message.channel_id
        self._event(events.metadata, record.subject, record.identifier, document, cid, channel_id)
        if record.subject == "conversation":
            self._event(events.conversation, cid, channel_id)

    def _conversation_metadata(self, cid: str, before: dict[str, Any],
                               after: dict[str, Any]) -> None:
        """Keep a conversation's indexes and unread count in step with its metadata. A
        conversation without messages yet joins the indexes with its first message instead."""
        self.indexes.metadata_values(before, after)
        conversation = self.conversations.get(cid) or {}
        if not conversation.get("last_member"):
            return
        unread_count = None
        if before.get("read_until") != after.get("read_until"):
            unread_count = self.unread_after.get((cid, cursors.read_bound(after)), 0)
            self._write("ZADD", self.part.unread_counts(), unread_count, cid)
        self.indexes.metadata(cid, conversation, _activity_ms(conversation), before, after,
                              unread_count)

    def _channel(self, record: records_pb2.ChannelRecord) -> None:
        channel = record.channel
        self._write("SET", self.keys.channel(channel.id), record.SerializeToString())
        op = "SADD" if channel.connected and not record.deleted else "SREM"
        self._write(op, self.keys.connected_channels(), channel.id)
        self._event(events.channel, record)

    def _contact(self, record: records_pb2.ContactRecord) -> None:
        contact_id = record.contact.id
        if record.deleted:  # deleted, or merged into another contact, which took its conversations
            self._write("ZREM", self.keys.contacts(), contact_id)
            self._write("DEL", self.keys.contact_conversations(contact_id))
            return
        if record.contact.created_at:  # made by contacts.create, or given its conversation back
            self._write("ZADD", self.keys.contacts(), "NX",
                        timestamps.parse_ms(record.contact.created_at), contact_id)
        for cid, source in record.contact.conversations.items():
            self._write("HSET", self.keys.contact_conversations(contact_id), cid, source)
            self._write("SET", self.keys.contact_of(cid), contact_id)

    def _tag(self, record: records_pb2.TagRecord) -> None:
        self._event(events.tag, record)

    def entity(self, kind: str, entity_id: str, record: Record, removed: bool,
               credential: tuple[str, bool] | None) -> None:
        """Keep `record`, entity `entity_id` of `kind`, or drop it when `removed`; for a source
        or an API token also the way to it from its secret's hash, withdrawn or not
        (`credential`): calls name them by their secret."""
        if credential is not None:
            digest, withdrawn = credential
            key = self.keys.credential(digest)
            if withdrawn:
                self._write("DEL", key)
            else:
                self._write("SET", key, f"{kind}/{entity_id}")
        if removed:
            self._write("DEL", self.keys.entity(kind, entity_id))
            self._write("SREM", self.keys.entities(kind), entity_id)
        else:
            self._write("SET", self.keys.entity(kind, entity_id), record.SerializeToString())
            self._write("SADD", self.keys.entities(kind), entity_id)


def _sent_by_parley(record: records_pb2.MessageRecord) -> bool:
    """True for a message sent through messages.send (not translated from a webhook)."""
    return record.pending_since_ms > 0


def _activity_ms(conversation: dict[str, str]) -> int:
    """A conversation's last activity: the source time of its newest message."""
    return int(conversation["last_member"].split(":", 1)[0])


def _message(found: bytes | None) -> records_pb2.MessageRecord | None:
    return None if found is None else records_pb2.MessageRecord.FromString(found)


def _text(found: bytes | None) -> str | None:
    return None if found is None else found.decode()


def _document(found: bytes | None) -> dict[str, Any] | None:
    return None if found is None else dict(json.loads(found))


@dataclass(frozen=True)
class Read:
    """One lookup of `Projection.load`: Redis command `command` on `key` (with `args`), its
    answer decoded into `cache[name]`."""

    cache: dict[Any, Any]
    name: Any
    command: str
    key: str
    decode: Callable[[Any], Any]
    args: tuple[str, ...] = ()


def _no_reads(projection: Projection, record: Record) -> list[Read]:
    """Nothing to read first: the record's writes do not depend on what is stored."""
    return []


R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class Handler(Generic[R]):
    """How the projector takes the records of one topic (of its record type): the ids each
    must have (`ids`, named in `required`), what a batch reads for one before applying it
    (`reads`), and how it is applied (`apply`)."""

    topic: Topic[R]
    required: str
    ids: Callable[[R], tuple[str, ...]]
    apply: Callable[[Projection, R], None]
    reads: Callable[[Projection, R], list[Read]] = _no_reads

    @property
    def record(self) -> type[R]:
        """The type of its records."""
        return self.topic.value

    def missing(self, record: R) -> str:
        """Why `record` cannot be projected ("" when it can): an id it needs is empty."""
        return "" if all(self.ids(record)) else f"{self.required} required"


def entity(topic: Topic[R], kind: str, entity_id: Callable[[R], str],
           removed: Callable[[R], bool], credential: Callable[[R], tuple[str, bool]] | None = None,
           also: Callable[[Projection, R], None] | None = None) -> Handler[R]:
    """The handler of the entities of a compacted topic, kept by `kind` and `entity_id` (a
    record that is `removed` drops one); with the hash of their secret and whether it is
    withdrawn when they have a `credential`; `also` applies what else a record changes, first."""

    def apply(projection: Projection, value: R) -> None:
        if also is not None:
            also(projection, value)
        projection.entity(kind, entity_id(value), value, removed(value),
                          None if credential is None else credential(value))

    return Handler(topic, "id", lambda value: (entity_id(value),), apply)


#: The handler of each record type the projector reads: adding a record type is one entry.
HANDLERS: dict[type[Record], Handler[Any]] = {handler.record: handler for handler in (
    Handler(topics.MESSAGES, "conversation_id, message.id",
            lambda r: (r.conversation_id, r.message.id), Projection._message,
            Projection._message_reads),
    Handler(topics.METADATA, "subject, identifier",
            lambda r: (r.subject, r.identifier), Projection._metadata, Projection._metadata_reads),
    Handler(topics.CHANNELS, "channel.id", lambda r: (r.channel.id,),
            Projection._channel),
    entity(topics.TAGS, "tag", lambda r: r.tag.id,
           removed=lambda r: r.deleted, also=Projection._tag),
    entity(topics.TEMPLATES, "template", lambda r: r.template.id,
           removed=lambda r: r.deleted),
    entity(topics.CONTACTS, "contact", lambda r: r.contact.id,
           removed=lambda r: r.deleted, also=Projection._contact),
    entity(topics.WEBHOOKS, "webhook", lambda r: r.webhook.id,
           removed=lambda r: r.deleted),
    entity(topics.SOURCES, "source", lambda r: r.source.source_id,
           removed=lambda r: r.deleted,
           credential=lambda r: (hashlib.sha256(r.token.encode()).hexdigest(), r.deleted)),
    # A revoked token stays listed (as revoked).
    entity(topics.TOKENS, "token", lambda r: r.name,
           removed=lambda r: False, credential=lambda r: (r.token_sha256, r.revoked)),
)}

#: The record type of each application topic the projector reads.
RECORD_TYPES: dict[str, type[Record]] = {h.topic: h.record for h in HANDLERS.values()}
