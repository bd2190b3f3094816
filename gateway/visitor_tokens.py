"""The chat plugin's visitor and resume tokens: JWTs (HS256) signed with a key of the install.

A token names one visitor's conversation: the chat plugin channel, the channel's id at its
source, and the visitor's id (which keys the conversation). A visitor token is short-lived and
also carries the event-log position at which the visitor read the conversation, so the stream
they open next misses nothing that came in between. A resume token lives long and only starts
new visitor sessions. Neither can reach another conversation: nothing in a request names one.

The key is `PARLEY_CHATPLUGIN_SECRET` (set it, the same on every gateway, beyond one machine);
without it, one is generated into `<data dir>/chatplugin.key` (mode 0600) on first use.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jwt

from runtime.service_settings import (CHATPLUGIN_RESUME_TTL_S, CHATPLUGIN_SECRET,
                                      CHATPLUGIN_TOKEN_TTL_S)
from runtime.setting import declared, read_fields
from runtime.errors import Unauthenticated
from runtime.settings import Settings

VISITOR, RESUME = "visitor", "resume"
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class Visitor:
    """Whose conversation a token reaches."""

    #: Parley id of the chat plugin channel.
    channel_id: str
    #: The channel's id at its source (what ingest derives the channel id from).
    source_channel_id: str
    #: The visitor's id: the conversation key and the sender id of their messages.
    visitor_id: str
    #: Event-log position when the visitor token was made ("" in resume tokens).
    since: str = ""
    #: When the token it was read from expires, epoch seconds (0: not read from a token). Not
    #: part of whose conversation it is.
    expires_at_s: int = field(default=0, compare=False)


def signing_key(settings: Settings, env: Mapping[str, str] = os.environ) -> bytes:
    """The install's key: from the environment (or `env`), else from (or newly into) the data
    folder."""
    configured = CHATPLUGIN_SECRET.read(env)
    if configured:
        return configured.encode()
    path = Path(settings.data_dir) / "chatplugin.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: of two processes making it at once, one writes and the other reads it.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass
    return path.read_text().strip().encode()


@dataclass(frozen=True)
class VisitorTokens:
    """Issues and reads tokens; lifetimes: the `PARLEY_CHATPLUGIN_TOKEN_TTL_S` and `_RESUME_TTL_S`
    settings (`runtime.service_settings`)."""

    key: bytes
    visitor_ttl_s: int = declared(CHATPLUGIN_TOKEN_TTL_S)
    resume_ttl_s: int = declared(CHATPLUGIN_RESUME_TTL_S)

    @classmethod
    def from_env(cls, settings: Settings, env: Mapping[str, str] = os.environ) -> VisitorTokens:
        """The tokens of this install, as configured in the environment (or `env`)."""
        return read_fields(cls, env, key=signing_key(settings, env))

    def issue(self, visitor: Visitor, kind: str, now_s: float | None = None) -> str:
        """A signed token of `kind` (VISITOR or RESUME) for `visitor`."""
        now = int(now_s if now_s is not None else time.time())
        ttl = self.visitor_ttl_s if kind == VISITOR else self.resume_ttl_s
        claims = {"typ": kind, "ch": visitor.channel_id, "sc": visitor.source_channel_id,
                  "vi": visitor.visitor_id, "iat": now, "exp": now + ttl}
        if kind == VISITOR:
            claims["since"] = visitor.since
        return jwt.encode(claims, self.key, algorithm=_ALGORITHM)

    def read(self, token: str, kind: str) -> Visitor:
        """The visitor of a valid, unexpired token of `kind`; Unauthenticated otherwise."""
        if not token:
            raise Unauthenticated(f"a {kind} token is required")
        try:
            claims = jwt.decode(token, self.key, algorithms=[_ALGORITHM],
                                options={"require": ["exp", "typ", "ch", "sc", "vi"]})
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated(f"the {kind} token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the {kind} token is not valid") from exc
        if claims["typ"] != kind:
            raise Unauthenticated(f"a {kind} token is required, not a {claims['typ']} token")
        return Visitor(str(claims["ch"]), str(claims["sc"]), str(claims["vi"]),
                       str(claims.get("since", "")), int(claims["exp"]))
