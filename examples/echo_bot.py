"""Echo bot: answers every message a contact sends with the same words.

    PARLEY_TARGET=127.0.0.1:8080 python examples/echo_bot.py
"""

import asyncio
import os

import parley


async def main() -> None:
    async with parley.AsyncClient(os.environ.get("PARLEY_TARGET", "127.0.0.1:8080")) as client:
        async for event in client.events.subscribe(["message.created"]):
            found = parley.message_event(event)
            if found is None or not found.message.from_contact:
                continue
            text = found.message.text or "that"
            # Keyed by the message answered: a restarted bot never answers it twice.
            await client.messages.send({"text": f"You said: {text}"},
                                       conversation_id=found.conversation_id,
                                       idempotency_key=f"echo-{found.message.id}")


if __name__ == "__main__":
    asyncio.run(main())
