"""API tokens: made once, shown once, kept only as their SHA-256 (records of `parley.tokens`,
projected by the store), revoked by name.

A token is `pat_` and 43 URL-safe characters (256 random bits). Records are written through
Kafka and answered once projected (`store.commands.CommandWriter`), so `parley token create`
works before any token exists (it is how `make up` makes the first admin token).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from auth.scopes import GRANTS
from parley.v1 import records_pb2
from runtime import timestamps
from runtime.errors import InvalidArgument

PREFIX = "pat_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_DURATION = re.compile(r"^(\d+)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def digest(token: str) -> str:
    """The hex SHA-256 a token is kept as."""
    return hashlib.sha256(token.encode()).hexdigest()


def expiry_ms(expires: str, now_ms: int) -> int:
    """Epoch ms of `expires`: "" (never: 0), a duration ("30d", "12h", "90m", "45s") or an
    RFC 3339 time; InvalidArgument otherwise or when it is not in the future."""
    if not expires:
        return 0
    duration = _DURATION.match(expires)
    try:
        at = (now_ms + int(duration.group(1)) * _SECONDS[duration.group(2)] * 1000 if duration
              else timestamps.parse_ms(expires))
    except ValueError as exc:
        raise InvalidArgument(f"expires must be a duration like 30d or an RFC 3339 time, "
                              f"got {expires!r}") from exc
    if at <= now_ms:
        raise InvalidArgument(f"expires {expires!r} is not in the future")
    return at


def new_token(name: str, scopes: list[str], expires_at_ms: int,
              now_ms: int) -> tuple[str, records_pb2.TokenRecord]:
    """A new token and its record; InvalidArgument for a bad name or scope."""
    if not _NAME.match(name):
        raise InvalidArgument("the name must be 1-64 letters, digits, '.', '_', '@' or '-', "
                              f"starting with a letter or digit; got {name!r}")
    unknown = sorted(set(scopes) - set(GRANTS))
    if unknown or not scopes:
        raise InvalidArgument(f"scopes must be some of {', '.join(GRANTS)}; got {scopes}")
    token = PREFIX + secrets.token_urlsafe(32)
    record = records_pb2.TokenRecord(name=name, scopes=sorted(set(scopes)),
                                     token_sha256=digest(token), created_at_ms=now_ms,
                                     expires_at_ms=expires_at_ms)
    return token, record


def revoked(record: records_pb2.TokenRecord) -> records_pb2.TokenRecord:
    """`record` revoked."""
    updated = records_pb2.TokenRecord()
    updated.CopyFrom(record)
    updated.revoked = True
    return updated


def live(record: records_pb2.TokenRecord | None, now_ms: int) -> bool:
    """True when `record` is a token that works now."""
    return (record is not None and not record.revoked
            and (record.expires_at_ms == 0 or record.expires_at_ms > now_ms))


