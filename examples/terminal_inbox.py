"""Terminal inbox: lists the newest conversations, then tails new messages as they arrive.

    PARLEY_TARGET=127.0.0.1:8080 python examples/terminal_inbox.py [--filters 'unread_count:[1 TO *]']
"""

from __future__ import annotations

import argparse
import asyncio
import os

import parley


def text_of(message: parley.Message | None) -> str:
    """A message's text, or its JSON content when it has no text."""
    if message is None:
        return ""
    return message.text if message.text is not None else str(message.content)


async def main(filters: str, count: int) -> None:
    async with parley.AsyncClient(os.environ.get("PARLEY_TARGET", "127.0.0.1:8080")) as client:
        names: dict[str, str] = {}
        print(f"{'contact':<24} {'source':<16} {'unread':>6}  last message")
        listed = client.conversations.list(filters=filters, page_size=count)
        async for conversation in listed:
            names[conversation.id] = conversation.display_name
            print(f"{conversation.display_name:<24} {conversation.channel.source:<16} "
                  f"{conversation.unread_count:>6}  {text_of(conversation.last_message)[:60]}")
            if len(names) >= count:
                break
        print("\nnew messages (Ctrl-C to stop):")
        async for event in client.events.subscribe(["message.created"]):
            found = parley.message_event(event)
            if found is None:
                continue
            if found.conversation_id not in names:
                names[found.conversation_id] = (
                    await client.conversations.info(found.conversation_id)).display_name
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
