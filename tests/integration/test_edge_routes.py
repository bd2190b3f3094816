"""The edge authorizes the call that will run, and nothing else runs: every route of the contracts
(JSON bindings and gRPC method paths, read from the descriptor set Envoy serves, so a new RPC is
covered without a line here) is tried in its canonical form and in variants of its path, with no
token, a revoked token, a read token and the admin token, over HTTP/1.1 and native gRPC (h2c).

- A variant that is not the route (trailing `/`, `//` or `/.`, an escaped slash, another case,
  another HTTP method) is refused (404, or 400 for an escaped slash) whatever the token: it never
  reaches the transcoder, so it can never run the route's RPC.
- A variant that is the same route once Envoy has normalised it (merged leading slashes, a
  resolved dot segment, a query) is authorized exactly as the route is.
"""

from __future__ import annotations

import http.client
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import httpx
import pytest

from auth import scopes
from stack import envoy
from tests.integration.api_routes import api_routes
from tests.integration.helpers import eventually
from tests.integration.test_auth import _token
from tests.integration.test_cli import run

EXEMPT_RPCS = {r.rpc for r in scopes.Scopes.from_descriptor(envoy.DESCRIPTOR).routes.values()
               if r.scope is None}


#: (HTTP method, path, RPC) of every JSON binding and gRPC method of the API.
ROUTES = [(r.method, r.path, r.rpc) for r in api_routes()]
#: The other HTTP method of a route (GET <-> POST), where the contracts bind none.
BOUND = {(method, path) for method, path, _ in ROUTES}


def refused_variants(method: str, path: str) -> list[tuple[str, str]]:
    """Requests that look like `method path` but are not a route."""
    variants = [(method, path + "/"), (method, path + "//"), (method, path + "/."),
                (method, path + "%2F"), (method, path.upper()), (method, path.title())]
    other = "GET" if method == "POST" else "POST"
    variants.append((other, path))
    return [(m, p) for m, p in variants if (m, p.split("?")[0]) not in BOUND]


def same_route_variants(path: str) -> list[str]:
    """Paths that Envoy normalises to `path` (or that only add a query to it)."""
    return ["/" + path, f"/x/..{path}", f"{path}?x"]


@pytest.fixture(scope="module")
def tokens(base_url: str) -> dict[str, str]:
    """An admin, a read-only and a revoked token."""
    name = f"edge-revoked-{uuid.uuid4().hex[:8]}"
    revoked = _token(base_url, name)
    assert run(base_url, "token", "revoke", name).returncode == 0
    eventually(lambda: httpx.post(f"{base_url}/tags.list", json={}, timeout=10, headers={
        "authorization": f"Bearer {revoked}"}).status_code == 401, timeout=10)
    return {"admin": os.environ["PARLEY_TOKEN"], "revoked": revoked,
            "read": _token(base_url, f"edge-reader-{uuid.uuid4().hex[:8]}", "--scopes", "read")}


@pytest.fixture(scope="module")
def connection(base_url: str) -> Iterator[http.client.HTTPConnection]:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    yield connection
    connection.close()


@dataclass
class Reply:
    """Status and body of one request."""

    status_code: int
    text: str


def _send(connection: http.client.HTTPConnection, method: str, path: str,
          token: str | None) -> Reply:
    # http.client sends the path byte for byte (httpx would resolve its dot segments).
    headers = {"authorization": f"Bearer {token}"} if token else {}
    connection.request(method, path, body=b"{}" if method == "POST" else None, headers=headers)
    reply = connection.getresponse()
    return Reply(reply.status, reply.read().decode(errors="replace"))


@pytest.mark.parametrize(("method", "path", "rpc"), ROUTES)
def test_each_route_runs_only_when_authorized(connection: http.client.HTTPConnection, tokens: dict[str, str],
                                              method: str, path: str, rpc: str) -> None:
    protected = rpc not in EXEMPT_RPCS
    for token in (None, tokens["revoked"]):
        for variant in (path, *same_route_variants(path)):
            reply = _send(connection, method, variant, token)
            if protected:
                assert reply.status_code == 401, (method, variant, reply.status_code, reply.text)
            else:
                assert reply.status_code < 500, (method, variant, reply.status_code, reply.text)
    needed = scopes.method_scope(*rpc.removeprefix(f"{scopes.PACKAGE}.").split("."))
    if needed in (scopes.WRITE, scopes.ADMIN):
        reply = _send(connection, method, path, tokens["read"])
        assert reply.status_code == 403, (method, path, reply.status_code, reply.text)
    for token in (None, tokens["admin"]):
        for variant_method, variant in refused_variants(method, path):
            reply = _send(connection, variant_method, variant, token)
            assert reply.status_code in (400, 404), (variant_method, variant, reply.status_code,
                                                      reply.text)


def _grpc_call(channel: grpc.Channel, path: str, token: str) -> grpc.StatusCode:
    call = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    try:
        call(b"", metadata=metadata, timeout=10)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def test_native_grpc_runs_exact_method_paths_only(base_url: str, tokens: dict[str, str]) -> None:
    """Over h2c: a method path needs a live token, and a variant of any route's path runs
    nothing even with the admin token (Envoy's 404 or 400 reach a gRPC client as UNIMPLEMENTED
    or INTERNAL)."""
    with grpc.insecure_channel(base_url.removeprefix("http://")) as channel:
        for method, path, rpc in ROUTES:
            if path.startswith(f"/{scopes.PACKAGE}.") and rpc not in EXEMPT_RPCS:
                for token in ("", tokens["revoked"]):
                    assert _grpc_call(channel, path, token) == grpc.StatusCode.UNAUTHENTICATED
            for variant in {v for _, v in refused_variants(method, path)} - {path}:
                code = _grpc_call(channel, variant, tokens["admin"])
                assert code in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.INTERNAL), (
                    variant, code)


def test_the_routes_are_the_whole_api() -> None:
    """The descriptor set yields every RPC's gRPC path and its JSON binding."""
    assert ("POST", "/tags.list", "parley.v1.TagsService.ListTags") in ROUTES
    assert ("POST", "/parley.v1.TagsService/ListTags", "parley.v1.TagsService.ListTags") in ROUTES
    assert ("GET", "/events.subscribe", "parley.v1.EventsService.SubscribeSse") in ROUTES
    grpc_paths = [p for _, p, _ in ROUTES if p.startswith(f"/{scopes.PACKAGE}.")]
    assert len(grpc_paths) > 60 and len(ROUTES) > 2 * 60
