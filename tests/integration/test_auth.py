"""Authentication at the edge: every API call needs a token (JSON and gRPC), scopes nest
(read < write < admin), revocation and expiry take effect within seconds, the exempt paths work
without one, and a message's sender is the token's name."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from typing import Any

import grpc
import httpx
import pytest

from parley.v1 import tags_pb2, tags_pb2_grpc
from runtime.settings import Settings
from stack import processes, services
from tests.integration.api_routes import api_routes
from tests.integration import webhooks
from tests.integration.helpers import eventually, post
from tests.integration.test_cli import run
from tests.integration.test_health import PARLEY

EXEMPT_PREFIXES = ("/chatplugin.",)
EXEMPT = {"/health", "/facebook", "/instagram", "/whatsapp", "/google", "/twilio", "/viber",
          "/sources.channels.create", "/sources.channels.list", "/sources.channels.disconnect",
          "/sources.webhook"}


PROTECTED = [(r.method, r.path) for r in api_routes() if not r.is_grpc
             and r.path not in EXEMPT and not r.path.startswith(EXEMPT_PREFIXES)]


def _call(base_url: str, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}".strip()} if token is not None else {}
    if method == "GET":
        return httpx.get(f"{base_url}{path}", headers=headers, timeout=10)
    return httpx.post(f"{base_url}{path}", json={}, headers=headers, timeout=10)


def test_the_protected_calls_are_most_of_the_api() -> None:
    assert len(PROTECTED) > 50 and ("POST", "/messages.send") in PROTECTED
    assert ("GET", "/events.subscribe") in PROTECTED and ("POST", "/sources.create") in PROTECTED


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_api_call_needs_a_valid_token(base_url: str, method: str, path: str) -> None:
    for token, why in ((None, "an API token is required"), ("pat_guessed", "is not valid"),
                       ("", "an API token is required")):
        reply = _call(base_url, method, path, token)
        assert reply.status_code == 401, (path, reply.status_code, reply.text)
        body = reply.json()
        assert body["code"] == grpc.StatusCode.UNAUTHENTICATED.value[0] and why in body["message"]


def test_grpc_calls_need_a_valid_token_too(live_stack: Settings) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{live_stack.http_port}") as channel:
        stub = tags_pb2_grpc.TagsServiceStub(channel)
        for metadata in ((), (("authorization", "Bearer pat_guessed"),)):
            with pytest.raises(grpc.RpcError) as caught:
                stub.ListTags(tags_pb2.ListTagsRequest(), metadata=metadata, timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def _token(base_url: str, name: str, *options: str) -> str:
    done = subprocess.run([PARLEY, "token", "create", "--name", name, *options, "--json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["token"])


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_scopes_nest_read_write_admin(base_url: str) -> None:
    reader = _token(base_url, _name("reader"), "--scopes", "read")
    writer = _token(base_url, _name("writer"), "--scopes", "write")
    admin = _token(base_url, _name("admin"), "--scopes", "admin")
    tag = {"name": _name("t"), "color": "tag-red"}
    for token, read, write, administer in ((reader, 200, 403, 403), (writer, 200, 200, 403),
                                           (admin, 200, 200, 200)):
        assert post(base_url, "/tags.list", {}, token).status_code == read
        created = post(base_url, "/tags.create", {**tag, "name": _name("t")}, token)
        assert created.status_code == write, created.text
        connected = post(base_url, "/channels.viber.connect", {"name": "Bot"}, token)
        assert connected.status_code == administer, connected.text
    refused = post(base_url, "/tags.create", tag, reader).json()
    assert refused["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert "lacks the write scope" in refused["message"]


def test_revocation_takes_effect_within_seconds(base_url: str) -> None:
    name = _name("revoked")
    token = _token(base_url, name)
    assert post(base_url, "/tags.list", {}, token).status_code == 200
    done = run(base_url, "token", "revoke", name)
    assert done.returncode == 0 and "revoked" in done.stdout
    revoked_at = time.monotonic()
    eventually(lambda: post(base_url, "/tags.list", {}, token).status_code == 401, timeout=10)
    assert time.monotonic() - revoked_at < 5
    listed = {t["name"]: t for t in json.loads(run(base_url, "token", "list", "--json").stdout)}
    assert listed[name]["revoked"] is True and "token_sha256" not in json.dumps(listed)


def test_an_expired_token_is_refused(base_url: str) -> None:
    token = _token(base_url, _name("brief"), "--expires", "2s")
    assert post(base_url, "/tags.list", {}, token).status_code == 200
    time.sleep(3)
    reply = post(base_url, "/tags.list", {}, token)
    assert reply.status_code == 401 and "has expired" in reply.json()["message"]


@pytest.mark.parametrize(("arguments", "message"), [
    (["--scopes", "everything"], "scopes must be some of"),
    (["--expires", "yesterday"], "expires must be"),
    (["--expires", "2020-01-01T00:00:00Z"], "not in the future"),
])
def test_bad_token_requests_are_refused(base_url: str, arguments: list[str], message: str) -> None:
    done = run(base_url, "token", "create", "--name", _name("bad"), *arguments)
    assert done.returncode == 1 and message in done.stderr


def test_names_are_unique_while_live_and_revoking_the_unknown_fails(base_url: str) -> None:
    name = _name("unique")
    _token(base_url, name)
    again = run(base_url, "token", "create", "--name", name)
    assert again.returncode == 1 and "exists" in again.stderr
    unknown = run(base_url, "token", "revoke", _name("nobody"))
    assert unknown.returncode == 1 and "not found" in unknown.stderr


def test_tokens_through_the_api_and_who_used_them(base_url: str) -> None:
    name = _name("agent")
    made = post(base_url, "/tokens.create", {"name": name, "scopes": ["write"], "expires": "30d"})
    assert made.status_code == 200, made.text
    token, listed = made.json()["token"], made.json()["api_token"]
    assert token.startswith("pat_") and listed["scopes"] == ["write"] and listed["expires_at"]
    assert post(base_url, "/tags.list", {}, token).status_code == 200
    assert post(base_url, "/tokens.list", {}, token).status_code == 403  # admin only, even to list
    tokens = {t["name"]: t for t in post(base_url, "/tokens.list", {}).json()["data"]}
    assert tokens[name] == listed and token not in json.dumps(tokens)
    assert post(base_url, "/tokens.create", {"name": name, "scopes": ["read"]}).status_code == 409
    assert post(base_url, "/tokens.create", {"name": _name("x"), "scopes": ["root"]}).status_code == 400
    assert post(base_url, "/tokens.create", {"name": "bad name", "scopes": ["read"]}).status_code == 400

    users = {u["id"]: u for u in post(base_url, "/users.list", {"page_size": 1000}).json()["data"]}
    assert users[name]["first_seen_at"] and users[name]["last_seen_at"] >= users[name]["first_seen_at"]

    assert post(base_url, "/tokens.revoke", {"name": name}).status_code == 200
    eventually(lambda: post(base_url, "/tags.list", {}, token).status_code == 401, timeout=10)
    assert {t["name"]: t for t in post(base_url, "/tokens.list", {}).json()["data"]}[name]["revoked"]
    assert post(base_url, "/tokens.revoke", {"name": _name("nobody")}).status_code == 404


def test_exempt_paths_need_no_token(base_url: str) -> None:
    assert httpx.get(f"{base_url}/health", timeout=10).status_code == 200
    hook = webhooks.facebook(text="no token needed")
    hook.connect(base_url)
    assert hook.post(base_url).status_code == 200  # its signature authenticates it
    assert httpx.get(f"{base_url}/chatplugin/s.js", timeout=10).status_code == 200
    channel = post(base_url, "/channels.chatplugin.connect", {"name": "Exempt"}).json()["id"]
    visitor = httpx.post(f"{base_url}/chatplugin.authenticate", json={"channel_id": channel},
                         timeout=10)
    assert visitor.status_code == 200
    # A custom source's calls carry its own token, not an API token.
    source = post(base_url, "/sources.create", {"source_id": _name("exempt")}).json()
    assert post(base_url, "/sources.channels.list", {}, source["token"]).status_code == 200
    # An API token is not a source token, and the other way round.
    assert post(base_url, "/sources.channels.list", {}).status_code == 401
    assert post(base_url, "/tags.list", {}, source["token"]).status_code == 401


def test_the_sender_of_a_message_is_the_tokens_name(base_url: str) -> None:
    name = _name("agent")
    token = _token(base_url, name)
    channel = post(base_url, "/channels.chatplugin.connect", {"name": "Sender"}).json()["id"]
    visitor = post(base_url, "/chatplugin.authenticate", {"channel_id": channel}).json()
    post(base_url, "/chatplugin.send", {"message": {"text": "hi"}}, visitor["token"])
    conversation_id = visitor["conversation_id"]
    eventually(lambda: post(base_url, "/conversations.info",
                            {"conversation_id": conversation_id}).status_code == 200)
    # A caller cannot pass for another token by sending the header the edge sets.
    reply = httpx.post(f"{base_url}/messages.send", timeout=10, json={
        "conversation_id": conversation_id, "message": {"text": "hello"}},
        headers={"authorization": f"Bearer {token}", "x-parley-token-name": "mallory"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["sender"]["id"] == name


def test_an_event_source_passes_its_token_in_the_query(base_url: str) -> None:
    token = _token(base_url, _name("browser"), "--scopes", "read")
    params: dict[str, Any] = {"conversation_id": str(uuid.uuid4()), "access_token": token}
    with httpx.stream("GET", f"{base_url}/events.subscribe", params=params,
                      timeout=httpx.Timeout(10, read=10)) as reply:
        assert reply.status_code == 200
        assert next(reply.iter_lines()) == ": connected"
    # Only there: other calls take the header, POST /events.subscribe too.
    for path in ("/tags.list", "/events.subscribe"):
        reply = httpx.post(f"{base_url}{path}?access_token={token}", json={}, timeout=10)
        assert reply.status_code == 401, (path, reply.text)


def test_the_edge_fails_closed_when_auth_is_down(live_stack: Settings, base_url: str) -> None:
    processes.stop(live_stack.data_dir, "auth")
    try:
        reply = post(base_url, "/tags.list", {})
        assert reply.status_code == 503, reply.text
        # Everything waits for auth, the sources' webhooks too: they get a 503 and retry.
        assert httpx.get(f"{base_url}/health", timeout=10).status_code == 503
    finally:
        services.start(live_stack, "auth")
    assert post(base_url, "/tags.list", {}).status_code == 200
