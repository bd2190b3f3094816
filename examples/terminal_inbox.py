"""Terminal inbox: lists the newest conversations, then tails new messages as they arrive.

    PARLEY_TARGET=127.0.0.1:8080 python examples/terminal_inbox.py [--filters 'unread_count:[1 TO *]']
"""

from __future__ import annotations

import argparse
import asyncio
import os

from google.protobuf import json_format

import parley
from parley.v1 import resources_pb2


def text_of(message: resources_pb2.Message) -> str:
    """A message's text, or its JSON content when it has no text."""
    content = json_format.MessageToDict(message.content)
    return str(content.get("text", content)) if isinstance(content, dict) else str(content)


def name_of(conversation: resources_pb2.Conversation) -> str:
    contact = json_format.MessageToDict(conversation.metadata).get("contact", {})
    return str(contact["display_name"]) if "display_name" in contact else conversation.id[:8]


async def main(filters: str, count: int) -> None:
    async with parley.AsyncClient(os.environ.get("PARLEY_TARGET", "127.0.0.1:8080")) as client:
        names: dict[str, str] = {}
        print(f"{'contact':<24} {'source':<16} {'unread':>6}  last message")
        listed = client.conversations.list(filters=filters, page_size=count)
        async for conversation in listed:
            names[conversation.id] = name_of(conversation)
            unread = json_format.MessageToDict(conversation.metadata).get("unread_count", 0)
            print(f"{names[conversation.id]:<24} {conversation.channel.source:<16} {int(unread):>6}  "
                  f"{text_of(conversation.last_message)[:60]}")
            if len(names) >= count:
                break
        print("\nnew messages (Ctrl-C to stop):")
        async for event in client.events.subscribe(["message.created"]):
            found = parley.message_event(event)
            if found is None:
                continue
            if found.conversation_id not in names:
                names[found.conversation_id] = name_of(
                    await client.conversations.info(found.conversation_id))
            who = names[found.conversation_id] if found.message.from_contact else "agent"
            print(f"{found.message.sent_at}  {who:<24} {text_of(found.message)}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", default="", help="conversations.list filters")
    parser.add_argument("--count", type=int, default=20, help="conversations to list")
    arguments = parser.parse_args()
    try:
        asyncio.run(main(arguments.filters, arguments.count))
    except KeyboardInterrupt:
        pass
