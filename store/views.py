"""What the store serves, built from the projection: messages with their metadata merged in,
conversations with their defaults, channels without secrets."""

from __future__ import annotations

import json
from typing import Any, NamedTuple, cast

from google.protobuf import json_format

from parley.v1 import records_pb2, resources_pb2
from runtime import timestamps
from runtime.redis import Client, PipelinedScript, flat_hash, unpacked
from sources import CHANNEL_KINDS
from store.keys import StoreKeys
from store.metadata import deep_merge



def default_display_name(source: str, contact_source_id: str) -> str:
    """`<Source> <last 5 chars of the contact id>`, the name of a contact the source did not name."""
    kind = CHANNEL_KINDS.get(source)
    return f"{kind.label if kind else source.title()} {contact_source_id[-5:]}".strip()


def _merged(message: resources_pb2.Message, document: dict[str, Any] | None
            ) -> resources_pb2.Message:
    """`message`, changed: its metadata document (receipts, reactions, ...) merged in."""
    message.metadata.SetInParent()  # always an object in answers, {} when there is none
    if document:
        merged = deep_merge(json_format.MessageToDict(message.metadata), document)
        message.metadata.Clear()
        message.metadata.update(merged)
    return message


async def load_messages(
    redis: Client, keys: StoreKeys, wanted: list[tuple[str, str]]
) -> list[resources_pb2.Message]:
    """The messages of `wanted`, (conversation id, message id) pairs, as served, in that order
    (missing ones left out): one MGET per partition (a page of one conversation: one command)."""
    named = [(keys.of_conversation(cid), mid) for cid, mid in wanted]
    pairs = [(part.message(mid), part.metadata("message", mid)) for part, mid in named]
    by_partition: dict[int, list[str]] = {}
    for (part, _), pair in zip(named, pairs):
        by_partition.setdefault(part.number, []).extend(pair)
    pipe = redis.pipeline(transaction=False)
    for names in by_partition.values():
        pipe.execute_command("MGET", *names)  # one slot each; cluster pipelines refuse `mget`
    found: dict[str, bytes | None] = {}
    for names, values in zip(by_partition.values(), await pipe.execute() if by_partition else []):
        found.update(zip(names, values))
    return [stored_message(message, found[document]) for blob, document in pairs
            if (message := found[blob]) is not None]


def stored_message(blob: bytes, document: bytes | None) -> resources_pb2.Message:
    """The served message of a stored `MessageRecord` and its metadata document (JSON)."""
    return served_message(records_pb2.MessageRecord.FromString(blob), document)


def served_message(record: records_pb2.MessageRecord, document: bytes | None
                   ) -> resources_pb2.Message:
    """The message of `record` as served: with its conversation's id, its metadata document
    (JSON) merged in."""
    record.message.conversation_id = record.conversation_id
    return _merged(record.message, json.loads(document) if document else None)


async def find_message(redis: Client, keys: StoreKeys, message_id: str
                       ) -> records_pb2.MessageRecord | None:
    """The stored record of message `message_id`, found without its conversation: asked of
    every partition at once (one round trip). None when unknown."""
    if not message_id:
        return None
    pipe = redis.pipeline(transaction=False)
    for part in keys.partitions():
        pipe.get(part.message(message_id))
    blob = next((b for b in await pipe.execute() if b is not None), None)
    return None if blob is None else records_pb2.MessageRecord.FromString(blob)


def channel_view(blob: bytes | None) -> resources_pb2.Channel | None:
    """The served channel of a stored `ChannelRecord` (its secrets stay behind)."""
    return None if blob is None else records_pb2.ChannelRecord.FromString(blob).channel


#: KEYS: a partition's unread counts. ARGV: the key prefixes of the partition's conversations,
#: conversation metadata documents, messages and message metadata documents, then conversation
#: ids. Answers (msgpack), per conversation, false when unknown, else its hash (flat), its
#: metadata document, unread count, and last message with its metadata document.
_CONVERSATIONS = PipelinedScript("""
local found = {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local state = redis.call('HGETALL', ARGV[1] .. id)
  if #state == 0 then
    found[i - 4] = false
  else
    local last = false
    for f = 1, #state, 2 do
      if state[f] == 'last_message_id' then last = state[f + 1] end
    end
    local message, document = false, false
    if last then
      message = redis.call('GET', ARGV[3] .. last)
      document = redis.call('GET', ARGV[4] .. last)
    end
    found[i - 4] = {state, redis.call('GET', ARGV[2] .. id), redis.call('ZSCORE', KEYS[1], id),
                    message, document}
  end
end
return cmsgpack.pack(found)
""")


async def load_conversations(
    redis: Client, keys: StoreKeys, conversation_ids: list[str]
) -> list[resources_pb2.Conversation]:
    """The conversations `conversation_ids` as served, in that order (unknown ones left out):
    one script per partition that holds some (one round trip), then their channels."""
    by_partition: dict[int, list[str]] = {}
    for cid in conversation_ids:
        by_partition.setdefault(keys.of_conversation(cid).number, []).append(cid)
    calls = []
    for number, ids in by_partition.items():
        part = keys.partition(number)
        calls.append(([part.unread_counts()],
                      [part.conversation(""), part.metadata("conversation", ""), part.message(""),
                       part.metadata("message", ""), *ids]))
    answers = await _CONVERSATIONS.run(redis, calls) if calls else []
    found: dict[str, _Found] = {}
    for ids, answered in zip(by_partition.values(), answers):
        for cid, answer in zip(ids, unpacked(answered)):
            if answer is not None:  # its hash, then the rest (false where Redis had nil)
                state, document, unread, last, last_document = answer
                found[cid] = _Found(flat_hash(state), document or None, unread or None,
                                    last or None, last_document or None)
    channel_ids = sorted({got.fields["channel_id"] for got in found.values()})
    blobs = cast(list[bytes | None], await redis.execute_command(
        "MGET", *(keys.channel(c) for c in channel_ids)) if channel_ids else [])  # one slot
    channels = dict(zip(channel_ids, blobs))
    return [_conversation(cid, found[cid], channels) for cid in conversation_ids if cid in found]


class _Found(NamedTuple):
    """What `_CONVERSATIONS` found of a conversation."""

    #: Its hash, decoded.
    fields: dict[str, str]
    #: Its metadata document (JSON).
    document: bytes | None
    #: Its unread count.
    unread: bytes | None
    #: Its last message and that message's metadata document.
    last: bytes | None
    last_document: bytes | None


def _conversation(cid: str, found: _Found,
                  channels: dict[str, bytes | None]) -> resources_pb2.Conversation:
    """The served conversation `cid` from what `_CONVERSATIONS` found of it."""
    fields, document, unread, last, last_document = found
    metadata = deep_merge(
        {"contact": {"display_name": default_display_name(
            fields["source"], fields.get("contact_source_id", ""))}},
        json.loads(document) if document else {},
    )
    # Kept exact by the projector (contact messages after the read marker), for ranges too.
    metadata["unread_count"] = int(float(unread or 0))
    conversation = resources_pb2.Conversation(
        id=cid,
        created_at=timestamps.format_ms(int(fields["created_at_ms"])),
        channel=channel_view(channels.get(fields["channel_id"]))
        or resources_pb2.Channel(id=fields["channel_id"], source=fields["source"]),
    )
    conversation.metadata.update(metadata)
    if last is not None:
        conversation.last_message.CopyFrom(stored_message(last, last_document))
    return conversation
