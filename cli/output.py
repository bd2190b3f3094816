"""What every API command shares: the client, JSON or table output, errors as exit codes.

Exit codes: 0 done; 1 the API refused (its message is printed); 2 bad usage; 3 Parley cannot be
reached.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer
from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from rich.table import Column, Table

import parley
from parley.views import message_text, whole_numbers
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


def token_file() -> Path:
    """Where the CLI finds an API token when PARLEY_TOKEN is not set:
    `$XDG_CONFIG_HOME/parley/token` (`~/.config/parley/token`)."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "parley" / "token"


def token() -> str | None:
    """PARLEY_TOKEN, else the token file (`token_file`), else the local admin token `make up`
    made (an operator on that machine); None when there is none."""
    if os.environ.get("PARLEY_TOKEN"):
        return None  # the SDK reads PARLEY_TOKEN itself
    for found in (token_file(), DATA_DIR.read(os.environ) / ADMIN_TOKEN_FILE):
        if found.is_file():
            return found.read_text().strip()
    return None


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
    except parley.Unauthenticated as exc:
        errors.print(f"[red]unauthenticated:[/red] {exc.message}\nPut an API token in "
                     f"PARLEY_TOKEN or in {token_file()} (an operator makes one with "
                     "`parley token create --name <name>`).")
        raise typer.Exit(REFUSED) from exc
    except parley.ParleyError as exc:
        errors.print(f"[red]{exc.code.name.lower()}:[/red] {exc.message}")
        raise typer.Exit(REFUSED) from exc


def as_dict(item: Any) -> Any:
    """A result (a protobuf message or a view of `parley.views`) as the JSON API answers it
    (snake_case, unset fields printed), whole numbers as integers."""
    if isinstance(item, Message):
        return whole_numbers(json_format.MessageToDict(
            item, preserving_proto_field_name=True, always_print_fields_with_no_presence=True))
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return {f.name: as_dict(getattr(item, f.name)) for f in dataclasses.fields(item)}
    return item


def _column(name: str) -> Column:
    """A table column; ids are never cut, whatever the terminal's width (a cut id is useless)."""
    if name == "id" or name.endswith(" id"):
        return Column(name, no_wrap=True, min_width=36)
    return Column(name)


def emit(items: Iterable[Any], as_json: bool, title: str, columns: list[str],
         row: Callable[[Any], list[str]]) -> None:
    """Print `items` as one JSON document (a list) or as a table of `columns`."""
    if as_json:
        typer.echo(json.dumps([as_dict(i) for i in items]))
        return
    table = Table(*map(_column, columns), title=title)
    for item in items:
        table.add_row(*row(item))
    console.print(table)


def emit_one(item: Any, as_json: bool, summary: str) -> None:
    """Print one result as JSON, or a one-line summary."""
    if as_json:
        typer.echo(json.dumps(as_dict(item)))
    else:
        console.print(summary)


def text_of(content: Any) -> str:
    """A message's content (plain data) as one line: its text, else its JSON."""
    found = message_text(content)
    return found if found is not None else json.dumps(content, separators=(",", ":"))


JSON_OPTION = typer.Option(False, "--json", help="Print JSON (for scripts) instead of a table.")
