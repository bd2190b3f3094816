"""contacts.merge as a pure function: destination wins, gaps filled, conversations united; and
what contacts.create takes."""

from __future__ import annotations

import uuid

import pytest
from google.protobuf import json_format

from parley.v1 import resources_pb2
from runtime.errors import InvalidArgument
from store.contacts_service import merge, new_contact


def test_destination_wins_and_the_source_fills_its_gaps() -> None:
    source = resources_pb2.Contact(id="s", display_name="Ann", title="Buyer", locale="de_DE",
                                   conversations={"c1": "facebook"})
    source.address.update({"city": "Berlin", "zip": "10115"})
    destination = resources_pb2.Contact(id="d", locale="en_GB", conversations={"c2": "google"})
    destination.address.update({"city": "London"})

    merged = merge(source, destination)
    assert merged.id == "d"
    assert (merged.display_name, merged.title, merged.locale) == ("Ann", "Buyer", "en_GB")
    assert json_format.MessageToDict(merged.address) == {"city": "London", "zip": "10115"}
    assert dict(merged.conversations) == {"c1": "facebook", "c2": "google"}
    (history,) = merged.merge_history
    assert json_format.MessageToDict(history)["id"] == "s"
    assert destination.title == ""  # inputs untouched


def test_a_new_contact_gets_a_uuid_unless_it_brings_one() -> None:
    made = new_contact(resources_pb2.Contact(display_name="Ann"))
    assert uuid.UUID(made.id) and made.display_name == "Ann"
    given = str(uuid.uuid4())
    assert new_contact(resources_pb2.Contact(id=given.upper(), title="x")).id == given


@pytest.mark.parametrize(("contact", "message"), [
    (resources_pb2.Contact(), "at least one field"),
    (resources_pb2.Contact(id=str(uuid.uuid4())), "at least one field"),
    (resources_pb2.Contact(id="c1", title="x"), "must be a UUID"),
    (resources_pb2.Contact(title="x", created_at="2020-01-01T00:00:00.000Z"), "Parley's to set"),
])
def test_what_a_new_contact_may_not_be(contact: resources_pb2.Contact, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        new_contact(contact)
