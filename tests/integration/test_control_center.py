"""The web app's Control Center (inbox/, served by Envoy at /ui) in Debian's Chromium on the real
stack: the status of every component; connect a channel with its form, the chat plugin's embed
snippet, disconnect; subscribe a webhook, see a delivery in its log, edit and disable it; create a
token (shown once, and it works), see when it was used, revoke it; a custom source and its token."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from runtime.settings import Settings
from tests.conftest import FAKE_APIS_PORT
from tests.integration import webhooks
from tests.integration.browser import chromium
from tests.integration.fake_source_apis import FakeSourceApis, serving
from tests.integration.helpers import api_headers, eventually
from tests.integration.test_inbox import SCREENSHOTS


@pytest.fixture(scope="module")
def receiver() -> Iterator[FakeSourceApis]:
    """Webhook receivers (`/hooks/<name>`), with the fakes of the sources' APIs."""
    with serving(FAKE_APIS_PORT) as fakes:
        yield fakes


@pytest.fixture
def page(live_stack: Settings, base_url: str) -> Iterator[Page]:
    """The Control Center, signed in with the admin token (the clipboard allowed)."""
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      permissions=["clipboard-read", "clipboard-write"])
        opened = context.new_page()
        opened.goto(f"{base_url}/ui#/control")
        opened.get_by_label("API token").fill(api_headers()["authorization"].split()[1])
        opened.get_by_role("button", name="Sign in").click()
        yield opened
        context.close()


def _shot(live_stack: Settings, page: Page, name: str) -> None:
    folder = live_stack.data_dir / SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def test_status_of_every_component_and_since_when(live_stack: Settings, page: Page) -> None:
    status = page.get_by_role("region", name="Status")
    expect(status.get_by_role("heading")).to_contain_text("ok")
    for component in ("kafka", "redis", "store", "gateway", "auth"):
        row = status.locator(f"[data-component='{component}']")
        expect(row.locator(".status")).to_have_text("up")
        expect(row.locator("td").nth(2)).not_to_be_empty()
    _shot(live_stack, page, "control-status.png")


def test_connect_a_channel_copy_the_snippet_disconnect(live_stack: Settings, base_url: str, page: Page) -> None:
    name = f"Site chat {uuid.uuid4().hex[:6]}"
    page.get_by_role("link", name="Channels").click()
    form = page.get_by_role("form", name="Connect a channel")
    form.get_by_label("Source").select_option("chatplugin")
    form.get_by_label("Name").fill(name)
    form.get_by_role("button", name="Connect").click()
    row = page.locator("[data-channel]", has_text=name)
    expect(row).to_be_visible()
    channel_id = row.get_attribute("data-channel")
    row.get_by_role("button", name="Copy snippet").click()
    expect(row.get_by_role("button", name="Copied")).to_be_visible()
    snippet = page.evaluate("navigator.clipboard.readText()")
    assert snippet == (f'<script src="{base_url}/chatplugin/s.js" '
                       f'data-channel-id="{channel_id}"></script>')

    viber = f"Viber bot {uuid.uuid4().hex[:6]}"
    form.get_by_label("Source").select_option("viber")
    form.get_by_label("Name").fill(viber)
    form.get_by_role("button", name="Connect").click()
    expect(page.locator("[data-channel]", has_text=viber)).to_be_visible()
    _shot(live_stack, page, "control-channels.png")
    page.locator("[data-channel]", has_text=viber).get_by_role("button", name="Disconnect").click()
    expect(page.locator("[data-channel]", has_text=viber)).to_have_count(0)
    listed = httpx.post(f"{base_url}/channels.list", json={}, headers=api_headers(), timeout=10).json()
    assert name in [c["metadata"]["name"] for c in listed["data"]]
    assert viber not in [c["metadata"]["name"] for c in listed["data"]]


def test_subscribe_a_webhook_and_see_its_deliveries(live_stack: Settings, base_url: str, page: Page,
                                                   receiver: FakeSourceApis) -> None:
    hook_name = f"crm-{uuid.uuid4().hex[:6]}"
    page.get_by_role("link", name="Webhooks").click()
    form = page.get_by_role("form", name="Subscribe a webhook")
    form.get_by_label("URL").fill(f"http://127.0.0.1:{FAKE_APIS_PORT}/hooks/{hook_name}")
    form.get_by_label("Name").fill(hook_name)
    form.get_by_label("message.created").check()
    form.get_by_role("button", name="Subscribe").click()
    item = page.locator("[data-webhook]", has_text=hook_name)
    expect(item.locator(".row .status")).to_have_text("Subscribed")

    # A message arrives: the webhook gets it, and its log shows the delivery and the attempt.
    hook = webhooks.facebook("A delivery for the log", sent_at_ms=int(time.time() * 1000))
    hook.connect(base_url)
    assert hook.post(base_url).status_code == 200
    eventually(lambda: receiver.to(hook_name) or None, timeout=30)
    item.get_by_role("button", name="Delivery log").click()
    delivery = item.locator("[data-delivery]").first
    expect(delivery.locator(".status")).to_have_text("delivered", timeout=15_000)
    expect(delivery).to_contain_text("message.created")
    expect(delivery).to_contain_text("204")
    _shot(live_stack, page, "control-webhooks.png")

    # Edit it, then disable it.
    item.get_by_role("button", name="Edit").click()
    edit = page.get_by_role("form", name="Edit the webhook")
    edit.get_by_label("Name").fill(f"{hook_name} (CRM)")
    edit.get_by_role("button", name="Save").click()
    expect(page.locator("[data-webhook]", has_text=f"{hook_name} (CRM)")).to_be_visible()
    item.get_by_role("button", name="Disable").click()
    expect(item.locator(".row .status")).to_have_text("Unsubscribed")


def test_create_a_token_use_it_and_revoke_it(live_stack: Settings, base_url: str, page: Page) -> None:
    name = f"agent-{uuid.uuid4().hex[:6]}"
    page.get_by_role("link", name="Tokens").click()
    form = page.get_by_role("form", name="Create a token")
    form.get_by_label("Name").fill(name)
    form.get_by_role("button", name="Create token").click()
    shown = page.get_by_role("status").locator("code")
    expect(shown).to_contain_text("pat_")
    token = shown.inner_text()
    assert httpx.post(f"{base_url}/tags.list", json={}, timeout=10,
                      headers={"authorization": f"Bearer {token}"}).status_code == 200
    row = page.locator(f"[data-token='{name}']")
    expect(row).to_contain_text("read, write")
    assert token not in page.locator("table").first.inner_text()  # never listed
    page.reload()  # shown once: gone after a reload, and the use is listed
    expect(page.get_by_role("status")).to_have_count(0)
    expect(row.locator("td").nth(4)).not_to_have_text("never")
    _shot(live_stack, page, "control-tokens.png")
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_have_class("revoked")
    eventually(lambda: httpx.post(f"{base_url}/tags.list", json={}, timeout=10, headers={
        "authorization": f"Bearer {token}"}).status_code == 401, timeout=10)


def test_a_custom_source_and_its_token(live_stack: Settings, base_url: str, page: Page) -> None:
    source_id = f"crm_{uuid.uuid4().hex[:6]}"
    page.get_by_role("link", name="Tokens").click()
    form = page.get_by_role("form", name="Create a source")
    form.get_by_label("Source id").fill(source_id)
    form.get_by_label("Name").fill("Our CRM")
    form.get_by_role("button", name="Create source").click()
    shown = page.get_by_role("status")
    expect(shown).to_contain_text(f"token of source {source_id}")
    token = shown.locator("code").inner_text()
    # The source's token is the source's own credential: it lists the source's channels.
    listed = httpx.post(f"{base_url}/sources.channels.list", json={}, timeout=10,
                        headers={"authorization": f"Bearer {token}"})
    assert listed.status_code == 200, listed.text
    row = page.locator(f"[data-source='{source_id}']")
    expect(row).to_contain_text("Our CRM")
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    eventually(lambda: httpx.post(f"{base_url}/sources.channels.list", json={}, timeout=10, headers={
        "authorization": f"Bearer {token}"}).status_code == 401, timeout=10)
