"""Deterministic ids: same input, same id; different input, different id; RFC 4122 v5."""

from __future__ import annotations

import json
import uuid

from hypothesis import given
from hypothesis import strategies as st

from runtime import ids

text = st.text(min_size=1, max_size=40)


@given(text, text)
def test_channel_ids_are_deterministic_uuid5(source: str, page: str) -> None:
    first = ids.channel_id(source, page)
    assert first == ids.channel_id(source, page)
    assert uuid.UUID(first).version == 5


@given(text, text, text)
def test_parts_cannot_run_into_each_other(a: str, b: str, c: str) -> None:
    # ("ab", "c") and ("a", "bc") must not collide.
    if (a + b, c) != (a, b + c):
        assert ids.conversation_id(a + b, c) != ids.conversation_id(a, b + c)


@given(st.text(max_size=200))
def test_ids_are_the_standard_uuid5_of_their_name(name: str) -> None:
    assert ids.uuid5_text(name) == str(uuid.uuid5(ids.PARLEY_NAMESPACE, name))


@given(text, text)
def test_ids_are_the_uuid5_of_a_json_array_of_kind_and_parts(a: str, b: str) -> None:
    # Every stored id was derived this way: the derivation may get faster, never different.
    assert ids.conversation_id(a, b) == str(
        uuid.uuid5(ids.PARLEY_NAMESPACE, json.dumps(["conversation", a, b])))


def test_kinds_are_distinct_for_the_same_parts() -> None:
    made = {
        ids.conversation_id("x", "y"), ids.message_id("x", "y"), ids.contact_id("x", "y"),
    }
    assert len(made) == 3


def test_message_id_without_source_id_hashes_the_raw_bytes() -> None:
    assert ids.message_id_from_bytes("c", b"one") == ids.message_id_from_bytes("c", b"one")
    assert ids.message_id_from_bytes("c", b"one") != ids.message_id_from_bytes("c", b"two")
