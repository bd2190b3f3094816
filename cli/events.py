"""`parley events tail` and `parley webhooks list|subscribe|deliveries`."""

from __future__ import annotations

import itertools
import json
from typing import Annotated

import typer

import parley
from cli.output import JSON_OPTION, as_dict, client, console, emit, emit_one, text_of
from parley.v1 import resources_pb2

events = typer.Typer(no_args_is_help=True, help="Realtime events.")
webhooks = typer.Typer(no_args_is_help=True, help="Outbound webhooks.")


@events.command()
def tail(types: Annotated[list[str] | None, typer.Option(
             "--types", help="Only these types (repeatable).")] = None,
         conversation_id: str = typer.Option("", help="Only this conversation's events."),
         limit: int = typer.Option(0, min=0, help="Stop after this many events (0: never)."),
         as_json: bool = JSON_OPTION) -> None:
    """Print events as they happen (Ctrl-C stops); reconnects by itself when Parley restarts."""
    with client() as parley:
        stream = parley.events.subscribe(types or [], conversation_id=conversation_id)
        for event in itertools.islice(stream, limit or None):
            if as_json:
                typer.echo(json.dumps(as_dict(event)), nl=True)
            else:
                console.print(f"[dim]{event.timestamp}[/dim] [bold cyan]{event.type}[/bold cyan] "
                              f"{_about(event)}", highlight=False, soft_wrap=True)


def _about(event: resources_pb2.Event) -> str:
    """What an event is about, in a line: a message's conversation, sender, state and text (or
    its content's JSON); another event's payload as JSON, cut after 200 characters."""
    found = parley.message_event(event)
    if found is None:
        return json.dumps(as_dict(event.payload), separators=(",", ":"))[:200]
    message = found.message
    return (f"{found.conversation_id} {'contact' if message.from_contact else 'agent'} "
            f"{message.delivery_state}: {text_of(message.content)}")


@webhooks.command("list")
def list_webhooks(as_json: bool = JSON_OPTION) -> None:
    """Every webhook."""
    with client() as parley:
        found = parley.webhooks.list()
    emit(found, as_json, "Webhooks", ["id", "name", "url", "events", "status"],
         lambda w: [w.id, w.name, w.url, ", ".join(w.events) or "all", w.status])


@webhooks.command()
def subscribe(url: str,
              events_: Annotated[list[str] | None, typer.Option(
                  "--events", help="Event types (repeatable).")] = None,
              name: str = typer.Option("", help="A name for it."),
              as_json: bool = JSON_OPTION) -> None:
    """Subscribe URL to events (all when no --events); prints the signing key this once."""
    with client() as parley:
        webhook = parley.webhooks.subscribe(url, name=name, events=events_ or [])
    emit_one(webhook, as_json, f"subscribed [bold]{webhook.id}[/bold]; signing key (shown once): "
                               f"{webhook.generated_signature_key}")


@webhooks.command()
def deliveries(webhook_id: str, limit: int = typer.Option(20, min=1, help="How many (newest)."),
               as_json: bool = JSON_OPTION) -> None:
    """A webhook's newest deliveries and their attempts."""
    with client() as parley:
        found = list(itertools.islice(parley.webhooks.deliveries(webhook_id, page_size=limit), limit))
    emit(found, as_json, f"Deliveries of {webhook_id}",
         ["event id", "type", "status", "attempts", "last"],
         lambda d: [d.event_id, d.event_type, d.status, str(len(d.attempts)),
                    (f"{d.attempts[-1].http_status or ''} {d.attempts[-1].error}".strip()
                     if d.attempts else "")])
