"""Property-based fuzzing of the edge (hypothesis): generated bodies are posted to every JSON route
of the contracts (read from the descriptor set, with the fields of each request message among
the keys, so many reach the services) and to every source's webhook path, signed and unsigned.
Whatever comes in, the answer is never a 5xx and never a hang, and `/health` stays up; after the
signed garbage reached the raw topics, a valid webhook still makes it through to the API (no
record stopped a worker).

Runs derandomized (the same examples in every run), so CI stays reproducible.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from google.protobuf import descriptor_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth import scopes
from tests.integration.api_routes import FILES, api_routes
from tests.integration import webhooks
from tests.integration.helpers import eventually, post

FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
SOURCE_PATHS = ("/facebook", "/instagram", "/whatsapp", "/google", "/viber", "/twilio")


MESSAGES = {f".{f.package}.{m.name}": m for f in FILES for m in f.message_type}
#: Nested message types, by full name too.
MESSAGES.update({f".{f.package}.{m.name}.{n.name}": n for f in FILES for m in f.message_type
                 for n in m.nested_type})


#: (path, RPC, server streaming?, request type) of every POST binding but the sources' paths.
ROUTES = sorted((r.path, r.rpc.removeprefix(f"{scopes.PACKAGE}."), r.server_streaming,
                 r.request_type) for r in api_routes()
                if r.method == "POST" and not r.is_grpc and r.path not in SOURCE_PATHS)

STRINGS = st.one_of(st.text(max_size=20), st.sampled_from([
    "\ud800", "x\udfffy", "\x00", "*", "(", "[1 TO *]", "http://127.0.0.1:9901/ready",
    "9" * 400, "2026-13-45T99:99:99Z", "10000-01-01T00:00:00Z", "../../etc", "A" * 5000]))
NUMBERS = st.one_of(st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([253402300800000, 1e300, -1, 2**63, 0]))
LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, STRINGS)
FIELD = descriptor_pb2.FieldDescriptorProto
#: Any JSON of these keys, for Struct/Value fields and for fields given the wrong type.
KEYS = st.text(max_size=8) | st.sampled_from(["text", "type", "sent_at", "url", "id"])
ANY_JSON = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)


def _field_value(field: descriptor_pb2.FieldDescriptorProto, depth: int) -> st.SearchStrategy[Any]:
    """Values of the field's own type, mostly, and now and then of any other."""
    own: st.SearchStrategy[Any]
    if field.type == FIELD.TYPE_MESSAGE and field.type_name in MESSAGES and depth < 3:
        own = _message(field.type_name, depth + 1)
    elif field.type == FIELD.TYPE_MESSAGE:
        own = ANY_JSON  # google.protobuf.Struct, Value, ...
    elif field.type == FIELD.TYPE_STRING:
        own = STRINGS
    elif field.type == FIELD.TYPE_BOOL:
        own = st.booleans()
    else:
        own = NUMBERS
    if field.label == FIELD.LABEL_REPEATED:
        own = st.lists(own, max_size=3)
    return st.one_of(own, own, own, LEAVES)


def _message(type_name: str, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects of the request message `type_name`: any of its fields, at every level."""
    fields = MESSAGES[type_name].field
    return st.fixed_dictionaries({}, optional={f.name: _deferred(f, depth) for f in fields})


def _deferred(field: descriptor_pb2.FieldDescriptorProto, depth: int) -> st.SearchStrategy[Any]:
    """`_field_value` of `field`, built only when drawn (messages nest). Hypothesis' `deferred`
    takes a function, not a partial."""

    def definition() -> st.SearchStrategy[Any]:
        return _field_value(field, depth)

    return st.deferred(definition)


def _bodies(type_name: str) -> st.SearchStrategy[bytes]:
    """Bodies for a request of `type_name`: objects of its fields, any JSON, or not JSON."""
    as_json = st.one_of(_message(type_name), _message(type_name), ANY_JSON).map(
        lambda value: json.dumps(value).encode())
    return st.one_of(as_json, as_json, st.binary(max_size=64), st.sampled_from([
        b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000, b"1e99999",
        b'{"page_size": 1e99}', b"", b"\xff\xfe", b'"\\ud800"']))


def _source_bodies() -> st.SearchStrategy[bytes]:
    """Bodies for the sources' webhook paths: JSON of their usual keys, forms, or garbage."""
    keys = st.sampled_from(["object", "entry", "messaging", "changes", "event", "message",
                            "timestamp", "text", "sender", "agent", "conversationId",
                            "message_token", "createTime"]) | st.text(max_size=6)
    objects = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(keys, inner, max_size=4), max_leaves=16)
    forms = st.dictionaries(st.sampled_from(["Body", "From", "To", "MessageSid", "AccountSid"]),
                            STRINGS, max_size=5).map(lambda d: urlencode(d).encode())
    return st.one_of(objects.map(lambda v: json.dumps(v).encode()), forms,
                     st.binary(max_size=64), st.sampled_from([b"[" * 5000, b'"\\ud800"']))


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=20) as http:
        yield http


@pytest.fixture(scope="module")
def source_token(base_url: str) -> str:
    """A custom source's token: its own calls (`/sources.*` exempt from API tokens) take it."""
    reply = post(base_url, "/sources.create", {"source_id": f"fuzz-{uuid.uuid4().hex[:8]}"})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["token"])


def _token_for(rpc: str, source_token: str) -> str | None:
    route_scope = scopes.method_scope(*rpc.split("."))
    if route_scope is not None:
        return os.environ["PARLEY_TOKEN"]
    return source_token if rpc.startswith("SourcesService.") else None


def _post(client: httpx.Client, path: str, body: bytes, headers: dict[str, str],
          streaming: bool) -> int:
    """The status of POST `path`; a stream is closed once its status is known."""
    if streaming:
        with client.stream("POST", path, content=body, headers=headers) as reply:
            return reply.status_code
    return client.post(path, content=body, headers=headers).status_code


@pytest.mark.parametrize(("path", "rpc", "streaming", "request_type"), ROUTES,
                         ids=[path for path, *_ in ROUTES])
def test_json_routes_answer_any_body_without_a_5xx(
        client: httpx.Client, source_token: str, path: str, rpc: str, streaming: bool,
        request_type: str) -> None:
    token = _token_for(rpc, source_token)
    headers = {"content-type": "application/json",
               **({"authorization": f"Bearer {token}"} if token else {})}

    @FUZZ
    @given(body=_bodies(request_type))
    def fuzz(body: bytes) -> None:
        status = _post(client, path, body, headers, streaming)
        assert status < 500, (path, body[:300], status)

    fuzz()
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("path", SOURCE_PATHS)
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_source_paths_answer_any_body_without_a_5xx(client: httpx.Client, path: str,
                                                    signed: bool) -> None:
    @FUZZ
    @given(body=_source_bodies())
    def fuzz(body: bytes) -> None:
        headers = webhooks.signed_headers(path, body) if signed else {
            "content-type": "application/json"}
        status = client.post(path, content=body, headers=headers).status_code
        assert status < 500, (path, body[:300], status)
        # Unsigned: refused, and nothing of it is written.
        assert signed or status in (400, 401, 403), (path, status)

    fuzz()
    assert client.get("/health").status_code == 200


def _messages(base_url: str, conversation_id: str) -> list[dict[str, Any]] | None:
    """The conversation's messages, None until it has some."""
    data = post(base_url, "/messages.list", {"conversation_id": conversation_id}).json().get("data")
    return list(data) if data else None


def test_after_the_fuzz_valid_webhooks_still_come_through(base_url: str) -> None:
    for hook in (webhooks.facebook(text="after the fuzz"), webhooks.viber(text="after the fuzz")):
        hook.connect(base_url)
        assert hook.post(base_url).status_code == 200
        eventually(partial(_messages, base_url, hook.conversation_id), timeout=30)
    assert httpx.get(f"{base_url}/health", timeout=10).status_code == 200
