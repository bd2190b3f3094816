"""The edge's authorization rules: which scope each call needs, tokens and their expiry, and
the answers the Check service gives Envoy (over a lookup of token records)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from envoy.service.auth.v3 import external_auth_pb2

from auth import scopes, tokens
from auth.scopes import ADMIN, READ, WRITE, Route
from auth.check_service import EVENT_SOURCE_RPC, CachedTokens, CheckServicer, presented_token
from parley.v1 import records_pb2
from runtime.errors import InvalidArgument
from stack.envoy import DESCRIPTOR

NEEDED = scopes.Scopes.from_descriptor(DESCRIPTOR)


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("POST", "/messages.list", "read"), ("POST", "/conversations.list", "read"),
    ("POST", "/events.subscribe", "read"), ("GET", "/events.subscribe", "read"),
    ("POST", "/parley.v1.EventsService/Subscribe", "read"), ("POST", "/client.config", "read"),
    ("POST", "/webhooks.deliveries", "read"), ("POST", "/messages.send", "write"),
    ("POST", "/conversations.tag", "write"), ("POST", "/metadata.upsert", "write"),
    ("POST", "/contacts.merge", "write"), ("POST", "/tags.delete", "write"),
    ("POST", "/channels.facebook.connect", "admin"), ("POST", "/channels.update", "admin"),
    ("POST", "/webhooks.subscribe", "admin"), ("POST", "/sources.create", "admin"),
    ("GET", "/health", None), ("POST", "/facebook", None), ("GET", "/facebook", None),
    ("POST", "/twilio", None), ("POST", "/chatplugin.send", None),
    ("GET", "/chatplugin.stream?token=x", None), ("POST", "/sources.webhook", None),
    ("POST", "/sources.channels.create", None),
    ("POST", "/grpc.health.v1.Health/Check", None), ("POST", "/grpc.health.v1.Health/Watch", None),
    ("POST", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "read"),
    ("POST", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "read"),
])
def test_each_call_needs_its_scope(method: str, path: str, scope: str | None) -> None:
    route = NEEDED.route(method, path)
    assert route is not None and route.scope == scope


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/tags.list/"), ("POST", "/tags.list//"), ("POST", "/tags.list/."),
    ("POST", "/Tags.List"), ("POST", "/tags.list%2F"), ("GET", "/tags.list"),
    ("OPTIONS", "/tags.list"), ("POST", "/parley.v1.MessagingService/Unknown"),
    ("POST", "/parley.v1.TagsService/ListTags/"), ("GET", "/parley.v1.TagsService/ListTags"),
    ("POST", "/nothing"), ("GET", "/chatplugin/s.js"), ("POST", "/"), ("POST", ""),
    ("POST", "/grpc.health.v1.Health/List"), ("GET", "/grpc.health.v1.Health/Check"),
    ("POST", "/parley.edge.Health/Check"),
])
def test_a_request_that_is_not_exactly_a_route_runs_nothing(method: str, path: str) -> None:
    assert NEEDED.route(method, path) is None


def test_routes_name_the_rpc_they_run() -> None:
    assert NEEDED.route("GET", "/events.subscribe") == scopes.Route(
        "parley.v1.EventsService.SubscribeSse", "read")
    assert NEEDED.route("POST", "/events.subscribe") == scopes.Route(
        "parley.v1.EventsService.Subscribe", "read")
    assert NEEDED.route("POST", "/tags.list?x=1") == NEEDED.route(
        "POST", "/parley.v1.TagsService/ListTags")


def test_scopes_nest() -> None:
    assert scopes.grants(["admin"], "read") and scopes.grants(["write"], "read")
    assert not scopes.grants(["read"], "write") and not scopes.grants(["write"], "admin")
    assert not scopes.grants(["root"], "read")


def test_expiry() -> None:
    now = 1_700_000_000_000
    assert tokens.expiry_ms("", now) == 0
    assert tokens.expiry_ms("30d", now) == now + 30 * 86_400_000
    assert tokens.expiry_ms("90m", now) == now + 90 * 60_000
    assert tokens.expiry_ms("2030-01-01T00:00:00Z", now) == 1_893_456_000_000
    for bad in ("soon", "30x", "2020-01-01T00:00:00Z"):
        with pytest.raises(InvalidArgument):
            tokens.expiry_ms(bad, now)


def test_a_new_token_is_kept_as_its_hash() -> None:
    token, record = tokens.new_token("ci-bot", ["write", "read"], 0, 1)
    assert token.startswith("pat_") and len(token) > 40
    assert record.token_sha256 == tokens.digest(token) and token not in str(record)
    assert list(record.scopes) == ["read", "write"]
    assert tokens.live(record, 2) and not tokens.live(tokens.revoked(record), 2)
    brief = records_pb2.TokenRecord(name="x", scopes=["read"], expires_at_ms=10)
    assert tokens.live(brief, 9) and not tokens.live(brief, 10)
    for name, wanted in (("", ["read"]), ("bad name", ["read"]), ("ok", []), ("ok", ["root"])):
        with pytest.raises(InvalidArgument):
            tokens.new_token(name, wanted, 0, 1)


def test_the_token_comes_from_the_header_or_an_event_sources_query() -> None:
    tags, sse = "parley.v1.TagsService.ListTags", EVENT_SOURCE_RPC
    assert presented_token({"authorization": "Bearer abc"}, "/tags.list", tags) == ("abc", False)
    assert presented_token({"authorization": "bearer  abc "}, "/tags.list", tags) == ("abc", False)
    assert presented_token({"authorization": "Basic abc"}, "/tags.list", tags) == ("", False)
    assert presented_token({}, "/events.subscribe?access_token=q&types=x", sse) == ("q", True)
    assert presented_token({}, "/tags.list?access_token=q", tags) == ("", False)
    # POST /events.subscribe runs another RPC (Subscribe), which takes the header only.
    assert presented_token({}, "/events.subscribe?access_token=q",
                           "parley.v1.EventsService.Subscribe") == ("", False)


def _check(records: dict[str, records_pb2.TokenRecord], path: str,
           headers: dict[str, str], method: str = "POST",
           seen: list[str] | None = None) -> external_auth_pb2.CheckResponse:
    async def lookup(token: str) -> records_pb2.TokenRecord | None:
        return records.get(token)

    async def saw(name: str) -> None:
        (seen if seen is not None else []).append(name)

    servicer = CheckServicer(NEEDED, CachedTokens(lookup, ttl_s=0), saw)
    request = external_auth_pb2.CheckRequest()
    request.attributes.request.http.path = path
    request.attributes.request.http.method = method
    request.attributes.request.http.headers.update(headers)
    return asyncio.run(servicer.Check(request, None))  # type: ignore[arg-type]


def _headers(response: external_auth_pb2.CheckResponse) -> dict[str, Any]:
    return {h.header.key: h.header.value for h in response.ok_response.headers}


def test_check_answers() -> None:
    reader = records_pb2.TokenRecord(name="reader", scopes=["read"])
    records = {"good": reader}
    denied = _check(records, "/tags.list", {})
    assert denied.denied_response.status.code == 401 and "required" in denied.denied_response.body
    assert _check(records, "/tags.list", {"authorization": "Bearer bad"}).denied_response.status.code == 401
    refused = _check(records, "/tags.create", {"authorization": "Bearer good"})
    assert refused.denied_response.status.code == 403 and "lacks the write scope" in refused.denied_response.body
    allowed = _check(records, "/tags.list", {"authorization": "Bearer good",
                                             "x-parley-token-name": "mallory"})
    assert allowed.status.code == 0 and _headers(allowed) == {"x-parley-token-name": "reader"}
    streamed = _check(records, "/events.subscribe?access_token=good", {}, "GET")
    assert list(streamed.ok_response.query_parameters_to_remove) == ["access_token"]
    posted = _check(records, "/events.subscribe?access_token=good", {})
    assert posted.denied_response.status.code == 401
    unknown = _check(records, "/tags.list/", {"authorization": "Bearer good"})
    assert unknown.denied_response.status.code == 404 and "no such call" in unknown.denied_response.body
    exempt = _check(records, "/facebook", {"x-parley-token-name": "mallory"})
    assert exempt.status.code == 0 and list(exempt.ok_response.headers_to_remove) == [
        "x-parley-token-name"]
    expired = records_pb2.TokenRecord(name="old", scopes=["admin"], expires_at_ms=1)
    gone = _check({"old": expired}, "/tags.list", {"authorization": "Bearer old"})
    assert gone.denied_response.status.code == 401 and "expired" in gone.denied_response.body


def test_only_the_calls_let_through_are_noted_for_their_token() -> None:
    records = {"good": records_pb2.TokenRecord(name="reader", scopes=["read"])}
    seen: list[str] = []
    _check(records, "/tags.list", {"authorization": "Bearer good"}, seen=seen)
    _check(records, "/tags.create", {"authorization": "Bearer good"}, seen=seen)  # 403
    _check(records, "/tags.list", {"authorization": "Bearer bad"}, seen=seen)  # 401
    _check(records, "/facebook", {}, seen=seen)  # exempt: no token
    assert seen == ["reader"]


def test_tokens_need_admin_even_to_list_and_exploring_pages_needs_admin() -> None:
    def scope(path: str) -> str | None:
        route = NEEDED.route("POST", path)
        assert route is not None, path
        return route.scope

    assert NEEDED.route("POST", "/tokens.list") == Route("parley.v1.TokensService.ListTokens", ADMIN)
    assert scope("/tokens.create") == scope("/tokens.revoke") == ADMIN
    assert scope("/users.list") == READ
    assert scope("/channels.facebook.explore") == ADMIN
    assert scope("/conversations.refetch") == scope("/contacts.create") == WRITE
    assert scope("/contacts.recent-messages") == READ


def test_the_camel_case_aliases_run_the_same_calls() -> None:
    for canonical, alias in [("/conversations.set-state", "/conversations.setState"),
                             ("/conversations.mark-read", "/conversations.markRead"),
                             ("/conversations.remove-state", "/conversations.removeState"),
                             ("/conversations.update-contact", "/conversations.updateContact"),
                             ("/messages.suggest-replies", "/messages.suggestReplies"),
                             ("/contacts.recent-messages", "/contacts.recentMessages")]:
        assert NEEDED.route("POST", alias) == NEEDED.route("POST", canonical) is not None
