"""The `filters` query language of /conversations.list: Lucene syntax, parsed by luqum.

Fields: `id`, `channel_id`, `source`, `display_name` (case-insensitive), `created_at`,
`unread_count`, `tag_ids`, `state`, `metadata.<path>`; terms with `*`/`?` wildcards, ranges
`[a TO b]`, `{a TO b}` and `*` for an open end (numbers, or for `created_at` dates and
RFC 3339 times, quoted or with escaped colons: `created_at:["2026-01-01T10:00:00Z" TO *]`);
`AND`, `OR`, `NOT`/`-`, parentheses, `field:(a OR b)`. Terms side by side without
an operator combine with AND. A term without a field matches `display_name`.

`parse` checks a query and bounds its size; `store.search.plan` turns it into index set algebra
and `store.search.match` evaluates it on one conversation.
"""

from __future__ import annotations

from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser

from runtime import timestamps
from runtime.errors import InvalidArgument

FIELDS = ("id", "channel_id", "source", "display_name", "created_at", "unread_count", "tag_ids",
          "state")
DEFAULT_FIELD = "display_name"

#: Bounds of one query, so that no read can take the store for long (or recurse without end):
#: its length in characters, its terms and ranges, and how deeply it nests (parentheses, NOT).
MAX_QUERY_CHARS = 8192
MAX_QUERY_TERMS = 256
MAX_QUERY_DEPTH = 32


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
        for bound in (bound_text(node.low), bound_text(node.high)):
            try:
                if bound != "*":
                    as_number(name, bound)
            except ValueError:
                kind = "a date or RFC 3339 time" if name == "created_at" else "a number"
                raise InvalidArgument(f"invalid filters: range bound {bound!r} of {name!r} "
                                      f"is not {kind}") from None
    for child in node.children:
        _check(child, field)


def as_number(field: str, text: str) -> float:
    """The number a range bound or value `text` of `field` is (a time in ms for `created_at`);
    ValueError when it is none."""
    if field == "created_at":
        if len(text) == 10:  # a date: midnight UTC
            text += "T00:00:00Z"
        return float(timestamps.parse_ms(text))
    return float(text)


def bound_text(item: tree.Item) -> str:
    """The text of a range bound."""
    # A time bound has colons: quoted ("2026-01-01T10:00:00Z") or escaped (10\:00) in Lucene.
    return str(item.value).strip('"').replace("\\", "")
