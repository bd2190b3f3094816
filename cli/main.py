"""`parley`: the operator CLI. `parley status` shows every component's health; the API commands
(`channels`, `conversations`, `messages`, `events`, `webhooks`) use the SDK, `reprocess`,
`rebuild` and `topics apply` work on Kafka and Redis directly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table

from cli import channels, conversations, events, tokens
from cli.output import UNREACHABLE, base_url
from ingest.reprocess import reprocess as replay
from runtime import settings as settings_module
from runtime import timestamps, topic_admin
from runtime.errors import ApiError
from store.rebuild import rebuild as rebuild_projection

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Operate a Parley install.")
app.add_typer(channels.app, name="channels")
app.add_typer(conversations.conversations, name="conversations")
app.add_typer(conversations.messages, name="messages")
app.add_typer(events.events, name="events")
app.add_typer(events.webhooks, name="webhooks")
app.add_typer(tokens.app, name="token")
console = Console()


@app.callback()
def main() -> None:
    """Operate a Parley install (PARLEY_URL, default http://127.0.0.1:8080; PARLEY_TOKEN)."""


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print the raw JSON answer.")) -> None:
    """Every component's health (Kafka, Redis, each service); exit code 1 unless all are up."""
    url = f"{base_url()}/health"
    try:
        reply = httpx.get(url, timeout=10)
        body = reply.json()
    except (httpx.HTTPError, ValueError) as exc:
        console.print(f"[red]cannot reach Parley at {url}:[/red] {exc}")
        raise typer.Exit(UNREACHABLE) from exc
    if as_json:
        typer.echo(json.dumps(body))
    else:
        table = Table("component", "status", "detail", title=f"Parley: {body.get('status')}")
        for name, component in body.get("components", {}).items():
            colour = "green" if component.get("status") == "up" else "red"
            table.add_row(name, f"[{colour}]{component.get('status')}[/{colour}]",
                          component.get("detail", ""))
        console.print(table)
    if body.get("status") != "ok":
        raise typer.Exit(1)


def _with_progress(
    description: str, work: Callable[[Callable[[int, int], None]], Coroutine[Any, Any, int]]
) -> int:
    """Run `work(progress)` under a progress bar; a typed API error exits 2 with its message."""
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            return asyncio.run(work(advance))
        except ApiError as exc:
            console.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(2) from exc


@app.command()
def reprocess(
    source: str = typer.Option(..., "--source", help="Source whose raw topic to replay, e.g. facebook."),
    since: str = typer.Option("", "--since", help="RFC 3339 time to replay from (default: the start)."),
) -> None:
    """Replay a source's raw webhooks through the current translators (nothing duplicates)."""
    try:
        since_ms = timestamps.parse_ms(since) if since else None
    except ValueError as exc:
        console.print(f"[red]--since must be RFC 3339, e.g. 2026-01-31T00:00:00Z:[/red] {exc}")
        raise typer.Exit(2) from exc
    count = _with_progress(f"reprocessing {source}", lambda progress: replay(
        settings_module.load(), source, since_ms, progress=progress))
    console.print(f"reprocessed {count} {source} events")


@app.command()
def rebuild() -> None:
    """Build the Redis projection again from Kafka beside the serving one, and switch reads to
    it once it has caught up (the answers stay the same; nothing stops serving)."""
    count = _with_progress("rebuilding the projection", lambda progress: rebuild_projection(
        settings_module.load(), progress=progress))
    console.print(f"rebuilt the projection from {count} records")


topics = typer.Typer(no_args_is_help=True, help="The platform's Kafka topics.")
app.add_typer(topics, name="topics")


@topics.command("apply")
def topics_apply() -> None:
    """Create the platform's topics (partitions, replication factor and min.insync.replicas from
    the settings) and update the configs of existing ones: the one step that needs Kafka's
    CreateTopics permission. Exit code 1 when a topic differs in a way it does not change."""
    states = asyncio.run(topic_admin.apply(settings_module.load()))
    table = Table("topic", "action", title="Parley topics")
    for state in states:
        table.add_row(state.topic, state.action if state.ok else f"[red]{state.action}[/red]")
    console.print(table)
    if not all(state.ok for state in states):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
