"""CORS at the edge (PARLEY_EDGE_CORS_ORIGINS, the test stack allows one origin): a web app on an
allowed origin calls the JSON API with its token and follows the event stream with EventSource,
in a real Chromium; a page of any other origin gets nothing readable. Preflights are answered by
Envoy without a token."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import CORS_PAGE_PORT
from tests.integration.browser import chromium, serving
from tests.integration.helpers import post

#: 127.0.0.1 is the allowed origin's host; the same page on 127.0.0.2 is another origin.
ALLOWED, OTHER = f"http://127.0.0.1:{CORS_PAGE_PORT}", f"http://127.0.0.2:{CORS_PAGE_PORT}"

#: Calls the API as a web app does; resolves to [status, body], or "refused" when the browser
#: keeps the answer from the page.
FETCH = """async ({base, token, path, body}) => {
  try {
    const reply = await fetch(base + path, {method: "POST", body: JSON.stringify(body),
      headers: {"authorization": "Bearer " + token, "content-type": "application/json"}});
    return [reply.status, await reply.json(), reply.headers.get("retry-after")];
  } catch (error) { return "refused"; }
}"""
#: Opens the event stream: `window.firstTag` resolves to the first `tag.updated` event's tag
#: name, "refused", or "timeout" after 20 s.
EVENT_SOURCE = """({base, token}) => { window.firstTag = new Promise(resolve => {
  const stream = new EventSource(base + "/events.subscribe?types=tag.updated&access_token=" + token);
  const end = (outcome) => { stream.close(); resolve(outcome); };
  setTimeout(() => end("timeout"), 20000);
  stream.onopen = () => { window.streamOpen = true; };
  stream.addEventListener("tag.updated", (message) => end(JSON.parse(message.data).payload.name));
  stream.onerror = () => { if (!window.streamOpen) end("refused"); };
}); }"""
FIRST_TAG = "() => window.firstTag"


@pytest.fixture(scope="module")
def pages() -> Iterator[tuple[str, str]]:
    with serving("<!doctype html><title>app</title>", CORS_PAGE_PORT,
                 ("127.0.0.1", "127.0.0.2")) as (allowed, other):
        yield allowed, other


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _open(browser: Browser, url: str) -> Page:
    page = browser.new_page()
    page.goto(url)
    return page


def test_a_web_app_on_an_allowed_origin_calls_the_api_and_follows_events(
        base_url: str, pages: tuple[str, str], browser: Browser) -> None:
    token = os.environ["PARLEY_TOKEN"]
    page = _open(browser, pages[0])
    status, body, _ = page.evaluate(FETCH, {"base": base_url, "token": token,
                                            "path": "/tags.list", "body": {}})
    assert status == 200 and "data" in body
    # An error answer is readable too (the page can tell a bad token from a network failure).
    status, body, _ = page.evaluate(FETCH, {"base": base_url, "token": "not-a-token",
                                            "path": "/tags.list", "body": {}})
    assert status == 401 and body["message"]

    name = f"cors-{os.urandom(4).hex()}"
    page.evaluate(EVENT_SOURCE, {"base": base_url, "token": token})
    page.wait_for_function("() => window.streamOpen === true", timeout=15_000)
    assert post(base_url, "/tags.create", {"name": name, "color": "tag-blue"}).status_code == 200
    assert page.evaluate(FIRST_TAG) == name
    page.close()


def test_a_page_of_another_origin_reads_nothing(base_url: str, pages: tuple[str, str],
                                                browser: Browser) -> None:
    token = os.environ["PARLEY_TOKEN"]
    page = _open(browser, pages[1])
    assert page.evaluate(FETCH, {"base": base_url, "token": token, "path": "/tags.list",
                                 "body": {}}) == "refused"
    page.evaluate(EVENT_SOURCE, {"base": base_url, "token": token})
    assert page.evaluate(FIRST_TAG) == "refused"
    page.close()


def _preflight(base_url: str, path: str, origin: str) -> httpx.Response:
    return httpx.request("OPTIONS", f"{base_url}{path}", timeout=10, headers={
        "origin": origin, "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type"})


def test_preflights_are_answered_at_the_edge_without_a_token(base_url: str) -> None:
    for path in ("/messages.list", "/events.subscribe", "/conversations.list"):
        reply = _preflight(base_url, path, ALLOWED)
        assert reply.status_code == 200, (path, reply.text)
        assert reply.headers["access-control-allow-origin"] == ALLOWED
        assert {"authorization", "content-type"} <= {
            h.strip() for h in reply.headers["access-control-allow-headers"].split(",")}
        # Listed origins may send credentials; the answer names the origin, never `*`.
        assert reply.headers["access-control-allow-credentials"] == "true"
        assert reply.content == b""
    refused = _preflight(base_url, "/messages.list", OTHER)
    assert "access-control-allow-origin" not in refused.headers
    # Without the preflight's headers it is no preflight: an OPTIONS call, which nothing serves.
    assert httpx.request("OPTIONS", f"{base_url}/messages.list",
                         headers={"origin": ALLOWED}, timeout=10).status_code in (401, 404)
