"""The edge's authorization rules: which scope each call needs, tokens and their expiry, and
the answers the Check service gives Envoy (over a lookup of token records)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from envoy.service.auth.v3 import external_auth_pb2

from auth import scopes, tokens
from auth.check_service import CachedTokens, CheckServicer, presented_token
from parley.v1 import records_pb2
from runtime.errors import InvalidArgument
from stack.envoy import DESCRIPTOR

NEEDED = scopes.Scopes.from_descriptor(DESCRIPTOR)


@pytest.mark.parametrize(("path", "scope"), [
    ("/messages.list", "read"), ("/conversations.list", "read"), ("/events.subscribe", "read"),
    ("/parley.v1.EventsService/Subscribe", "read"), ("/client.config", "read"),
    ("/webhooks.deliveries", "read"), ("/messages.send", "write"), ("/conversations.tag", "write"),
    ("/metadata.upsert", "write"), ("/contacts.merge", "write"), ("/tags.delete", "write"),
    ("/channels.facebook.connect", "admin"), ("/channels.update", "admin"),
    ("/webhooks.subscribe", "admin"), ("/sources.create", "admin"),
    ("/parley.v1.MessagingService/Unknown", "admin"),
    ("/health", None), ("/facebook", None), ("/twilio", None), ("/chatplugin.send", None),
    ("/chatplugin.stream?token=x", None), ("/sources.webhook", None),
    ("/sources.channels.create", None),
])
def test_each_call_needs_its_scope(path: str, scope: str | None) -> None:
    assert NEEDED.needed(path) == (True, scope)


def test_paths_outside_the_api_are_envoys_to_answer() -> None:
    assert NEEDED.needed("/chatplugin/s.js") == (False, None)
    assert NEEDED.needed("/nothing") == (False, None)


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
    assert presented_token({"authorization": "Bearer abc"}, "/tags.list") == ("abc", False)
    assert presented_token({"authorization": "bearer  abc "}, "/tags.list") == ("abc", False)
    assert presented_token({"authorization": "Basic abc"}, "/tags.list") == ("", False)
    assert presented_token({}, "/events.subscribe?access_token=q&types=x") == ("q", True)
    assert presented_token({}, "/tags.list?access_token=q") == ("", False)


def _check(records: dict[str, records_pb2.TokenRecord], path: str,
           headers: dict[str, str]) -> external_auth_pb2.CheckResponse:
    async def lookup(token: str) -> records_pb2.TokenRecord | None:
        return records.get(token)

    servicer = CheckServicer(NEEDED, CachedTokens(lookup, ttl_s=0))
    request = external_auth_pb2.CheckRequest()
    request.attributes.request.http.path = path
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
    streamed = _check(records, "/events.subscribe?access_token=good", {})
    assert list(streamed.ok_response.query_parameters_to_remove) == ["access_token"]
    exempt = _check(records, "/facebook", {"x-parley-token-name": "mallory"})
    assert exempt.status.code == 0 and list(exempt.ok_response.headers_to_remove) == [
        "x-parley-token-name"]
    expired = records_pb2.TokenRecord(name="old", scopes=["admin"], expires_at_ms=1)
    gone = _check({"old": expired}, "/tags.list", {"authorization": "Bearer old"})
    assert gone.denied_response.status.code == 401 and "expired" in gone.denied_response.body
