"""Bodies taken from outside are text Parley can write: UTF-8, no lone surrogate in JSON."""

from __future__ import annotations

import pytest

from runtime import text


@pytest.mark.parametrize("body", [
    b'{"text": "hello"}',
    '{"text": "héllo 😀"}'.encode(),
    b'{"text": "\\ud83d\\ude00"}',  # an escaped surrogate pair is one character: fine
    b'{"text": "\\u00e9"}',
    b"Body=hi&From=%2B4915112345678",  # a form
    b"not json \\ud800",  # not JSON: its translator dead-letters it
    b"",
])
def test_writable_bodies_pass(body: bytes) -> None:
    text.check_body(body)


@pytest.mark.parametrize(("body", "problem"), [
    (b'{"entry": [{"messaging": [{"message": {"text": "\\ud800"}}]}]}', "lone surrogate"),
    (b'{"\\udfff": 1}', "lone surrogate"),  # keys too
    (b'["a", ["b", ["\\ud83d"]]]', "lone surrogate"),  # half of a pair
    (b'{"text": "\xed\xa0\x80"}', "not valid UTF-8"),  # a surrogate encoded as bytes
    (b'{"text": "\xff"}', "not valid UTF-8"),
])
def test_unwritable_bodies_are_refused_with_the_reason(body: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        text.check_body(body)


def test_deep_json_is_walked_without_recursion() -> None:
    deep = b"[" * 900 + b'"\\ud800"' + b"]" * 900
    with pytest.raises(ValueError, match="lone surrogate"):
        text.check_body(deep)


def test_unencodable_names_the_first_bad_string() -> None:
    assert text.unencodable({"a": ["ok", {"b": "x\ud800"}]}) == "x\ud800"
    assert text.unencodable({"a": ["ok", 1, None, 2.5]}) is None
