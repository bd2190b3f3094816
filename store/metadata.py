"""Metadata documents: deep merge by key path (pure functions)."""

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
