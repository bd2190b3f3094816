"""The web app's Inbox (inbox/, served by Envoy at /ui) in Debian's Chromium on the real stack:
sign in with a token; filter and search; a signed webhook arriving moves its conversation to the
top live; open it, answer with a template and see pending turn delivered (the Graph API faked);
a failed send and its resend; a file sent through the media store; tag, close, reopen, edit the
contact; a phone-sized screen. The
main screens are saved as screenshots (SCREENSHOTS)."""

from __future__ import annotations

import asyncio
import re
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
from tests.integration.helpers import api_headers, eventually, message_record, post, produce_messages

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

        # A file: uploaded to the media store, sent by its URL, shown as what it is.
        picture = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes
        view.locator("input[type=file]").set_input_files(
            {"name": "parcel.png", "mimeType": "image/png", "buffer": picture})
        attached = view.locator(".message.out").last
        # (A new store's first write waits for its first volume: seconds.)
        expect(attached.locator("img")).to_have_attribute("src", re.compile(r"/media/[0-9a-f]{64}\.png$"),
                                                          timeout=30_000)
        expect(attached).to_have_attribute("data-state", "delivered", timeout=20_000)
        url = fake.to(customer.contact)[-1].json()["message"]["attachment"]["payload"]["url"]
        assert httpx.get(url, timeout=10).content == picture

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


def test_long_histories_and_lists_page_in_as_they_scroll(live_stack: Settings, base_url: str,
                                                         fake: FakeSourceApis) -> None:
    """60 messages over two days: the newest page first, older ones as the agent scrolls up,
    with a separator per day; the list pages in at its end too; a suggested reply and an emoji
    are a click away; a tag comes off again."""
    channel = webhooks.facebook()
    channel.connect(base_url)  # a connected channel to answer on
    cid = str(uuid.uuid4())
    start = _now_ms() - 2 * 86_400_000
    records = [message_record(cid, start + i * 3_600_000, f"history {i:02d}") for i in range(60)]
    for record in records:
        record.channel_id = channel.channel_id
    asyncio.run(produce_messages(live_stack, records))
    eventually(lambda: post(base_url, "/conversations.info", {"conversation_id": cid}).status_code == 200 or None)
    newest = post(base_url, "/messages.list", {"conversation_id": cid, "page_size": 1}).json()["data"][0]
    post(base_url, "/messages.suggest-replies", {"message_id": newest["id"], "suggestions": {
        "thanks": {"content": {"text": "Thank you, we are on it!"}}}})
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        _signed_in(page, base_url)
        listed = page.locator("[data-conversation]")
        expect(listed).to_have_count(25)
        listed.last.scroll_into_view_if_needed()
        expect(listed).not_to_have_count(25, timeout=15_000)  # the next page came in

        page.goto(f"{base_url}/ui#/inbox/{cid}")
        view = page.get_by_role("region", name="Conversation")
        messages = view.locator("[data-message]")
        expect(messages).to_have_count(30)
        expect(messages.last).to_contain_text("history 59")
        view.locator(".older").scroll_into_view_if_needed()
        expect(messages).to_have_count(60, timeout=15_000)
        expect(messages.first).to_contain_text("history 00")
        assert view.locator(".day").count() >= 2

        # The suggested reply of the last message, and an emoji.
        view.get_by_role("button", name="Thank you, we are on it!").click()
        expect(view.locator(".message.out")).to_contain_text("Thank you, we are on it!")
        view.get_by_role("button", name="Emoji").click()
        page.get_by_role("listbox", name="Emoji").get_by_role("button").first.click()
        expect(view.get_by_label("Answer")).to_have_value("😀")

        # A tag on, then off.
        tag = post(base_url, "/tags.create", {"name": f"later-{uuid.uuid4().hex[:6]}", "color": "tag-green"}).json()
        panel = page.get_by_role("complementary", name="Contact")
        # Listed as it was made (tag.updated); checked once the conversation is tagged.
        panel.get_by_label(tag["name"]).click()
        expect(panel.get_by_label(tag["name"])).to_be_checked()
        panel.get_by_label(tag["name"]).click()
        expect(panel.get_by_label(tag["name"])).not_to_be_checked()
        info = post(base_url, "/conversations.info", {"conversation_id": cid}).json()
        assert tag["id"] not in info["metadata"].get("tags", {})
        page.close()
