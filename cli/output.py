"""What every API command shares: the client, JSON or table output, errors as exit codes.

Exit codes: 0 done; 1 the API refused (its message is printed); 2 bad usage; 3 Parley cannot be
reached.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import typer
from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from rich.table import Table

import parley
from auth.manage import ADMIN_TOKEN_FILE
from runtime.settings import DATA_DIR, HTTP_PORT

console = Console()
errors = Console(stderr=True)

#: Exit codes of the API commands.
REFUSED, UNREACHABLE = 1, 3


def base_url() -> str:
    """The install's public URL: PARLEY_URL, default http://127.0.0.1:8080."""
    port = HTTP_PORT.read(os.environ)
    return os.environ.get("PARLEY_URL", f"http://127.0.0.1:{port}").rstrip("/")


def target() -> str:
    """host:port of the install's gRPC (Envoy's public port, the same as PARLEY_URL's)."""
    parts = urlsplit(base_url())
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def token() -> str | None:
    """PARLEY_TOKEN, else the local admin token `make up` made (an operator on that machine)."""
    local = DATA_DIR.read(os.environ) / ADMIN_TOKEN_FILE
    if os.environ.get("PARLEY_TOKEN") or not local.exists():
        return None  # the SDK reads PARLEY_TOKEN itself
    return local.read_text().strip()


@contextmanager
def client() -> Iterator[parley.Client]:
    """A client of the install; API errors become exit codes."""
    try:
        with parley.Client(target(), token=token(),
                           secure=base_url().startswith("https")) as connected:
            yield connected
    except parley.Unavailable as exc:
        errors.print(f"[red]cannot reach Parley at {target()}:[/red] {exc.message}")
        raise typer.Exit(UNREACHABLE) from exc
    except parley.ParleyError as exc:
        errors.print(f"[red]{exc.code.name.lower()}:[/red] {exc.message}")
        raise typer.Exit(REFUSED) from exc


def as_dict(message: Message) -> dict[str, Any]:
    """A result as the JSON API answers it (snake_case, unset fields printed)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


def emit(items: Iterable[Message], as_json: bool, title: str, columns: list[str],
         row: Callable[[Any], list[str]]) -> None:
    """Print `items` as one JSON document (a list) or as a table of `columns`."""
    if as_json:
        typer.echo(json.dumps([as_dict(i) for i in items]))
        return
    table = Table(*columns, title=title)
    for item in items:
        table.add_row(*row(item))
    console.print(table)


def emit_one(item: Message, as_json: bool, summary: str) -> None:
    """Print one result as JSON, or a one-line summary."""
    if as_json:
        typer.echo(json.dumps(as_dict(item)))
    else:
        console.print(summary)


def text_of(content: Any) -> str:
    """A message's content as one line: its text, else its JSON."""
    value = json_format.MessageToDict(content)
    return str(value.get("text", json.dumps(value))) if isinstance(value, dict) else str(value)


JSON_OPTION = typer.Option(False, "--json", help="Print JSON (for scripts) instead of a table.")
