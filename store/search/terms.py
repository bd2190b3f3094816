"""The terms a conversation is indexed and matched under (pure).

A served conversation's filterable values (`conversation_fields`), the text a term compares with
a value (`term_text`, `term_matches`), the terms of its metadata document that have indexes
(`metadata_terms`, `meta_term`) and the trigrams of its display name (`name_grams`). The
projector writes the indexes from these (`store.search.index_writes`) and a query is matched and
planned with them (`store.search.match`, `store.search.plan`), so both agree on what a term is.
"""

from __future__ import annotations

import fnmatch
from typing import Any

#: Conversation metadata paths without term indexes: the read marker changes on every mark-read,
#: and the served `contact` and `unread_count` are not (only) the stored document's.
UNINDEXED_METADATA = ("read_until", "contact", "unread_count")

Fields = dict[str, list[Any]]


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


def term_matches(field: str, pattern: str, values: list[Any]) -> bool:
    """True when one of `values` of `field` matches the term `pattern` (`*`/`?` wildcards;
    `display_name` case-insensitively; a lone `*`: the field has a value)."""
    if pattern == "*":
        return any(_present(v) for v in values)
    texts = [term_text(v) for v in values if v is not None and not isinstance(v, (dict, list))]
    if field == "display_name":
        pattern, texts = pattern.lower(), [t.lower() for t in texts]
    if "*" in pattern or "?" in pattern:
        return any(fnmatch.fnmatchcase(t, pattern) for t in texts)
    return pattern in texts


def name_grams(text: str) -> set[str]:
    """The trigrams of a display name (lower case): the index that narrows `display_name:*x*`."""
    lowered = text.lower()
    return {lowered[i:i + 3] for i in range(len(lowered) - 2)}
