"""Metadata documents: deep merge and removal by key path (pure functions)."""

from __future__ import annotations

from typing import Any


def deep_merge(document: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """`document` with `update` merged in by key path: nested objects merge, every other value
    replaces; keys absent from `update` (siblings) are kept. Neither argument is changed."""
    merged = dict(document)
    for key, value in update.items():
        current = merged.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def remove_path(document: dict[str, Any], path: str) -> dict[str, Any]:
    """`document` without the key at dot-separated `path` (unchanged when absent)."""
    head, _, rest = path.partition(".")
    if head not in document:
        return document
    trimmed = dict(document)
    if not rest:
        del trimmed[head]
    elif isinstance(trimmed[head], dict):
        trimmed[head] = remove_path(trimmed[head], rest)
    return trimmed
