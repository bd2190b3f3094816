"""The web app's Inbox (inbox/, served by Envoy at /ui) in Debian's Chromium on the real stack:
sign in with a token; filter and search; a signed webhook arriving moves its conversation to the
top live; open it, answer with a template and see pending turn delivered (the Graph API faked);
a failed send and its resend; tag, close, reopen, edit the contact; a phone-sized screen. The
main screens are saved as screenshots (SCREENSHOTS)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from runtime.settings import Settings
from tests.conftest import FAKE_APIS_PORT
from tests.integration import webhooks
from tests.integration.browser import chromium
from tests.integration.fake_source_apis import GRAPH_ERROR, Answer, FakeSourceApis, serving
from tests.integration.helpers import api_headers, eventually, post

#: Where the screenshots of the main screens go (README shows one of them).
SCREENSHOTS = "screenshots"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSourceApis]:
    with serving(FAKE_APIS_PORT) as fakes:
        yield fakes


@pytest.fixture(scope="module")
def shots(live_stack: Settings) -> Path:
    folder = live_stack.data_dir / SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _now_ms() -> int:
    return int(time.time() * 1000)


def _conversation(base_url: str, hook: webhooks.Webhook, name: str = "") -> str:
    """Post `hook` (its channel connected) and wait for its conversation; named `name`."""
    hook.connect(base_url)
    assert hook.post(base_url).status_code == 200
    eventually(lambda: post(base_url, "/conversations.info",
                            {"conversation_id": hook.conversation_id}).status_code == 200 or None)
    if name:
        post(base_url, "/conversations.update-contact",
             {"conversation_id": hook.conversation_id, "display_name": name})
    return hook.conversation_id


def _signed_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/ui")
    page.get_by_label("API token").fill("pat_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    page.get_by_label("API token").fill(api_headers()["authorization"].split()[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("region", name="Conversations")).to_be_visible()
    # The token is kept for the session, never in the URL.
    assert "pat_" not in page.url


def _first_in_list(page: Page) -> str | None:
    return page.locator("[data-conversation]").first.get_attribute("data-conversation")


def test_an_agent_works_a_conversation(base_url: str, fake: FakeSourceApis, shots: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    customer = webhooks.facebook("Where is my order #1234?", sent_at_ms=_now_ms() - 120_000)
    cid = _conversation(base_url, customer, f"Ada {tag}")
    other = _conversation(base_url, webhooks.instagram("Thanks!", sent_at_ms=_now_ms() - 60_000),
                          f"Grace {tag}")
    template = post(base_url, "/templates.create", {
        "name": f"Shipping {tag}", "source": "facebook",
        "content": {"text": "Your order ships today."}}).json()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        _signed_in(page, base_url)

        # Search by name, then filter: Instagram only.
        page.get_by_label("Search").fill(f"ada {tag}")
        expect(page.locator("[data-conversation]")).to_have_count(1)
        assert _first_in_list(page) == cid
        page.get_by_label("Search").fill(tag)
        expect(page.locator("[data-conversation]")).to_have_count(2)
        page.get_by_label("Source").select_option("instagram")
        expect(page.locator("[data-conversation]")).to_have_count(1)
        assert _first_in_list(page) == other
        page.get_by_label("Source").select_option("")
        page.get_by_role("checkbox", name="Unread").check()
        expect(page.locator("[data-conversation]")).to_have_count(2)
        page.get_by_role("checkbox", name="Unread").uncheck()
        # Newest activity first: Grace wrote last.
        expect(page.locator("[data-conversation]").first).to_have_attribute("data-conversation", other)

        # The customer writes again: their conversation jumps to the top, live.
        again = webhooks.facebook_event(
            customer.source_channel_id, customer.contact,
            {"sender": {"id": customer.contact}, "recipient": {"id": customer.source_channel_id},
             "timestamp": _now_ms(), "message": {"mid": f"m_{uuid.uuid4().hex}", "text": "Hello??"}},
            "Hello??")
        assert again.post(base_url).status_code == 200
        expect(page.locator("[data-conversation]").first).to_have_attribute("data-conversation", cid, timeout=20_000)
        expect(page.locator(f"[data-conversation='{cid}'] .badge")).to_have_text("2")
        page.screenshot(path=str(shots / "inbox-list.png"))

        # Open it from the keyboard ("j": the next conversation, the first one here): it is read,
        # and answered with the template; pending, then delivered.
        page.keyboard.press("Escape")  # out of the search box
        page.keyboard.press("j")
        expect(page).to_have_url(f"{base_url}/ui#/inbox/{cid}")
        view = page.get_by_role("region", name="Conversation")
        expect(view.locator("[data-message]")).to_have_count(2)
        expect(page.locator(f"[data-conversation='{cid}'] .badge")).to_have_count(0)
        fake.script(customer.contact, Answer(200, {"recipient_id": customer.contact,
                                                   "message_id": f"m_{uuid.uuid4().hex}"}, delay_s=2))
        page.get_by_role("button", name="Templates").click()
        page.get_by_role("button", name=template["name"]).click()
        sent = view.locator(".message.out").last
        expect(sent).to_contain_text("Your order ships today.")
        expect(sent).to_have_attribute("data-state", "pending")
        expect(sent).to_have_attribute("data-state", "delivered", timeout=20_000)
        assert fake.to(customer.contact)[-1].json()["message"] == {"text": "Your order ships today."}

        # A send the source refuses fails with its error; resent, it is delivered.
        fake.script(customer.contact, Answer(400, GRAPH_ERROR))
        page.get_by_label("Answer").fill("One moment please")
        page.get_by_label("Answer").press("Enter")
        failed = view.locator(".message.out", has_text="One moment please")
        expect(failed).to_have_attribute("data-state", "failed", timeout=20_000)
        expect(failed.get_by_role("alert")).to_contain_text("No matching user found")
        failed.get_by_role("button", name="Resend").click()
        expect(failed).to_have_attribute("data-state", "delivered", timeout=20_000)

        # Tag it (a new tag, with its colour), close it, reopen it, edit the contact.
        panel = page.get_by_role("complementary", name="Contact")
        panel.get_by_label("New tag").fill(f"vip-{tag}")
        panel.get_by_label("Colour").select_option("tag-purple")
        panel.get_by_role("button", name="Add").click()
        expect(panel.get_by_label(f"vip-{tag}")).to_be_checked()
        panel.get_by_role("button", name="Close").click()
        expect(panel.locator(".state")).to_have_text("Closed")
        panel.get_by_role("button", name="Reopen").click()
        expect(panel.locator(".state")).to_have_text("Open")
        panel.get_by_role("button", name="Edit contact").click()
        panel.get_by_label("Name").fill(f"Ada Lovelace {tag}")
        panel.get_by_label("Title").fill("Countess")
        panel.get_by_role("button", name="Save").click()
        expect(panel).to_contain_text("Countess")
        expect(view.get_by_role("heading")).to_have_text(f"Ada Lovelace {tag}")
        page.screenshot(path=str(shots / "inbox.png"))

        info = post(base_url, "/conversations.info", {"conversation_id": cid}).json()
        assert list(info["metadata"]["tags"]) and info["metadata"]["state"] == "OPEN"
        contact = post(base_url, "/contacts.info", {"conversation_id": cid}).json()
        assert (contact["display_name"], contact["title"]) == (f"Ada Lovelace {tag}", "Countess")

        # A filter of the tag finds it.
        page.get_by_label("Tag", exact=True).select_option(label=f"vip-{tag}")
        expect(page.locator("[data-conversation]")).to_have_count(1)

        # On a phone-sized screen: one pane at a time.
        page.set_viewport_size({"width": 390, "height": 844})
        expect(view).to_be_visible()
        expect(page.get_by_role("region", name="Conversations")).to_be_hidden()
        page.screenshot(path=str(shots / "inbox-phone.png"))
        view.get_by_role("button", name="Back to the list").click()
        expect(page.get_by_role("region", name="Conversations")).to_be_visible()
        page.close()


def test_the_app_is_served_without_a_token_and_runs_only_its_own_script(base_url: str) -> None:
    page = httpx.get(f"{base_url}/ui", timeout=10)
    assert page.status_code == 200 and '<div id="root">' in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    script = httpx.get(f"{base_url}/ui/assets/app.js", timeout=10)
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
