"""`python -m auth`: the edge's authorization service. Envoy asks it about every request on the
public port (ext_authz); it answers from the API tokens the store projects, and notes when each
token called. It also serves the API tokens (TokensService) and who used them (UsersService)."""

from __future__ import annotations

import os

from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc

from auth.check_service import CachedTokens, CheckServicer
from auth.manage import Tokens
from auth.scopes import Scopes
from auth.seen import SeenTokens
from auth.tokens_service import TokensServicer
from auth.users_service import UsersServicer
from parley.v1 import tokens_pb2, tokens_pb2_grpc, users_pb2, users_pb2_grpc
from runtime.service_settings import AUTH_CACHE_S
from runtime.server import Registration
from runtime.service import Plan, Process, run
from stack.envoy import DESCRIPTOR
from store import client as store


async def build(process: Process) -> Plan:
    """Answer Envoy's checks; serve the tokens and their users."""
    settings, redis = process.settings, process.redis
    reads = store.reads(settings, redis)
    follow = await store.follow(settings, redis)
    # How long a token's answer is kept: a revocation takes effect within it.
    cache_s = AUTH_CACHE_S.read(os.environ)
    seen = SeenTokens(settings, redis)
    checks = CheckServicer(Scopes.from_descriptor(DESCRIPTOR), CachedTokens(reads.api_token, cache_s),
                           seen.saw)
    tokens = Tokens(reads, store.commands(settings, redis, await process.producer()))
    return Plan([Registration.of(external_auth_pb2, external_auth_pb2_grpc, checks),
                 Registration.of(tokens_pb2, tokens_pb2_grpc, TokensServicer(tokens)),
                 Registration.of(users_pb2, users_pb2_grpc, UsersServicer(seen))],
                background=[follow])


if __name__ == "__main__":
    run("auth", build)
