"""`python -m auth`: the edge's authorization service. Envoy asks it about every request on the
public port (ext_authz); it answers from the API tokens the store projects (read only)."""

from __future__ import annotations

import os

from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc

from auth.check_service import CachedTokens, CheckServicer
from auth.scopes import Scopes
from runtime.service_settings import AUTH_CACHE_S
from runtime.server import Registration
from runtime.service import Plan, Process, run
from stack.envoy import DESCRIPTOR
from store import client as store


async def build(process: Process) -> Plan:
    """Answer Envoy's checks."""
    reads = store.reads(process.settings, process.redis)
    follow = await store.follow(process.settings, process.redis)
    # How long a token's answer is kept: a revocation takes effect within it.
    cache_s = AUTH_CACHE_S.read(os.environ)
    servicer = CheckServicer(Scopes.from_descriptor(DESCRIPTOR), CachedTokens(reads.api_token, cache_s))
    return Plan([Registration.of(external_auth_pb2, external_auth_pb2_grpc, servicer)],
                background=[follow])


if __name__ == "__main__":
    run("auth", build)
