"""`parley token create|revoke|list`: API tokens, managed through Kafka and the projection (the
install's PARLEY_* settings), so they work before any token exists."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from auth.manage import TokenAdmin
from auth.scopes import GRANTS
from cli.output import JSON_OPTION, REFUSED, as_dict, console, emit, errors
from runtime import settings as settings_module
from runtime import timestamps
from runtime.errors import ApiError

app = typer.Typer(no_args_is_help=True, help="API tokens.")
T = TypeVar("T")


def _run(work: Callable[[TokenAdmin], Awaitable[T]]) -> T:
    async def run() -> T:
        async with TokenAdmin(settings_module.load()) as admin:
            return await work(admin)

    try:
        return asyncio.run(run())
    except ApiError as exc:
        errors.print(f"[red]{exc.code.name.lower()}:[/red] {exc.message}")
        raise typer.Exit(REFUSED) from exc


@app.command()
def create(name: str = typer.Option(..., help="Its name: the sender of what it sends."),
           scopes: str = typer.Option("read,write", help=f"Some of {', '.join(GRANTS)}."),
           expires: str = typer.Option("", help="A duration (30d, 12h) or an RFC 3339 time; "
                                                "default: never."),
           as_json: bool = JSON_OPTION) -> None:
    """Make a token; it is printed this once (keep it: only its hash is stored)."""
    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    token, _ = _run(lambda admin: admin.create(name, wanted, expires))
    if as_json:
        typer.echo(json.dumps({"name": name, "scopes": wanted, "token": token}))
    else:
        console.print(f"token [bold]{name}[/bold] ({', '.join(wanted)}): {token}")


@app.command()
def revoke(name: str, as_json: bool = JSON_OPTION) -> None:
    """Revoke a token: it stops working within seconds."""
    _run(lambda admin: admin.revoke(name))
    if as_json:
        typer.echo(json.dumps({"name": name, "revoked": True}))
    else:
        console.print(f"revoked token [bold]{name}[/bold]")


@app.command("list")
def list_tokens(as_json: bool = JSON_OPTION) -> None:
    """Every token (never the tokens themselves): name, scopes, expiry, revoked."""
    found = _run(lambda admin: admin.reads.tokens())
    if as_json:  # the hashes stay behind too
        typer.echo(json.dumps([{k: v for k, v in as_dict(r).items() if k != "token_sha256"}
                               for r in found]))
        return
    emit(found, False, "API tokens", ["name", "scopes", "created", "expires", "state"],
         lambda t: [t.name, ", ".join(t.scopes), timestamps.format_ms(t.created_at_ms),
                    timestamps.format_ms(t.expires_at_ms) if t.expires_at_ms else "never",
                    "revoked" if t.revoked else "live"])


