"""Every request is bounded at the edge or where it enters: bodies (413), slow uploads (408),
rates per token and per address (429 with Retry-After, the sources' webhooks with their own
limit), filters (length, terms, depth), cursors and metadata (400), and errors never carry
Python internals.

The rate and time limits are tried on a second Envoy of their own, rendered with low limits by
the same code as the stack's (`stack.envoy`) and in front of the same services.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from runtime.settings import EdgeLimits, Settings
from stack import envoy, processes
from tests.integration import webhooks
from tests.integration.helpers import post
from tests.integration.test_auth import _token

LOW = EdgeLimits(max_body_bytes=65_536, request_timeout_s=1.0, rate_per_token=5,
                 rate_per_address=20, rate_webhooks=50)
NAME = "envoy-limits"


@pytest.fixture(scope="module")
def limited(live_stack: Settings) -> Iterator[str]:
    """The URL of an Envoy with the `LOW` limits, in front of the test stack's services."""
    settings = dataclasses.replace(live_stack, http_port=live_stack.http_port + 7,
                                   envoy_admin_port=live_stack.envoy_admin_port + 7, edge=LOW)
    envoy.start(settings, NAME)
    try:
        yield f"http://127.0.0.1:{settings.http_port}"
    finally:
        processes.stop(live_stack.data_dir, NAME)


def test_the_stacks_config_passes_envoys_own_check(live_stack: Settings) -> None:
    config = live_stack.data_dir / envoy.NAME / "envoy.yaml"
    assert "OK" in envoy.validate(config)
    broken = config.with_name("broken.yaml")
    broken.write_text(config.read_text().replace("max_request_bytes", "max_request_bites"))
    with pytest.raises(RuntimeError, match="envoy refused"):
        envoy.validate(broken)


@pytest.mark.parametrize("path", ["/messages.list", "/chatplugin.authenticate", "/facebook"])
def test_a_body_over_the_limit_is_refused_before_any_service(base_url: str, path: str) -> None:
    body = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    reply = httpx.post(f"{base_url}{path}", content=body, timeout=30, headers={
        "authorization": f"Bearer {os.environ['PARLEY_TOKEN']}",
        "content-type": "application/json"})
    assert reply.status_code == 413 and reply.json()["code"] == 8, reply.text
    assert httpx.get(f"{base_url}/health", timeout=10).status_code == 200


def test_a_slow_upload_is_cut(limited: str) -> None:
    host, port = limited.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /chatplugin.authenticate HTTP/1.1\r\nhost: x\r\n"
                     b"content-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        started = time.monotonic()
        answer = sock.recv(4096)
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert waited < 9  # cut by the 1 s request timeout, not by the socket's own 10 s


def _until_refused(send: Callable[[], httpx.Response], most: int) -> list[httpx.Response]:
    """Replies to `send()` repeated until one is a 429 (or `most` of them): how fast the requests
    go does not decide the outcome, only whether a bucket runs dry."""
    replies: list[httpx.Response] = []
    while len(replies) < most and (not replies or replies[-1].status_code != 429):
        replies.append(send())
    return replies


def test_rates_are_limited_per_token_and_per_address(limited: str, base_url: str) -> None:
    first = _token(base_url, f"rate-{uuid.uuid4().hex[:8]}")
    second = _token(base_url, f"rate-{uuid.uuid4().hex[:8]}")
    with httpx.Client(base_url=limited, timeout=10) as client:
        def call(token: str = "") -> httpx.Response:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            return client.post("/tags.list", json={}, headers=headers)

        # The token's bucket (5/s, 10 at once) runs dry long before the address's (20/s, 40).
        replies = _until_refused(lambda: call(first), 200)
        statuses = [r.status_code for r in replies]
        assert statuses[-1] == 429 and set(statuses[:-1]) == {200}, statuses
        assert len(statuses) > LOW.rate_per_token, statuses  # a burst passed first
        assert replies[-1].headers["retry-after"] == "1" and replies[-1].json()["code"] == 8
        # Another token has a bucket of its own.
        other = call(second)
        assert other.status_code == 200, other.text
        # Without a token the address's bucket runs dry too: 401s until then, then 429.
        anonymous = [r.status_code for r in _until_refused(call, 1000)]
        assert anonymous[-1] == 429 and set(anonymous[:-1]) <= {401}, anonymous
        # The sources' webhooks have their own, higher limit: refused signatures, not rates.
        hook = webhooks.facebook(text="rate")
        hooks = [client.post("/facebook", content=hook.body, headers={
            "content-type": "application/json", "x-hub-signature-256": "sha256=00"}).status_code
            for _ in range(60)]
        assert set(hooks) == {403}, hooks


def test_filters_are_bounded(base_url: str) -> None:
    for filters, message in (("(" * 1000 + "a" + ")" * 1000, "nested more than"),
                             ("NOT " * 5000 + "a", "characters; at most"),
                             (" OR ".join(f"id:c{i}" for i in range(30_000)), "characters"),
                             (" OR ".join(f"id:c{i}" for i in range(300)), "more than 256 terms")):
        reply = post(base_url, "/conversations.list", {"filters": filters})
        assert reply.status_code == 400 and message in reply.json()["message"], reply.text[:300]


def test_a_huge_cursor_or_metadata_is_a_400(base_url: str) -> None:
    reply = post(base_url, "/conversations.list", {"cursor": "A" * 300_000})
    assert reply.status_code == 400 and len(reply.text) < 500, reply.text[:300]
    channel = post(base_url, "/channels.chatplugin.connect", {"name": "Limits"}).json()["id"]
    reply = post(base_url, "/metadata.upsert", {"subject": "channel", "id": channel,
                                                "data": {"notes": "x" * 200_000}})
    assert reply.status_code == 400 and "at most 65536" in reply.json()["message"], reply.text


@pytest.mark.parametrize("path", ["/facebook", "/instagram", "/whatsapp", "/google", "/viber",
                                  "/twilio"])
def test_an_unsigned_body_is_refused_before_it_is_parsed(base_url: str, path: str) -> None:
    deep = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    reply = httpx.post(f"{base_url}{path}", content=deep, timeout=10,
                       headers={"content-type": "application/json"})
    assert reply.status_code in (401, 403), (reply.status_code, reply.text[:300])
    assert "Error" not in reply.text and "Traceback" not in reply.text


def test_a_custom_sources_batch_too_deep_to_parse_is_a_400(base_url: str) -> None:
    """A custom source's batch is JSON the edge transcodes (its token is checked after)."""
    deep = b'{"messages":[{"content":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_001 + b"]}"
    reply = httpx.post(f"{base_url}/sources.webhook", content=deep, timeout=10,
                       headers={"content-type": "application/json"})
    assert reply.status_code == 400 and "too deep" in reply.json()["message"], reply.text[:300]
