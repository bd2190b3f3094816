"""Channel commands as records of `parley.channels` (pure functions): connect, disconnect, update.

A channel's id derives from its source and the source's channel id, so connecting the same page
again yields the same channel (reconnected, with the new token).
"""

from __future__ import annotations

from parley.v1 import records_pb2, resources_pb2
from runtime import ids
from runtime.errors import InvalidArgument, NotFound


def require(**fields: str) -> None:
    """Raise InvalidArgument naming every empty required field."""
    missing = [name for name, value in fields.items() if not value]
    if missing:
        raise InvalidArgument(f"required: {', '.join(missing)}")


def connect(
    source: str, source_channel_id: str, name: str, image_url: str, secrets: dict[str, str]
) -> records_pb2.ChannelRecord:
    """The record of a connected channel."""
    channel = resources_pb2.Channel(
        id=ids.channel_id(source, source_channel_id),
        source=source,
        source_channel_id=source_channel_id,
        connected=True,
    )
    channel.metadata.update({"name": name or f"{source} {source_channel_id}", "image_url": image_url})
    return records_pb2.ChannelRecord(channel=channel, secrets=secrets)


def disconnect(current: records_pb2.ChannelRecord | None, source: str, channel_id: str) -> records_pb2.ChannelRecord:
    """The record of `current` disconnected; its secrets are dropped. NotFound if not of `source`."""
    if current is None or current.channel.source != source:
        raise NotFound(f"{source} channel {channel_id} not found")
    channel = resources_pb2.Channel()
    channel.CopyFrom(current.channel)
    channel.connected = False
    return records_pb2.ChannelRecord(channel=channel)


def update(
    current: records_pb2.ChannelRecord | None, channel_id: str, name: str | None, image_url: str | None
) -> records_pb2.ChannelRecord:
    """The record of `current` with a new name and/or image; NotFound when unknown."""
    if current is None:
        raise NotFound(f"channel {channel_id} not found")
    record = records_pb2.ChannelRecord()
    record.CopyFrom(current)
    if name is not None:
        record.channel.metadata.update({"name": name})
    if image_url is not None:
        record.channel.metadata.update({"image_url": image_url})
    return record
