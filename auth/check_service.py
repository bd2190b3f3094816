"""Envoy's external authorization (`envoy.service.auth.v3.Authorization/Check`): every request
on the public port is checked here before Envoy routes it.

Deny by default: a request that runs no RPC of the API (not exactly one of its routes, see
`auth.scopes`) is a 404 before anything is transcoded. An API call needs
`Authorization: Bearer <token>` (a browser's EventSource, which cannot set
headers, may pass it as `?access_token=` on `GET /events.subscribe`; it is removed before the
call goes on). No token, an unknown, revoked or expired one: 401. A token without the call's
scope: 403. An allowed call goes on with `x-parley-token-name` set to the token's name (what a
caller sends is replaced), which messaging writes as the sender of the messages it sends.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from envoy.type.v3 import http_status_pb2
from google.rpc import code_pb2, status_pb2

from auth import scopes, tokens
from parley.v1 import records_pb2
from runtime import timestamps
from runtime.bearer import TOKEN_NAME_HEADER

#: Query parameter carrying the token of an EventSource (GET /events.subscribe only).
QUERY_TOKEN = "access_token"
#: The one RPC that takes it: `GET /events.subscribe`.
EVENT_SOURCE_RPC = "parley.v1.EventsService.SubscribeSse"

Lookup = Callable[[str], Awaitable[records_pb2.TokenRecord | None]]


class CachedTokens:
    """Token records by token, each kept `ttl_s` (so a revocation takes effect within it)."""

    def __init__(self, lookup: Lookup, ttl_s: float) -> None:
        self.lookup = lookup
        self.ttl_s = ttl_s
        self.cache: dict[str, tuple[float, records_pb2.TokenRecord | None]] = {}

    async def get(self, token: str) -> records_pb2.TokenRecord | None:
        """The record of `token` (None: unknown or revoked), at most `ttl_s` old."""
        now = time.monotonic()
        found = self.cache.get(token)
        if found is not None and now - found[0] < self.ttl_s:
            return found[1]
        record = await self.lookup(token)
        if len(self.cache) > 10_000:  # bounded: guessed tokens must not grow it forever
            self.cache.clear()
        self.cache[token] = (now, record)
        return record


def _denied(status: int, code: int, message: str) -> external_auth_pb2.CheckResponse:
    return external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=code, message=message),
        denied_response=external_auth_pb2.DeniedHttpResponse(
            status=http_status_pb2.HttpStatus(code=status), body=message,
            headers=[base_pb2.HeaderValueOption(
                header=base_pb2.HeaderValue(key="content-type", value="text/plain"))]))


def _allowed(token_name: str, drop_query_token: bool) -> external_auth_pb2.CheckResponse:
    ok = external_auth_pb2.OkHttpResponse(
        headers=[base_pb2.HeaderValueOption(
            header=base_pb2.HeaderValue(key=TOKEN_NAME_HEADER, value=token_name),
            append_action=base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD)] if token_name else [],
        headers_to_remove=[] if token_name else [TOKEN_NAME_HEADER],
        query_parameters_to_remove=[QUERY_TOKEN] if drop_query_token else [])
    return external_auth_pb2.CheckResponse(status=status_pb2.Status(code=code_pb2.OK),
                                           ok_response=ok)


def presented_token(headers: dict[str, str], path: str, rpc: str) -> tuple[str, bool]:
    """The token a request for `rpc` carries, and whether it came in the query (EventSource)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), False
    if rpc == EVENT_SOURCE_RPC:
        query = parse_qs(urlsplit(path).query).get(QUERY_TOKEN, [""])[0]
        return query, bool(query)
    return "", False


class CheckServicer(external_auth_pb2_grpc.AuthorizationServicer):
    """Thin: which scope a path needs is `auth.scopes`, what a token may do `auth.tokens`."""

    def __init__(self, needed: scopes.Scopes, records: CachedTokens,
                 saw: Callable[[str], Awaitable[None]]) -> None:
        self.needed = needed
        self.records = records
        #: Notes a call of the token named (`auth.seen.SeenTokens.saw`).
        self.saw = saw

    async def Check(self, request: external_auth_pb2.CheckRequest,
                    context: grpc.aio.ServicerContext) -> external_auth_pb2.CheckResponse:
        http = request.attributes.request.http
        route = self.needed.route(http.method, http.path)
        if route is None:
            return _denied(404, code_pb2.NOT_FOUND, f"no such call: {http.method} "
                           f"{http.path.split('?', 1)[0][:200]}")
        if route.scope is None:
            return _allowed("", False)
        scope = route.scope
        token, in_query = presented_token(dict(http.headers), http.path, route.rpc)
        if not token:
            return _denied(401, code_pb2.UNAUTHENTICATED,
                           "an API token is required: Authorization: Bearer <token>")
        record = await self.records.get(token)
        if not tokens.live(record, timestamps.now_ms()) or record is None:
            why = "has expired" if record is not None and not record.revoked else "is not valid"
            return _denied(401, code_pb2.UNAUTHENTICATED, f"the API token {why}")
        if not scopes.grants(record.scopes, scope):
            return _denied(403, code_pb2.PERMISSION_DENIED,
                           f"token {record.name} lacks the {scope} scope "
                           f"(it has {', '.join(record.scopes)})")
        await self.saw(record.name)
        return _allowed(record.name, in_query)
