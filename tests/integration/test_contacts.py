"""Contacts: every conversation's contact, listed and read by id or conversation; updates ("" removes
a field); merges (destination wins, gaps filled from the source, conversations united, the source
kept in merge_history)."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx


from runtime import ids
from tests.integration import webhooks
from tests.integration.helpers import eventually, post


def _info(base_url: str, conversation_id: str) -> httpx.Response | None:
    """contacts.info of the conversation's contact, None until it answers 200."""
    reply = post(base_url, "/contacts.info", {"conversation_id": conversation_id})
    return reply if reply.status_code == 200 else None


def _contact_of(base_url: str, hook: webhooks.Webhook) -> dict[str, Any]:
    hook.connect(base_url)
    assert hook.post(base_url).status_code == 200
    reply = eventually(partial(_info, base_url, hook.conversation_id), timeout=20)
    return dict(reply.json())


def test_a_conversations_contact_and_its_update(base_url: str) -> None:
    hook = webhooks.whatsapp()
    contact = _contact_of(base_url, hook)
    assert contact["id"] == ids.contact_id(hook.channel_id, hook.contact)
    assert contact["conversations"] == {hook.conversation_id: "whatsapp"}
    eventually(lambda: post(base_url, "/contacts.info", {"id": contact["id"]}).json()[
        "display_name"] == "Kerry Fisher")

    updated = post(base_url, "/contacts.update", {
        "id": contact["id"], "title": "CTO", "locale": "en_US", "address": {"city": "Berlin"}}).json()
    assert (updated["title"], updated["locale"], updated["address"]) == ("CTO", "en_US", {"city": "Berlin"})
    cleared = post(base_url, "/contacts.update", {"id": contact["id"], "title": ""}).json()
    assert cleared["title"] == "" and cleared["locale"] == "en_US"


def test_contacts_list_pages_newest_first(base_url: str) -> None:
    first, second = _contact_of(base_url, webhooks.viber()), _contact_of(base_url, webhooks.viber())
    listed = post(base_url, "/contacts.list", {"page_size": 1000}).json()
    order = [c["id"] for c in listed["data"]]
    assert first["id"] in order and second["id"] in order
    assert listed["pagination_data"]["total"] >= 2
    one = post(base_url, "/contacts.list", {"page_size": 1}).json()
    assert len(one["data"]) == 1 and one["pagination_data"]["next_cursor"]


def test_merge_unites_conversations_and_keeps_history(base_url: str) -> None:
    source = _contact_of(base_url, webhooks.facebook())
    destination = _contact_of(base_url, webhooks.google())
    post(base_url, "/contacts.update", {"id": source["id"], "title": "Buyer", "locale": "de_DE"})
    post(base_url, "/contacts.update", {"id": destination["id"], "locale": "en_GB"})

    merged = post(base_url, "/contacts.merge",
                   {"source_id": source["id"], "destination_id": destination["id"]}).json()
    assert merged["id"] == destination["id"]
    assert merged["locale"] == "en_GB" and merged["title"] == "Buyer"
    assert merged["conversations"] == {**source["conversations"], **destination["conversations"]}
    assert merged["merge_history"][0]["id"] == source["id"]
    assert post(base_url, "/contacts.info", {"id": source["id"]}).status_code == 404
    (moved,) = source["conversations"]
    assert post(base_url, "/contacts.info", {"conversation_id": moved}).json()["id"] == destination["id"]


def test_bad_and_unknown_contacts(base_url: str) -> None:
    assert post(base_url, "/contacts.info", {}).status_code == 400
    assert post(base_url, "/contacts.info", {"id": "nope"}).status_code == 404
    assert post(base_url, "/contacts.info", {"conversation_id": "nope"}).status_code == 404
    assert post(base_url, "/contacts.update", {"id": "nope", "title": "x"}).status_code == 404
    assert post(base_url, "/contacts.merge", {"source_id": "a", "destination_id": "a"}).status_code == 400
    assert post(base_url, "/contacts.merge", {"source_id": "a", "destination_id": "b"}).status_code == 404
