"""The store's commands through Envoy, each written through Kafka and read back: conversation
commands (mark-read and unread counts, tags, state, contact name), metadata.upsert, tags,
templates. Bad input is 400 and unknown ids 404."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from runtime.settings import Settings
from tests.integration.helpers import eventually, message_record, post, produce_messages


def _info(base_url: str, conversation_id: str) -> dict[str, Any]:
    return dict(post(base_url, "/conversations.info", {"conversation_id": conversation_id}).json())


@pytest.fixture
def conversation(live_stack: Settings, base_url: str) -> str:
    """A conversation with two messages from the contact."""
    conversation_id = str(uuid.uuid4())
    asyncio.run(produce_messages(live_stack, [
        message_record(conversation_id, 1_700_000_000_000 + i, f"m{i}") for i in range(2)]))
    eventually(lambda: post(base_url, "/conversations.info",
                             {"conversation_id": conversation_id}).status_code == 200)
    return conversation_id


def test_mark_read_resets_the_unread_count_and_new_messages_count_again(
    live_stack: Settings, base_url: str, conversation: str
) -> None:
    assert _info(base_url, conversation)["metadata"]["unread_count"] == 2
    assert post(base_url, "/conversations.mark-read", {"conversation_id": conversation}).json() == {}
    assert _info(base_url, conversation)["metadata"]["unread_count"] == 0
    asyncio.run(produce_messages(live_stack, [message_record(conversation, 1_700_000_009_000, "new")]))
    eventually(lambda: _info(base_url, conversation)["metadata"]["unread_count"] == 1)


def test_tags_state_and_contact_name(base_url: str, conversation: str) -> None:
    tag = post(base_url, "/tags.create", {"name": "vip", "color": "tag-red"}).json()
    assert post(base_url, "/conversations.tag",
                 {"conversation_id": conversation, "tag_id": tag["id"]}).json() == {}
    assert post(base_url, "/conversations.set-state",
                 {"conversation_id": conversation, "state": "CLOSED"}).status_code == 200
    assert post(base_url, "/conversations.update-contact",
                 {"conversation_id": conversation, "display_name": "Grace"}).status_code == 200
    metadata = _info(base_url, conversation)["metadata"]
    assert metadata["tags"] == {tag["id"]: ""}
    assert metadata["state"] == "CLOSED"
    assert metadata["contact"]["display_name"] == "Grace"

    post(base_url, "/conversations.untag", {"conversation_id": conversation, "tag_id": tag["id"]})
    post(base_url, "/conversations.remove-state", {"conversation_id": conversation})
    metadata = _info(base_url, conversation)["metadata"]
    assert metadata.get("tags", {}) == {} and "state" not in metadata
    assert metadata["contact"]["display_name"] == "Grace"  # siblings stay


def test_the_original_systems_camel_case_names_run_the_same_calls(base_url: str, conversation: str) -> None:
    assert post(base_url, "/conversations.setState",
                {"conversation_id": conversation, "state": "CLOSED"}).status_code == 200
    assert _info(base_url, conversation)["metadata"]["state"] == "CLOSED"
    assert post(base_url, "/conversations.removeState", {"conversation_id": conversation}).status_code == 200
    assert "state" not in _info(base_url, conversation)["metadata"]
    assert post(base_url, "/conversations.updateContact",
                {"conversation_id": conversation, "display_name": "Camel"}).status_code == 200
    assert _info(base_url, conversation)["metadata"]["contact"]["display_name"] == "Camel"
    assert post(base_url, "/conversations.markRead", {"conversation_id": conversation}).status_code == 200
    assert _info(base_url, conversation)["metadata"]["unread_count"] == 0
    assert post(base_url, "/conversations.setState", {"conversation_id": "nope", "state": "OPEN"}).status_code == 404



@pytest.mark.parametrize("path, body", [
    ("/conversations.mark-read", {}),
    ("/conversations.tag", {"tag_id": ""}),
    ("/conversations.set-state", {"state": " "}),
    ("/conversations.update-contact", {"display_name": ""}),
])
def test_conversation_commands_reject_bad_input(base_url: str, conversation: str, path: str,
                                                body: dict[str, Any]) -> None:
    with_id = {"conversation_id": conversation if body else "", **body}
    reply = post(base_url, path, with_id)
    assert reply.status_code in (400, 404)
    assert reply.json()["message"]


@pytest.mark.parametrize("path", ["/conversations.mark-read", "/conversations.set-state",
                                  "/conversations.remove-state", "/conversations.update-contact",
                                  "/conversations.info"])
def test_conversation_commands_on_unknown_conversations_are_404(base_url: str, path: str) -> None:
    reply = post(base_url, path, {"conversation_id": "nope", "state": "OPEN", "display_name": "x"})
    assert reply.status_code == 404


def test_tagging_with_an_unknown_tag_is_404(base_url: str, conversation: str) -> None:
    reply = post(base_url, "/conversations.tag", {"conversation_id": conversation, "tag_id": "nope"})
    assert reply.status_code == 404


def test_metadata_upsert_merges_by_key_path(base_url: str, conversation: str) -> None:
    for data in ({"crm": {"id": "42", "owner": "ann"}}, {"crm": {"owner": "bob"}, "flag": True}):
        reply = post(base_url, "/metadata.upsert",
                      {"subject": "conversation", "id": conversation, "data": data})
        assert reply.status_code == 200, reply.text
    metadata = _info(base_url, conversation)["metadata"]
    assert metadata["crm"] == {"id": "42", "owner": "bob"} and metadata["flag"] is True

    message_id = post(base_url, "/messages.list", {"conversation_id": conversation}).json()["data"][0]["id"]
    post(base_url, "/metadata.upsert", {"subject": "message", "id": message_id,
                                         "data": {"sentFrom": "iPhone"}})
    first = post(base_url, "/messages.list", {"conversation_id": conversation}).json()["data"][0]
    assert first["metadata"]["sentFrom"] == "iPhone"


@pytest.mark.parametrize("body, status", [
    ({"subject": "user", "id": "x", "data": {"a": 1}}, 400),
    ({"subject": "conversation", "id": "", "data": {"a": 1}}, 400),
    ({"subject": "conversation", "id": "x", "data": {}}, 400),
    ({"subject": "conversation", "id": "nope", "data": {"a": 1}}, 404),
])
def test_metadata_upsert_rejects_bad_input(base_url: str, body: dict[str, Any], status: int) -> None:
    reply = post(base_url, "/metadata.upsert", body)
    assert reply.status_code == status and reply.json()["message"]


def test_tags_lifecycle(base_url: str) -> None:
    name = f"tag-{uuid.uuid4().hex[:8]}"
    tag = post(base_url, "/tags.create", {"name": name, "color": "tag-blue"}).json()
    assert tag["name"] == name and tag["color"] == "tag-blue"
    assert tag in post(base_url, "/tags.list", {}).json()["data"]
    updated = post(base_url, "/tags.update", {"id": tag["id"], "color": "tag-green"}).json()
    assert updated == {**tag, "color": "tag-green"}
    assert post(base_url, "/tags.delete", {"id": tag["id"]}).json() == {}
    assert tag["id"] not in [t["id"] for t in post(base_url, "/tags.list", {}).json()["data"]]
    assert post(base_url, "/tags.delete", {"id": tag["id"]}).status_code == 404
    assert post(base_url, "/tags.create", {"name": "x", "color": "pink"}).status_code == 400
    assert post(base_url, "/tags.create", {"color": "tag-red"}).status_code == 400


def test_templates_lifecycle(base_url: str) -> None:
    source = f"custom-{uuid.uuid4().hex[:8]}"
    body = {"name": "Welcome message", "source": source, "content": {"text": "Hello!"}}
    template = post(base_url, "/templates.create", body).json()
    assert {k: template[k] for k in body} == body
    assert post(base_url, "/templates.list", {"source": source, "name": "welc"}).json()["data"] == [template]
    assert post(base_url, "/templates.list", {"source": source, "name": "nope"}).json()["data"] == []
    assert post(base_url, "/templates.info", {"id": template["id"]}).json() == template
    renamed = post(base_url, "/templates.update", {"id": template["id"], "name": "Hi"}).json()
    assert renamed["name"] == "Hi" and renamed["content"] == {"text": "Hello!"}
    assert post(base_url, "/templates.delete", {"id": template["id"]}).json() == {}
    assert post(base_url, "/templates.info", {"id": template["id"]}).status_code == 404
    assert post(base_url, "/templates.list", {}).status_code == 400
    assert post(base_url, "/templates.create", {"name": "x"}).status_code == 400
