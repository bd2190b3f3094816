"""Sources' JSON kept lossless in protobuf `Value`/`Struct`.

Protobuf JSON numbers are doubles, and sources send integers a double cannot hold (Viber's
`message_token` is a 64-bit number such as 5741311803571721087). The rule, everywhere in Parley:
**an integer whose magnitude is above 2^53 is kept as its decimal string**; every other number
stays a number. The raw topic keeps the exact bytes regardless.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import struct_pb2

from parley.views import MAX_SAFE_INTEGER, plain


def _int_or_string(text: str) -> int | str:
    number = int(text)
    return text if abs(number) > MAX_SAFE_INTEGER else number


def loads(raw: bytes | str) -> Any:
    """Parse JSON, turning integers beyond 2^53 into their decimal strings (the lossless rule)."""
    return json.loads(raw, parse_int=_int_or_string)


def to_value(data: Any) -> struct_pb2.Value:
    """A JSON-compatible Python value as a protobuf `Value`."""
    value = struct_pb2.Value()
    if isinstance(data, dict):
        value.struct_value.update(data)
    elif isinstance(data, list):
        value.list_value.extend(data)
    elif isinstance(data, bool):
        value.bool_value = data
    elif isinstance(data, (int, float)):
        value.number_value = data
    elif isinstance(data, str):
        value.string_value = data
    else:
        value.null_value = struct_pb2.NULL_VALUE
    return value


def to_struct(data: dict[str, Any]) -> struct_pb2.Struct:
    """A JSON object as a protobuf `Struct`."""
    struct = struct_pb2.Struct()
    struct.update(data)
    return struct


def from_value(value: struct_pb2.Value | struct_pb2.Struct) -> Any:
    """A protobuf `Value`/`Struct` as plain JSON data, integral numbers as ints again (protobuf
    holds every number as a double; a source API given `7.0` where it sent `7` may refuse it).
    The SDK's rule, the same for its users."""
    return plain(value)
