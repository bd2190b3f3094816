"""Metadata deep merge: siblings are never dropped, the last write per key wins."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from store.metadata import deep_merge

keys = st.sampled_from(["a", "b", "c", "source", "contact"])
documents = st.recursive(
    st.one_of(st.integers(), st.text(max_size=5), st.booleans()),
    lambda inner: st.dictionaries(keys, inner, max_size=3), max_leaves=10,
).filter(lambda d: isinstance(d, dict))


def _paths(doc: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    leaves: dict[tuple[str, ...], Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):  # an empty object has no leaves: merging it changes nothing
            leaves |= _paths(value, (*prefix, key))
        else:
            leaves[(*prefix, key)] = value
    return leaves


@given(documents, documents)
def test_every_leaf_of_the_update_wins(base: dict[str, Any], update: dict[str, Any]) -> None:
    merged = _paths(deep_merge(base, update))
    for path, value in _paths(update).items():
        assert merged[path] == value


def test_siblings_are_kept_and_inputs_untouched() -> None:
    base: dict[str, Any] = {"contact": {"display_name": "Ann", "avatar_url": "x"}, "state": "OPEN"}
    update = {"contact": {"display_name": "Anna"}}
    assert deep_merge(base, update) == {
        "contact": {"display_name": "Anna", "avatar_url": "x"}, "state": "OPEN"}
    assert base["contact"]["display_name"] == "Ann"
