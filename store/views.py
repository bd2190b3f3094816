"""What the store serves, built from the projection: messages with their metadata merged in,
conversations with their defaults, channels without secrets."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis
from google.protobuf import json_format

from parley.v1 import records_pb2, resources_pb2
from runtime import timestamps
from store import cursors
from store.keys import StoreKeys
from store.metadata import deep_merge

#: How a conversation's default contact name names its source.
SOURCE_LABELS = {
    "facebook": "Facebook", "instagram": "Instagram", "whatsapp": "WhatsApp", "google": "Google",
    "twilio.sms": "SMS", "twilio.whatsapp": "WhatsApp", "viber": "Viber", "chatplugin": "Chatplugin",
}


def default_display_name(source: str, contact_source_id: str) -> str:
    """`<Source> <last 5 chars of the contact id>`, the name of a contact the source did not name."""
    return f"{SOURCE_LABELS.get(source, source.title())} {contact_source_id[-5:]}".strip()


def with_metadata(message: resources_pb2.Message, document: dict[str, Any] | None) -> resources_pb2.Message:
    """`message` with its metadata document (receipts, reactions, ...) merged in."""
    served = resources_pb2.Message()
    served.CopyFrom(message)
    served.metadata.SetInParent()  # always an object in answers, {} when there is none
    if document:
        merged = deep_merge(json_format.MessageToDict(served.metadata), document)
        served.metadata.Clear()
        served.metadata.update(merged)
    return served


async def load_messages(
    redis: aioredis.Redis, keys: StoreKeys, wanted: list[tuple[str, str]]
) -> list[resources_pb2.Message]:
    """The messages of `wanted`, (conversation id, message id) pairs, as served, in that order
    (missing ones left out)."""
    if not wanted:
        return []
    pipe = redis.pipeline(transaction=False)  # GETs, not MGET: the keys may be in many slots
    for cid, mid in wanted:
        pipe.get(keys.of_conversation(cid).message(mid))
    for cid, mid in wanted:
        pipe.get(keys.of_conversation(cid).metadata("message", mid))
    found = await pipe.execute()
    blobs, documents = found[:len(wanted)], found[len(wanted):]
    return [
        with_metadata(records_pb2.MessageRecord.FromString(blob).message,
                      json.loads(doc) if doc else None)
        for blob, doc in zip(blobs, documents)
        if blob is not None
    ]


async def find_message(redis: aioredis.Redis, keys: StoreKeys, message_id: str
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


async def load_conversations(
    redis: aioredis.Redis, keys: StoreKeys, conversation_ids: list[str]
) -> list[resources_pb2.Conversation]:
    """The conversations `conversation_ids` as served, in that order (unknown ones left out)."""
    pipe = redis.pipeline(transaction=False)
    for cid in conversation_ids:
        part = keys.of_conversation(cid)
        pipe.hgetall(part.conversation(cid))
        pipe.get(part.metadata("conversation", cid))
    found = await pipe.execute()
    states = {
        cid: ({k.decode(): v.decode() for k, v in found[2 * i].items()}, found[2 * i + 1])
        for i, cid in enumerate(conversation_ids)
        if found[2 * i]
    }
    if not states:
        return []
    channel_ids = sorted({state["channel_id"] for state, _ in states.values()})
    documents = {cid: json.loads(doc) if doc else {} for cid, (_, doc) in states.items()}
    pipe = redis.pipeline(transaction=False)
    for channel_id in channel_ids:
        pipe.get(keys.channel(channel_id))
    for cid in states:
        pipe.zlexcount(keys.of_conversation(cid).conversation_contact_messages(cid),
                       cursors.read_bound(documents[cid]), "+")
    found = await pipe.execute()
    channels = dict(zip(channel_ids, found[:len(channel_ids)]))
    unread = dict(zip(states, found[len(channel_ids):]))
    last = {m.id: m for m in await load_messages(
        redis, keys, [(cid, state["last_message_id"]) for cid, (state, _) in states.items()])}
    conversations = []
    for cid in conversation_ids:
        if cid not in states:
            continue
        state, _ = states[cid]
        metadata = deep_merge(
            {"contact": {"display_name": default_display_name(
                state["source"], state.get("contact_source_id", ""))}},
            documents[cid],
        )
        metadata["unread_count"] = int(unread[cid])
        conversation = resources_pb2.Conversation(
            id=cid,
            created_at=timestamps.format_ms(int(state["created_at_ms"])),
            channel=channel_view(channels.get(state["channel_id"]))
            or resources_pb2.Channel(id=state["channel_id"], source=state["source"]),
        )
        conversation.metadata.update(metadata)
        if state["last_message_id"] in last:
            conversation.last_message.CopyFrom(last[state["last_message_id"]])
        conversations.append(conversation)
    return conversations
