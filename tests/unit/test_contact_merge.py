"""contacts.merge as a pure function: destination wins, gaps filled, conversations united."""

from __future__ import annotations

from google.protobuf import json_format

from parley.v1 import resources_pb2
from store.contacts_service import merge


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
