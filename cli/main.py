"""`parley`: the operator CLI. `parley status` shows every component's health."""

from __future__ import annotations

import json
import os

import httpx
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Operate a Parley install.")
console = Console()


def _base_url() -> str:
    return os.environ.get("PARLEY_URL", f"http://127.0.0.1:{os.environ.get('PARLEY_HTTP_PORT', '8080')}")


@app.callback()
def main() -> None:
    """Operate a Parley install (PARLEY_URL, default http://127.0.0.1:8080)."""


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print the raw JSON answer.")) -> None:
    """Every component's health (Kafka, Redis, each service); exit code 1 unless all are up."""
    url = f"{_base_url()}/health"
    try:
        reply = httpx.get(url, timeout=10)
        body = reply.json()
    except (httpx.HTTPError, ValueError) as exc:
        console.print(f"[red]cannot reach Parley at {url}:[/red] {exc}")
        raise typer.Exit(2) from exc
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


if __name__ == "__main__":
    app()
