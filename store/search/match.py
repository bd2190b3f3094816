"""A parsed `filters` query evaluated on one conversation (pure): what the store checks one by
one where no index answers (`store.search.answer`), and what the indexes must agree with."""

from __future__ import annotations

from typing import Any

from luqum import tree

from runtime.errors import InvalidArgument
from store.search.plan import score_range
from store.search.query import DEFAULT_FIELD, as_number
from store.search.terms import Fields, term_matches


def _values(fields: Fields, name: str, metadata: dict[str, Any]) -> list[Any]:
    if not name.startswith("metadata."):
        return fields.get(name, [])
    value: Any = metadata
    for part in name.split(".")[1:]:
        if not isinstance(value, dict) or part not in value:
            return []
        value = value[part]
    return value if isinstance(value, list) else [value]


def _in_range(field: str, node: tree.Range, values: list[Any]) -> bool:
    within = score_range("value", field, node)
    for value in values:
        try:
            number = as_number(field, str(value))
        except ValueError:
            continue
        if within.holds(number):
            return True
    return False


def matches(node: tree.Item, fields: Fields, metadata: dict[str, Any],
            field: str | None = None) -> bool:
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
        return term_matches(name, node.value.strip('"'), values)
    if isinstance(node, tree.Word):
        return term_matches(name, node.value, values)
    raise InvalidArgument(f"invalid filters: unsupported {type(node).__name__}")
