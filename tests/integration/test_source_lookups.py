"""conversations.refetch (a contact's profile from the Graph API again) and
channels.facebook.explore (the Pages a user token manages), against a local fake of the Graph
API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import FAKE_APIS_PORT
from tests.integration import webhooks
from tests.integration.fake_source_apis import GRAPH_ERROR, Answer, FakeSourceApis, serving
from tests.integration.helpers import eventually, post


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSourceApis]:
    with serving(FAKE_APIS_PORT) as fakes:
        yield fakes


def _conversation(base_url: str, hook: webhooks.Webhook) -> None:
    hook.connect(base_url)
    assert hook.post(base_url).status_code == 200
    eventually(lambda: post(base_url, "/conversations.info",
                            {"conversation_id": hook.conversation_id}).status_code == 200 or None)


def _contact(base_url: str, hook: webhooks.Webhook) -> dict[str, str]:
    info = post(base_url, "/conversations.info", {"conversation_id": hook.conversation_id}).json()
    return dict(info["metadata"]["contact"])


def test_refetch_stores_the_profile_the_graph_api_gives(base_url: str, fake: FakeSourceApis) -> None:
    hook = webhooks.facebook()
    _conversation(base_url, hook)
    fake.script(hook.contact, Answer(200, {"first_name": "Ada", "last_name": "Lovelace",
                                           "profile_pic": "https://example.org/ada.jpg"}))
    reply = post(base_url, "/conversations.refetch", {"conversation_id": hook.conversation_id})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"display_name": "Ada Lovelace", "avatar_url": "https://example.org/ada.jpg"}
    (asked,) = fake.to(hook.contact)
    assert asked.method == "GET" and asked.path == f"/facebook/{hook.contact}"
    assert asked.query["access_token"] == [hook.connect_body["page_token"]]
    assert asked.query["fields"] == ["first_name,last_name,profile_pic"]
    # Answered once projected: the conversation shows it at once.
    contact = _contact(base_url, hook)
    assert (contact["display_name"], contact["avatar_url"]) == ("Ada Lovelace", "https://example.org/ada.jpg")


def test_refetch_of_an_instagram_conversation(base_url: str, fake: FakeSourceApis) -> None:
    hook = webhooks.instagram()
    _conversation(base_url, hook)
    reply = post(base_url, "/conversations.refetch", {"conversation_id": hook.conversation_id})
    assert reply.json()["display_name"] == f"Insta {hook.contact}"
    assert fake.to(hook.contact)[0].query["fields"] == ["name,username,profile_pic"]
    assert _contact(base_url, hook)["display_name"] == f"Insta {hook.contact}"


def test_refetch_refusals(base_url: str, fake: FakeSourceApis) -> None:
    assert post(base_url, "/conversations.refetch", {}).status_code == 400
    assert post(base_url, "/conversations.refetch", {"conversation_id": str(uuid.uuid4())}).status_code == 404
    viber = webhooks.viber()
    _conversation(base_url, viber)
    no_api = post(base_url, "/conversations.refetch", {"conversation_id": viber.conversation_id})
    assert no_api.status_code == 400 and "no profile API" in no_api.json()["message"]

    hook = webhooks.facebook()
    _conversation(base_url, hook)
    before = _contact(base_url, hook)
    fake.script(hook.contact, Answer(400, GRAPH_ERROR), Answer(500, {}))
    refused = post(base_url, "/conversations.refetch", {"conversation_id": hook.conversation_id})
    assert refused.status_code == 400 and "No matching user found" in refused.json()["message"]
    failed = post(base_url, "/conversations.refetch", {"conversation_id": hook.conversation_id})
    assert failed.status_code == 503
    assert _contact(base_url, hook) == before  # nothing written


def test_explore_lists_the_pages_of_a_user_token_and_which_are_connected(base_url: str, fake: FakeSourceApis) -> None:
    connected = webhooks.facebook()
    connected.connect(base_url)
    user_token = f"user-token-{uuid.uuid4().hex}"
    fake.script(user_token, Answer(200, {
        "data": [{"id": connected.source_channel_id, "name": "Connected Page",
                  "picture": {"data": {"url": "https://example.org/page.jpg"}}}],
        "paging": {"cursors": {"after": "A1"}, "next": "https://graph.example/next"}}),
        Answer(200, {"data": [{"id": "123456789", "name": "New Page"}],
                     "paging": {"cursors": {"after": "A2"}}}))
    reply = post(base_url, "/channels.facebook.explore", {"auth_token": user_token})
    assert reply.status_code == 200, reply.text
    assert reply.json()["data"] == [
        {"page_id": connected.source_channel_id, "name": "Connected Page",
         "image_url": "https://example.org/page.jpg", "connected": True},
        {"page_id": "123456789", "name": "New Page", "image_url": "", "connected": False}]
    first, second = fake.to(user_token)
    assert first.path == "/facebook/me/accounts" and "after" not in first.query
    assert second.query["after"] == ["A1"]

    refused_token = f"user-token-{uuid.uuid4().hex}"
    fake.script(refused_token, Answer(400, GRAPH_ERROR))
    refused = post(base_url, "/channels.facebook.explore", {"auth_token": refused_token})
    assert refused.status_code == 400 and "No matching user found" in refused.json()["message"]
    assert post(base_url, "/channels.facebook.explore", {}).status_code == 400
