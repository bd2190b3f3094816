"""`parley channels list|connect|disconnect`."""

from __future__ import annotations

import typer

from cli.output import JSON_OPTION, client, emit, emit_one, errors
from sources import CHANNEL_KINDS

app = typer.Typer(no_args_is_help=True, help="Channels: list, connect, disconnect.")

#: The arguments each kind of channel's connect needs (besides --name and --image-url).
REQUIRED = {source: tuple(field for field in kind.required if field != "name")
            for source, kind in CHANNEL_KINDS.items()}


#: `--field NAME=VALUE`: any field of a connect request (a new source's own ones).
FIELDS_OPTION = typer.Option([], "--field", help="NAME=VALUE: a field of the source's connect "
                             "request without an option of its own (repeatable).")


@app.command("list")
def list_channels(source: str = typer.Option("", help="Only this source's channels."),
                  as_json: bool = JSON_OPTION) -> None:
    """The connected channels."""
    with client() as parley:
        channels = parley.channels.list(source)
    emit(channels, as_json, "Channels", ["id", "source", "source channel id", "name"],
         lambda c: [c.id, c.source, c.source_channel_id,
                    str(c.metadata["name"]) if "name" in c.metadata else ""])


@app.command()
def connect(
    source: str = typer.Argument(..., help=f"One of {', '.join(REQUIRED)}."),
    name: str = typer.Option("", help="Display name of the channel."),
    image_url: str = typer.Option("", help="Image of the channel."),
    page_id: str = typer.Option("", help="facebook, instagram: the page id."),
    page_token: str = typer.Option("", help="facebook, instagram: the page access token."),
    account_id: str = typer.Option("", help="instagram: the Instagram account id."),
    gbm_id: str = typer.Option("", help="google: the Business Messages agent id."),
    phone_number: str = typer.Option("", help="twilio.sms, twilio.whatsapp: E.164 number."),
    phone_number_id: str = typer.Option("", help="whatsapp: the Cloud API phone number id."),
    user_token: str = typer.Option("", help="whatsapp: the system user access token."),
    fields: list[str] = FIELDS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Connect a channel of SOURCE (connecting it again reconnects it)."""
    options = {"page_id": page_id, "page_token": page_token, "account_id": account_id,
               "gbm_id": gbm_id, "phone_number": phone_number,
               "phone_number_id": phone_number_id, "user_token": user_token}
    if source not in REQUIRED:
        errors.print(f"[red]unknown source {source!r}:[/red] use one of {', '.join(REQUIRED)}")
        raise typer.Exit(2)
    extra = dict(field.split("=", 1) for field in fields if "=" in field)
    if len(extra) != len(fields):
        errors.print("[red]--field takes NAME=VALUE[/red]")
        raise typer.Exit(2)
    given = {**options, **extra}
    missing = [f"--{k.replace('_', '-')}" if k in options else f"--field {k}=..."
               for k in REQUIRED[source] if not given.get(k)]
    if missing:
        errors.print(f"[red]{source} needs[/red] {', '.join(missing)}")
        raise typer.Exit(2)
    arguments = {**{k: given[k] for k in REQUIRED[source]}, **extra}
    with client() as parley:
        channel = parley.channels.connect(source, name=name, image_url=image_url, **arguments)
    emit_one(channel, as_json, f"connected {channel.source} channel [bold]{channel.id}[/bold]")


@app.command()
def disconnect(channel_id: str, as_json: bool = JSON_OPTION) -> None:
    """Disconnect a channel (of any source)."""
    with client() as parley:
        parley.channels.disconnect(channel_id)
        channel = parley.channels.info(channel_id)
    emit_one(channel, as_json, f"disconnected channel {channel_id}")
