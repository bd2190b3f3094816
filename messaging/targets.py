"""Where messages.send sends: an existing conversation, or one Parley starts with a contact."""

from __future__ import annotations

from dataclasses import dataclass

from sources import CONNECTORS
from store.client import StoreReads
from parley.v1 import messaging_pb2, records_pb2
from runtime import ids
from runtime.errors import InvalidArgument, NotFound, PermissionDenied


@dataclass(frozen=True)
class Target:
    """The conversation a message goes to, and the contact's id at the source."""

    conversation_id: str
    channel_id: str
    contact_id: str
    source: str
    recipient: str


def _connected(channel: records_pb2.ChannelRecord | None, channel_id: str) -> records_pb2.ChannelRecord:
    if channel is None:
        raise NotFound(f"channel {channel_id} not found")
    if not channel.channel.connected:
        raise PermissionDenied(f"channel {channel_id} is disconnected")
    return channel


async def resolve(reads: StoreReads, request: messaging_pb2.SendMessageRequest) -> Target | None:
    """The target of `request`; None when its conversation_id is not in the store (yet).

    A conversation Parley starts gets the id ingest gives the contact's replies (the connector's
    `conversation_key` of the recipient), so the replies land in it."""
    if request.conversation_id:
        state = await reads.conversation(request.conversation_id)
        if state is None:
            return None
        channel = _connected(await reads.channel(state["channel_id"]), state["channel_id"])
        return Target(request.conversation_id, state["channel_id"], state.get("contact_id", ""),
                      channel.channel.source, state.get("contact_source_id", ""))
    if not (request.source_recipient_id and request.channel_id):
        raise InvalidArgument("either conversation_id, or source_recipient_id with channel_id, "
                              "is required")
    channel = _connected(await reads.channel(request.channel_id), request.channel_id)
    source = channel.channel.source
    _, connector = CONNECTORS.get(source, ("", None))
    if connector is None or not connector.can_start_conversations:
        raise InvalidArgument(f"channels of source {source!r} cannot start conversations; "
                              "send with conversation_id")
    key = connector.conversation_key(request.source_recipient_id)
    if not key:
        raise InvalidArgument(f"source_recipient_id {request.source_recipient_id!r} is not an "
                              f"address of {source}")
    return Target(ids.conversation_id(request.channel_id, key), request.channel_id,
                  ids.contact_id(request.channel_id, key), source, key)
