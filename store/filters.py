"""The `filters` query language of /conversations.list: Lucene syntax, parsed by luqum.

Fields: `id`, `channel_id`, `source`, `display_name` (case-insensitive), `created_at`,
`unread_count`, `tag_ids`, `state`, `metadata.<path>`; terms with `*`/`?` wildcards, ranges
`[a TO b]`, `{a TO b}` and `*` for an open end (numbers, or for `created_at` dates and
RFC 3339 times, quoted or with escaped colons: `created_at:["2026-01-01T10:00:00Z" TO *]`);
`AND`, `OR`, `NOT`/`-`, parentheses, `field:(a OR b)`. Terms side by side without
an operator combine with AND. A term without a field matches `display_name`.

Two pure parts: `matches` evaluates a query on one conversation's fields; `index_plan` turns the
parts of a query that the store keeps indexes for into set algebra (see `store.filtering`).
Every field has an index for its exact terms (`metadata.<path>` included, by `metadata_terms`),
and `created_at` and `unread_count` for their ranges; `metadata.<path>` wildcards and ranges are
answered from the texts the path holds (`ValueMatch`). Only wildcards of the other fields and
`display_name` patterns other than a 3-character fragment (`*ann*`, one trigram index) are
evaluated, on the conversations their indexes leave (`narrowing_plan`).
"""

from __future__ import annotations

import fnmatch
import math
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
#: Fields whose ranges have a sorted set of their values: name of the set per field.
RANGED = {"created_at": "created", "unread_count": "unread_count"}
#: Conversation metadata paths without term indexes: the read marker changes on every mark-read,
#: and the served `contact` and `unread_count` are not (only) the stored document's.
UNINDEXED_METADATA = ("read_until", "contact", "unread_count")
#: Metadata paths that are fields of their own, planned as those.
ALIASES = {"metadata.unread_count": "unread_count", "metadata.contact.display_name": "display_name"}

#: Bounds of one query, so that no read can take the store for long (or recurse without end):
#: its length in characters, its terms and ranges, and how deeply it nests (parentheses, NOT).
MAX_QUERY_CHARS = 8192
MAX_QUERY_TERMS = 256
MAX_QUERY_DEPTH = 32

Fields = dict[str, list[Any]]


def parse(query: str) -> tree.Item:
    """The syntax tree of `query`; InvalidArgument with the parser's message when malformed, or
    when it is longer, has more terms or nests deeper than the bounds above."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidArgument(f"invalid filters: {len(query)} characters; at most "
                              f"{MAX_QUERY_CHARS} are allowed")
    try:
        parsed = parser.parse(query)
    except (ParseError, ValueError) as exc:
        raise InvalidArgument(f"invalid filters: {exc}") from exc
    _check_size(parsed)
    _check(parsed, None)
    return parsed


def _check_size(root: tree.Item) -> None:
    """InvalidArgument when the tree under `root` has too many terms (a range's bounds are two)
    or is too deep; walked without recursion, as the tree may be as deep as the query is long."""
    terms, pending = 0, [(root, 0)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_QUERY_DEPTH:
            raise InvalidArgument(f"invalid filters: nested more than {MAX_QUERY_DEPTH} deep")
        if isinstance(node, tree.Term):
            terms += 1
            if terms > MAX_QUERY_TERMS:
                raise InvalidArgument(f"invalid filters: more than {MAX_QUERY_TERMS} terms")
        # Operators of many operands are one level, not one per operand.
        pending += [(child, depth + 1) for child in node.children]


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
    elif isinstance(node, tree.Range):
        name = field or DEFAULT_FIELD
        for bound in (_bound(node.low), _bound(node.high)):
            try:
                if bound != "*":
                    _as_number(name, bound)
            except ValueError:
                kind = "a date or RFC 3339 time" if name == "created_at" else "a number"
                raise InvalidArgument(f"invalid filters: range bound {bound!r} of {name!r} "
                                      f"is not {kind}") from None
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


def term_text(value: Any) -> str:
    """The text a term compares with a value: JSON numbers are doubles, so 3.0 reads as "3"."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _present(value: Any) -> bool:
    """What `field:*` asks of one value."""
    return value not in ("", None)


def meta_term(path: str, text: str) -> str:
    """The name of the index of the conversations whose metadata `path` holds `text`."""
    return f"{path}={text}"


def metadata_terms(document: dict[str, Any]) -> tuple[set[str], set[tuple[str, str]]]:
    """The indexed terms of a conversation's metadata `document`: the paths `metadata.<path>:*`
    matches, and (path, text) for every scalar (or list element) `metadata.<path>:<text>`
    matches. Mirrors `matches`, which the filter tests hold it to."""
    paths: set[str] = set()
    terms: set[tuple[str, str]] = set()

    def walk(prefix: str, value: Any) -> None:
        values = value if isinstance(value, list) else [value]
        if any(_present(v) for v in values):
            paths.add(prefix)
        for item in values:
            if item is not None and not isinstance(item, (dict, list)):
                terms.add((prefix, term_text(item)))
        if isinstance(value, dict):
            for key, child in value.items():
                walk(f"{prefix}.{key}", child)

    for key, value in document.items():
        if key not in UNINDEXED_METADATA:
            walk(key, value)
    return paths, terms


def _term_matches(field: str, pattern: str, values: list[Any]) -> bool:
    if pattern == "*":
        return any(_present(v) for v in values)
    texts = [term_text(v) for v in values if v is not None and not isinstance(v, (dict, list))]
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
    within = _score_range("value", field, node)
    for value in values:
        try:
            number = _as_number(field, str(value))
        except ValueError:
            continue
        if within.holds(number):
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
    """The index set of `kind` and `value`, a sorted set of conversation ids scored by activity:
    "channel", "source", "tag", "state" (value: the id or name), "unread" (no value), "has"
    (value: a metadata path that is present), "meta" (value: `<path>=<text>`), "gram" (a name
    trigram, narrowing only); kind "all" is every conversation, "id" the one with that id."""

    kind: str
    value: str = ""


@dataclass(frozen=True)
class ScoreRange:
    """The conversations whose `kind` ("created" time in ms, "unread_count", a metadata "value")
    lies in a range; None is an open end."""

    kind: str
    low: float | None
    high: float | None
    include_low: bool = True
    include_high: bool = True

    def holds(self, value: float | None) -> bool:
        """True when `value` (None: no value) lies in the range (NaN never does)."""
        if value is None or math.isnan(value):
            return False
        if self.low is not None and (value < self.low or (value == self.low and not self.include_low)):
            return False
        return self.high is None or value < self.high or (value == self.high and self.include_high)


@dataclass(frozen=True)
class ValueMatch:
    """The conversations whose metadata `path` holds a text matching the wildcard `pattern`, or
    a number in the range `within`: the union of the "meta" indexes of the path's texts that
    do. The store keeps a lexical registry of each path's texts, so this reads the texts (those
    starting with the pattern's literal start, if it has one), not the conversations."""

    path: str
    pattern: str | None = None
    within: ScoreRange | None = None

    def holds(self, text: str) -> bool:
        """True when a value whose term text is `text` matches (as `matches` decides)."""
        if self.pattern is not None:
            return _term_matches(f"metadata.{self.path}", self.pattern, [text])
        assert self.within is not None
        try:
            return self.within.holds(float(text))
        except ValueError:
            return False

    def literal_start(self) -> str:
        """What every matching text starts with ("" for a range or a leading wildcard)."""
        return re.split(r"[*?\[]", self.pattern, maxsplit=1)[0] if self.pattern else ""


@dataclass(frozen=True)
class SetOp:
    """`op` ("and", "or", "not") over index plans."""

    op: str
    operands: tuple[Plan, ...]


Plan = IndexSet | ValueMatch | ScoreRange | SetOp


def _metadata_path(field: str | None) -> str | None:
    """The indexed metadata path a field names, or None."""
    if field is None or not field.startswith("metadata."):
        return None
    path = field.removeprefix("metadata.")
    return None if path.split(".", 1)[0] in UNINDEXED_METADATA else path


def _score_range(kind: str, field: str, node: tree.Range) -> ScoreRange:
    low, high = _bound(node.low), _bound(node.high)
    return ScoreRange(kind, None if low == "*" else _as_number(field, low),
                      None if high == "*" else _as_number(field, high),
                      node.include_low, node.include_high)


def _term_plan(field: str, value: str) -> Plan | None:
    """The index of one exact term (`value` without wildcards, or a lone `*`), or None."""
    if value == "*":
        if field == "id":
            return IndexSet("all")
        path = _metadata_path(field)
        return IndexSet("has", path) if path is not None else None
    if field == "display_name" and (fragment := re.fullmatch(r"\*([^*?]{3})\*", value)):
        # A name holds a 3-character fragment exactly when that trigram is one of its own.
        return IndexSet("gram", fragment.group(1).lower())
    path = _metadata_path(field)
    if "*" in value or "?" in value:
        return ValueMatch(path, pattern=value) if path is not None else None
    if field in INDEXED:
        return IndexSet(INDEXED[field], value)
    if field == "id":
        return IndexSet("id", value)
    if field == "unread_count":
        try:
            count = float(value)
        except ValueError:
            return None
        return ScoreRange("unread_count", count, count)
    return IndexSet("meta", meta_term(path, value)) if path is not None else None


def index_plan(node: tree.Item, field: str | None = None) -> Plan | None:
    """Set algebra over indexes equivalent to `node`, or None when a part has no index."""
    if isinstance(node, tree.SearchField):
        return index_plan(node.expr, ALIASES.get(node.name, node.name))
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
        # Conversations with unread messages have an index of their own, scored by activity.
        return (IndexSet("unread") if unread and node.high.value == "*"
                else _score_range("unread_count", field, node))
    if isinstance(node, tree.Range) and field in RANGED:
        return _score_range(RANGED[field], field, node)
    if isinstance(node, tree.Range) and (path := _metadata_path(field)) is not None:
        return ValueMatch(path, within=_score_range("value", field, node))
    if isinstance(node, (tree.Word, tree.Phrase)) and field is not None:
        return _term_plan(field, node.value.strip('"'))
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
        return narrowing_plan(node.expr, ALIASES.get(node.name, node.name))
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
