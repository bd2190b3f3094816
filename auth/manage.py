"""API tokens as operators manage them (`parley token create|revoke|list`, and the admin token
`make up` makes): straight through Kafka and the store's projection, so they work before any
token exists and without the API."""

from __future__ import annotations

from pathlib import Path

from auth import tokens
from auth.scopes import ADMIN
from parley.v1 import records_pb2
from runtime import kafka, timestamps, topics
from runtime import redis as runtime_redis
from runtime.errors import Conflict, NotFound
from runtime.secret_files import write_secret
from runtime.settings import Settings
from store import client as store

#: Where `make up` keeps the local admin token (mode 0600).
ADMIN_TOKEN_FILE = "admin.token"


class Tokens:
    """Creates and revokes the API tokens of one install, through Kafka and the projection:
    `parley token` (`TokenAdmin`) and the API's TokensService."""

    def __init__(self, reads: store.StoreReads, writer: store.CommandWriter) -> None:
        self.reads = reads
        self.writer = writer

    async def _write(self, record: records_pb2.TokenRecord) -> None:
        await self.writer.write(topics.TOKENS, record.name, record)

    async def create(self, name: str, scopes: list[str], expires: str = "") -> tuple[str, records_pb2.TokenRecord]:
        """A new token (shown this once) and its record; Conflict when a live token has that
        name."""
        now = timestamps.now_ms()
        if tokens.live(await self.reads.token(name), now):
            raise Conflict(f"token {name} exists; revoke it first or choose another name")
        token, record = tokens.new_token(name, scopes, tokens.expiry_ms(expires, now), now)
        await self._write(record)
        return token, record

    async def revoke(self, name: str) -> None:
        """Revoke the token `name` (it stops working within seconds); NotFound when unknown."""
        found = await self.reads.token(name)
        if found is None:
            raise NotFound(f"token {name} not found")
        if not found.revoked:
            await self._write(tokens.revoked(found))


class TokenAdmin(Tokens):
    """`Tokens` of the install `settings` names, before any token or the API exists (an async
    context manager)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __aenter__(self) -> TokenAdmin:
        self.redis = runtime_redis.client(self.settings)
        self.producer = kafka.producer(self.settings)
        await self.producer.start()
        super().__init__(store.reads(self.settings, self.redis),
                         store.commands(self.settings, self.redis, self.producer))
        await store.follow(self.settings, self.redis)  # once: the admin's commands are short
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.producer.stop()
        await self.redis.aclose()

    async def ensure_admin(self) -> tuple[Path, bool]:
        """The local admin token's file, made (with a new token) unless it holds a working one;
        and whether it was made now."""
        path = Path(self.settings.data_dir) / ADMIN_TOKEN_FILE
        if path.exists() and tokens.live(await self.reads.api_token(path.read_text().strip()),
                                         timestamps.now_ms()):
            return path, False
        names = [r.name for r in await self.reads.tokens()]
        name = next(n for n in ("admin", *(f"admin-{i}" for i in range(2, 10_000)))
                    if n not in names)
        token, _ = await self.create(name, [ADMIN])
        write_secret(path, token + "\n")
        return path, True
