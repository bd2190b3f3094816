"""The `filters` query language of /conversations.list: Lucene syntax, parsed by luqum.

Fields: `id`, `channel_id`, `source`, `display_name` (case-insensitive), `created_at`,
`unread_count`, `tag_ids`, `state`, `metadata.<path>`; terms with `*`/`?` wildcards, ranges
`[a TO b]`, `{a TO b}` and `*` for an open end (numbers, or for `created_at` dates and
RFC 3339 times, quoted or with escaped colons: `created_at:["2026-01-01T10:00:00Z" TO *]`);
`AND`, `OR`, `NOT`/`-`, parentheses, `field:(a OR b)`. Terms side by side without
an operator combine with AND. A term without a field matches `display_name`.

Two pure parts: `matches` evaluates a query on one conversation's fields; `index_plan` turns the
parts of a query that the store keeps index sets for into set algebra (see `store.filtering`).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser

from runtime import timestamps
from runtime.errors import InvalidArgument

FIELDS = ("id", "channel_id", "source", "display_name", "created_at", "unread_count", "tag_ids",
          "state")
DEFAULT_FIELD = "display_name"
#: Fields whose terms have an index set: name of the index per field.
INDEXED = {"channel_id": "channel", "source": "source", "tag_ids": "tag", "state": "state",
           "metadata.state": "state"}

Fields = dict[str, list[Any]]


def parse(query: str) -> tree.Item:
    """The syntax tree of `query`; InvalidArgument with the parser's message when malformed."""
    try:
        parsed = parser.parse(query)
    except (ParseError, ValueError) as exc:
        raise InvalidArgument(f"invalid filters: {exc}") from exc
    _check(parsed, None)
    return parsed


def _check(node: tree.Item, field: str | None) -> None:
    if isinstance(node, tree.SearchField):
        if field is not None:
            raise InvalidArgument(f"invalid filters: nested field {node.name!r} in {field!r}")
        if node.name not in FIELDS and not node.name.startswith("metadata."):
            raise InvalidArgument(f"invalid filters: unknown field {node.name!r}; "
                                  f"use one of {', '.join(FIELDS)} or metadata.<path>")
        field = node.name
    elif isinstance(node, (tree.Fuzzy, tree.Proximity, tree.Boost, tree.Regex)):
        raise InvalidArgument(f"invalid filters: {type(node).__name__.lower()} is not supported")
    for child in node.children:
        _check(child, field)


def conversation_fields(conversation: dict[str, Any]) -> Fields:
    """The filterable values of a served conversation (its JSON form)."""
    metadata = conversation.get("metadata", {})
    channel = conversation.get("channel", {})
    fields: Fields = {
        "id": [conversation.get("id", "")],
        "channel_id": [channel.get("id", "")],
        "source": [channel.get("source", "")],
        "display_name": [metadata.get("contact", {}).get("display_name", "")],
        "created_at": [conversation.get("created_at", "")],
        "unread_count": [metadata.get("unread_count", 0)],
        "tag_ids": list(metadata.get("tags", {})),
        "state": [metadata["state"]] if "state" in metadata else [],
    }
    return fields


def _values(fields: Fields, name: str, metadata: dict[str, Any]) -> list[Any]:
    if not name.startswith("metadata."):
        return fields.get(name, [])
    value: Any = metadata
    for part in name.split(".")[1:]:
        if not isinstance(value, dict) or part not in value:
            return []
        value = value[part]
    return value if isinstance(value, list) else [value]


def _term_matches(field: str, pattern: str, values: list[Any]) -> bool:
    if pattern == "*":
        return any(v not in ("", None) for v in values)
    texts = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    if field == "display_name":
        pattern, texts = pattern.lower(), [t.lower() for t in texts]
    if "*" in pattern or "?" in pattern:
        return any(fnmatch.fnmatchcase(t, pattern) for t in texts)
    return pattern in texts


def _as_number(field: str, text: str) -> float:
    if field == "created_at":
        if len(text) == 10:  # a date: midnight UTC
            text += "T00:00:00Z"
        return float(timestamps.parse_ms(text))
    return float(text)


def _bound(item: tree.Item) -> str:
    # A time bound has colons: quoted ("2026-01-01T10:00:00Z") or escaped (10\:00) in Lucene.
    return str(item.value).strip('"').replace("\\", "")


def _in_range(field: str, node: tree.Range, values: list[Any]) -> bool:
    low, high = _bound(node.low), _bound(node.high)
    for value in values:
        try:
            number = _as_number(field, str(value))
            if low != "*":
                bound = _as_number(field, low)
                if number < bound or (number == bound and not node.include_low):
                    continue
            if high != "*":
                bound = _as_number(field, high)
                if number > bound or (number == bound and not node.include_high):
                    continue
        except ValueError:
            continue
        return True
    return False


def matches(node: tree.Item, fields: Fields, metadata: dict[str, Any], field: str | None = None) -> bool:
    """True when the conversation with `fields` (and its `metadata`) satisfies `node`."""
    if isinstance(node, tree.SearchField):
        return matches(node.expr, fields, metadata, node.name)
    if isinstance(node, (tree.Group, tree.FieldGroup)):
        return matches(node.expr, fields, metadata, field)
    if isinstance(node, (tree.AndOperation, tree.UnknownOperation)):
        return all(matches(c, fields, metadata, field) for c in node.children)
    if isinstance(node, tree.OrOperation):
        return any(matches(c, fields, metadata, field) for c in node.children)
    if isinstance(node, (tree.Not, tree.Prohibit)):
        return not matches(node.a, fields, metadata, field)
    if isinstance(node, tree.Plus):
        return matches(node.a, fields, metadata, field)
    name = field or DEFAULT_FIELD
    values = _values(fields, name, metadata)
    if isinstance(node, tree.Range):
        return _in_range(name, node, values)
    if isinstance(node, tree.Phrase):
        return _term_matches(name, node.value.strip('"'), values)
    if isinstance(node, tree.Word):
        return _term_matches(name, node.value, values)
    raise InvalidArgument(f"invalid filters: unsupported {type(node).__name__}")


# --- index plans ---


@dataclass(frozen=True)
class IndexSet:
    """The index set of `kind` ("channel", "source", "tag", "state", "unread") and `value`;
    kind "all" is every conversation."""

    kind: str
    value: str = ""


@dataclass(frozen=True)
class SetOp:
    """`op` ("and", "or", "not") over index plans."""

    op: str
    operands: tuple[Plan, ...]


Plan = IndexSet | SetOp


def index_plan(node: tree.Item, field: str | None = None) -> Plan | None:
    """Set algebra over index sets equivalent to `node`, or None when a part has no index."""
    if isinstance(node, tree.SearchField):
        return index_plan(node.expr, node.name)
    if isinstance(node, (tree.Group, tree.FieldGroup, tree.Plus)):
        return index_plan(node.expr if hasattr(node, "expr") else node.a, field)
    if isinstance(node, (tree.AndOperation, tree.UnknownOperation, tree.OrOperation)):
        parts = [index_plan(c, field) for c in node.children]
        if any(p is None for p in parts):
            return None
        op = "or" if isinstance(node, tree.OrOperation) else "and"
        return SetOp(op, tuple(p for p in parts if p is not None))
    if isinstance(node, (tree.Not, tree.Prohibit)):
        inner = index_plan(node.a, field)
        return None if inner is None else SetOp("not", (inner,))
    if isinstance(node, tree.Range) and field == "unread_count":
        low = node.low.value
        unread = (low == "1" and node.include_low) or (low == "0" and not node.include_low)
        return IndexSet("unread") if unread and node.high.value == "*" else None
    if isinstance(node, tree.Word) and field in ("id",) and node.value == "*":
        return IndexSet("all")
    if isinstance(node, (tree.Word, tree.Phrase)) and field in INDEXED:
        value = node.value.strip('"')
        if "*" in value or "?" in value:
            return None
        return IndexSet(INDEXED[field], value)
    return None


def name_grams(text: str) -> set[str]:
    """The trigrams of a display name (lower case): the index that narrows `display_name:*x*`."""
    lowered = text.lower()
    return {lowered[i:i + 3] for i in range(len(lowered) - 2)}


def _name_plan(pattern: str) -> Plan | None:
    # Every literal stretch of 3+ characters between wildcards must occur in a matching name.
    grams = set().union(*(name_grams(part) for part in re.split(r"[*?]", pattern) if len(part) >= 3))
    if not grams:
        return None
    parts = tuple(IndexSet("gram", g) for g in sorted(grams))
    return parts[0] if len(parts) == 1 else SetOp("and", parts)


def narrowing_plan(node: tree.Item, field: str | None = None) -> Plan | None:
    """An index plan of a superset of `node`'s answer (to evaluate further), or None: exact
    index plans where they exist, name trigrams for `display_name` terms, AND/OR of those."""
    if isinstance(node, tree.SearchField):
        return narrowing_plan(node.expr, node.name)
    if isinstance(node, (tree.Group, tree.FieldGroup)):
        return narrowing_plan(node.expr, field)
    exact = index_plan(node, field)
    if exact is not None:
        return exact
    if isinstance(node, (tree.AndOperation, tree.UnknownOperation)):
        parts = [p for p in (narrowing_plan(c, field) for c in node.children) if p is not None]
        return None if not parts else parts[0] if len(parts) == 1 else SetOp("and", tuple(parts))
    if isinstance(node, tree.OrOperation):
        parts = [narrowing_plan(c, field) for c in node.children]
        known = tuple(p for p in parts if p is not None)
        return SetOp("or", known) if len(known) == len(parts) else None
    if isinstance(node, (tree.Word, tree.Phrase)) and (field or DEFAULT_FIELD) == "display_name":
        return _name_plan(node.value.strip('"'))
    return None
