"""The chat plugin widget in a real headless Chromium (Debian's, driven by Playwright): a page on
another origin embeds it, the visitor types a message, an agent answers through the API, the
answer appears live, and a reload continues the conversation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import FAKE_APIS_PORT
from tests.integration.browser import chromium, serving
from tests.integration.helpers import eventually, post

#: The shop's page, on another origin than the API (another port).
PAGE_PORT = FAKE_APIS_PORT - 3


@pytest.fixture(scope="module")
def shop(base_url: str) -> Iterator[str]:
    """A page embedding the widget of a new chat plugin channel; its URL."""
    channel = post(base_url, "/channels.chatplugin.connect", {"name": "Shop"}).json()["id"]
    html = (f'<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>'
            f'<script src="{base_url}/chatplugin/s.js" data-channel-id="{channel}"></script>'
            "</body></html>")
    with serving(html, PAGE_PORT) as (url,):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _ready(page: Page) -> str:
    """Wait until the widget is authenticated and its stream open; the conversation id."""
    page.wait_for_function("() => window.parleyChat && window.parleyChat.state.ready",
                           timeout=20_000)
    return str(page.evaluate("() => window.parleyChat.state.conversationId"))


def _texts(base_url: str, conversation_id: str) -> list[tuple[str, bool, str]]:
    reply = post(base_url, "/messages.list", {"conversation_id": conversation_id})
    if reply.status_code != 200:
        return []
    return [(m["content"]["text"], m["from_contact"], m["delivery_state"])
            for m in reply.json()["data"]]


def test_a_visitor_chats_with_an_agent_from_a_web_page(base_url: str, shop: str,
                                                        browser: Browser) -> None:
    page = browser.new_page()
    page.goto(shop)
    conversation_id = _ready(page)
    page.click("#parley-chat-bubble")
    page.fill("#parley-chat-input", "Do you ship to Norway?")
    page.press("#parley-chat-input", "Enter")
    expect(page.locator('.parley-chat-message[data-from="contact"]')).to_have_text(
        ["Do you ship to Norway?"], timeout=15_000)
    eventually(lambda: _texts(base_url, conversation_id) == [
        ("Do you ship to Norway?", True, "delivered")])

    # The agent answers through the API; the visitor sees it live, and that delivers it.
    reply = post(base_url, "/messages.send", {"conversation_id": conversation_id,
                                              "message": {"text": "Yes, in 3 days."}})
    assert reply.status_code == 200, reply.text
    expect(page.locator('.parley-chat-message[data-from="agent"]')).to_have_text(
        ["Yes, in 3 days."], timeout=15_000)
    eventually(lambda: _texts(base_url, conversation_id)[-1] == ("Yes, in 3 days.", False,
                                                                 "delivered"))

    # After a reload the widget resumes the same conversation, with both messages.
    page.reload()
    assert _ready(page) == conversation_id
    expect(page.locator(".parley-chat-message")).to_have_text(
        ["Do you ship to Norway?", "Yes, in 3 days."], timeout=15_000)
    page.close()
