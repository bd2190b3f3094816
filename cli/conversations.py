"""`parley conversations list` and `parley messages list|send`."""

from __future__ import annotations

import itertools
import json

import typer

from cli.output import JSON_OPTION, client, emit, emit_one, errors, text_of

conversations = typer.Typer(no_args_is_help=True, help="Conversations.")
messages = typer.Typer(no_args_is_help=True, help="Messages of a conversation.")


@conversations.command("list")
def list_conversations(
    filters: str = typer.Option("", help='Lucene-syntax filters, e.g. "unread_count:[1 TO *]".'),
    limit: int = typer.Option(20, min=1, help="How many (newest activity first)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Conversations, newest activity first."""
    with client() as parley:
        found = list(itertools.islice(parley.conversations.list(filters, page_size=limit), limit))
    emit(found, as_json, "Conversations", ["id", "contact", "source", "unread", "last message"],
         lambda c: [c.id, c.display_name, c.channel.source, str(c.unread_count),
                    text_of(c.last_message.content)[:50] if c.last_message else ""])


@messages.command("list")
def list_messages(conversation_id: str,
                  limit: int = typer.Option(20, min=1, help="How many (the newest)."),
                  as_json: bool = JSON_OPTION) -> None:
    """A conversation's newest messages, oldest first."""
    with client() as parley:
        newest = list(itertools.islice(parley.messages.list(conversation_id, page_size=limit), limit))
    emit(list(reversed(newest)), as_json, f"Messages of {conversation_id}",
         ["sent at", "from", "state", "content"],
         lambda m: [m.sent_at, "contact" if m.from_contact else "agent", m.delivery_state,
                    text_of(m.content)])


@messages.command()
def send(conversation_id: str, text: str = typer.Argument("", help="The text to send."),
         content: str = typer.Option("", help="The source's payload as JSON instead of text."),
         as_json: bool = JSON_OPTION) -> None:
    """Send a text (or a JSON payload) to a conversation."""
    try:
        payload = json.loads(content) if content else {"text": text}
    except json.JSONDecodeError as exc:
        errors.print(f"[red]--content is not JSON:[/red] {exc}")
        raise typer.Exit(2) from exc
    if not content and not text:
        errors.print("[red]give a TEXT or --content[/red]")
        raise typer.Exit(2)
    with client() as parley:
        message = parley.messages.send(payload, conversation_id=conversation_id)
    emit_one(message, as_json, f"sent [bold]{message.id}[/bold] ({message.delivery_state})")
