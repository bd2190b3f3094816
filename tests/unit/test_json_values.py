"""The lossless-number rule: integers beyond 2^53 become their decimal strings."""

from __future__ import annotations

from google.protobuf import json_format

from runtime import json_values


def test_big_integers_are_kept_as_exact_strings() -> None:
    parsed = json_values.loads(b'{"message_token": 5741311803571721087, "n": 42, "x": 1.5}')
    assert parsed == {"message_token": "5741311803571721087", "n": 42, "x": 1.5}


def test_the_boundary_is_2_to_the_53() -> None:
    assert json_values.loads(str(2**53)) == 2**53
    assert json_values.loads(str(2**53 + 1)) == str(2**53 + 1)
    assert json_values.loads(str(-(2**53 + 1))) == str(-(2**53 + 1))


def test_values_round_trip_through_protobuf() -> None:
    data = {"a": [1, "b", True, None, {"c": 2.5}], "token": "5741311803571721087"}
    assert json_format.MessageToDict(json_values.to_struct(data)) == data
    assert json_format.MessageToDict(json_values.to_value("text")) == "text"


def test_from_value_gives_integral_numbers_back_as_ints() -> None:
    data = {"quantity": 7, "price": 7.5, "items": [1, {"n": 2}], "text": "7"}
    restored = json_values.from_value(json_values.to_struct(data))
    assert restored == data
    assert type(restored["quantity"]) is int and type(restored["items"][1]["n"]) is int
    assert type(restored["price"]) is float
