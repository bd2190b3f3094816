"""Secrets kept in local files (the admin token, the local broker's SCRAM password)."""

from __future__ import annotations

import os
from pathlib import Path


def write_secret(path: Path, secret: str) -> None:
    """Write `secret` to `path` (its folder made), readable by its owner only from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret)
