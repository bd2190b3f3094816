"""Index plans of a parsed `filters` query (pure): the set algebra over the store's indexes that
answers it (`index_plan`), or a superset of its answer to evaluate further (`narrowing_plan`).

Every field has an index for its exact terms (`metadata.<path>` included), and `created_at` and
`unread_count` for their ranges; `metadata.<path>` wildcards and ranges are answered from the
texts the path holds (`ValueMatch`). Only wildcards of the other fields and `display_name`
patterns other than a 3-character fragment (`*ann*`, one trigram index) are evaluated, on the
conversations their indexes leave. `store.search.set_algebra` runs a plan in Redis.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from luqum import tree

from store.search.query import DEFAULT_FIELD, as_number, bound_text
from store.search.terms import UNINDEXED_METADATA, meta_term, name_grams, term_matches

#: Fields whose terms have an index set: name of the index per field.
INDEXED = {"channel_id": "channel", "source": "source", "tag_ids": "tag", "state": "state",
           "metadata.state": "state"}
#: Fields whose ranges have a sorted set of their values: name of the set per field.
RANGED = {"created_at": "created", "unread_count": "unread_count"}
#: Metadata paths that are fields of their own, planned as those.
ALIASES = {"metadata.unread_count": "unread_count", "metadata.contact.display_name": "display_name"}


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
        if self.low is not None and (
                value < self.low or (value == self.low and not self.include_low)):
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
            return term_matches(f"metadata.{self.path}", self.pattern, [text])
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


def score_range(kind: str, field: str, node: tree.Range) -> ScoreRange:
    """The range `node` of `field` (numbers; times in ms for `created_at`), as `kind`."""
    low, high = bound_text(node.low), bound_text(node.high)
    return ScoreRange(kind, None if low == "*" else as_number(field, low),
                      None if high == "*" else as_number(field, high),
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
                else score_range("unread_count", "unread_count", node))
    if isinstance(node, tree.Range) and field in RANGED:
        return score_range(RANGED[field], field, node)
    if isinstance(node, tree.Range) and field and (path := _metadata_path(field)) is not None:
        return ValueMatch(path, within=score_range("value", field, node))
    if isinstance(node, (tree.Word, tree.Phrase)) and field is not None:
        return _term_plan(field, node.value.strip('"'))
    return None


def _name_plan(pattern: str) -> Plan | None:
    # Every literal stretch of 3+ characters between wildcards must occur in a matching name.
    grams = set().union(
        *(name_grams(part) for part in re.split(r"[*?]", pattern) if len(part) >= 3))
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
        options = [narrowing_plan(c, field) for c in node.children]
        known = tuple(p for p in options if p is not None)
        return SetOp("or", known) if len(known) == len(options) else None
    if isinstance(node, (tree.Word, tree.Phrase)) and (field or DEFAULT_FIELD) == "display_name":
        return _name_plan(node.value.strip('"'))
    return None
