"""Contacts: every conversation's contact, listed and read by id or conversation; updates ("" removes
a field); merges (destination wins, gaps filled from the source, conversations united, the source
kept in merge_history); contacts created and imported by hand, deleted, and the recent messages of
all of a contact's conversations."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import httpx


from runtime import ids
from tests.integration import webhooks
from tests.integration.helpers import api_headers, eventually, post


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


def _import(base_url: str, contacts: list[dict[str, Any]]) -> httpx.Response:
    """contacts.import: its JSON body is the array of contacts."""
    return httpx.post(f"{base_url}/contacts.import", json=contacts, headers=api_headers(), timeout=30)


def test_created_and_imported_contacts(base_url: str) -> None:
    chosen = str(uuid.uuid4())
    created = post(base_url, "/contacts.create", {
        "id": chosen, "display_name": "Barbara Liskov", "title": "Professor",
        "via": {"email": "b.liskov@example.org"}, "metadata": {"crm_id": "ABC123"}})
    assert created.status_code == 200, created.text
    contact = created.json()
    assert (contact["id"], contact["display_name"], contact["via"], contact["metadata"]) == (
        chosen, "Barbara Liskov", {"email": "b.liskov@example.org"}, {"crm_id": "ABC123"})
    assert contact["created_at"] and contact["conversations"] == {}
    assert post(base_url, "/contacts.info", {"id": chosen}).json() == contact
    # The same id again (a retry) makes nothing new.
    assert post(base_url, "/contacts.create", {"id": chosen, "title": "x"}).status_code == 409
    assert post(base_url, "/contacts.info", {"id": chosen}).json()["title"] == "Professor"
    listed = post(base_url, "/contacts.list", {"page_size": 5}).json()["data"]
    assert chosen in [c["id"] for c in listed]

    imported = _import(base_url, [{"display_name": "Ada Lovelace"},
                                  {"display_name": "Grace Hopper", "title": "Rear Admiral"}])
    assert imported.status_code == 200, imported.text
    ada, grace = imported.json()["data"]
    assert (ada["display_name"], grace["title"]) == ("Ada Lovelace", "Rear Admiral")
    assert post(base_url, "/contacts.info", {"id": grace["id"]}).json()["display_name"] == "Grace Hopper"


def test_bad_contacts_are_refused_and_nothing_is_written(base_url: str) -> None:
    unwritten = str(uuid.uuid4())
    for body in ({}, {"id": "not-a-uuid", "title": "x"}, {"title": "x", "created_at": "2020-01-01T00:00:00.000Z"}):
        reply = post(base_url, "/contacts.create", body)
        assert reply.status_code == 400 and reply.json()["message"], body
    assert post(base_url, "/contacts.create", {"title": "x", "conversations": {
        str(uuid.uuid4()): "facebook"}}).status_code == 404
    refused = _import(base_url, [{"id": unwritten, "display_name": "kept out"}, {}])
    assert refused.status_code == 400 and "contacts[1]" in refused.json()["message"]
    assert _import(base_url, []).status_code == 400
    assert _import(base_url, [{"title": "x"}] * 1001).status_code == 400
    assert post(base_url, "/contacts.info", {"id": unwritten}).status_code == 404
    assert post(base_url, "/contacts.delete", {}).status_code == 400
    assert post(base_url, "/contacts.delete", {"id": unwritten}).status_code == 404
    assert post(base_url, "/contacts.recent-messages", {"contact_id": unwritten}).status_code == 404


def test_a_created_contact_takes_its_conversations_and_deleting_it_gives_them_back(base_url: str) -> None:
    hook = webhooks.facebook()
    made_with = _contact_of(base_url, hook)
    post(base_url, "/contacts.update", {"id": made_with["id"], "locale": "fr_FR"})
    created = post(base_url, "/contacts.create", {
        "display_name": "Known from the CRM", "conversations": {hook.conversation_id: "ignored"}}).json()
    # As a merge: the new contact's fields win, gaps are filled, the old contact is history.
    assert created["conversations"] == {hook.conversation_id: "facebook"}
    assert (created["display_name"], created["locale"]) == ("Known from the CRM", "fr_FR")
    assert created["merge_history"][0]["id"] == made_with["id"]
    assert post(base_url, "/contacts.info", {"id": made_with["id"]}).status_code == 404
    assert post(base_url, "/contacts.info", {"conversation_id": hook.conversation_id}).json()[
        "id"] == created["id"]

    assert post(base_url, "/contacts.delete", {"id": created["id"]}).status_code == 200
    assert post(base_url, "/contacts.info", {"id": created["id"]}).status_code == 404
    back = post(base_url, "/contacts.info", {"conversation_id": hook.conversation_id}).json()
    assert back["id"] == made_with["id"] and back["conversations"] == {hook.conversation_id: "facebook"}
    assert back["locale"] == ""  # as it was made: what operators set went with the deletion


def test_recent_messages_of_each_of_a_contacts_conversations(base_url: str) -> None:
    facebook, google = webhooks.facebook(), webhooks.google()
    first, second = _contact_of(base_url, facebook), _contact_of(base_url, google)
    merged = post(base_url, "/contacts.merge", {"source_id": second["id"],
                                                "destination_id": first["id"]}).json()
    recent = post(base_url, "/contacts.recent-messages", {"contact_id": merged["id"], "page_size": 1})
    assert recent.status_code == 200, recent.text
    pages = recent.json()["conversations"]
    assert set(pages) == {facebook.conversation_id, google.conversation_id}
    assert pages[facebook.conversation_id]["data"][0]["content"]["text"] == facebook.text
    assert pages[google.conversation_id]["pagination_data"]["total"] == 1
    only = post(base_url, "/contacts.recentMessages", {"contact_id": merged["id"],
                                                       "include_sources": ["google"]}).json()
    assert set(only["conversations"]) == {google.conversation_id}
    # Two new contacts may not split one contact's conversations between them.
    split = _import(base_url, [{"title": "a", "conversations": {facebook.conversation_id: ""}},
                               {"title": "b", "conversations": {google.conversation_id: ""}}])
    assert split.status_code == 400 and "same contact" in split.json()["message"]
    assert set(post(base_url, "/contacts.info", {"id": merged["id"]}).json()["conversations"]) == set(pages)
