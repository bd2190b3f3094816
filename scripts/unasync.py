"""Generate the SDK's blocking client from its asyncio one, as httpcore does: `sdk/parley/_async/`
-> `sdk/parley/_sync/`, by replacing what differs (async/await, grpc.aio, asyncio.sleep, Async
names). `python scripts/unasync.py [out]` writes into `out` (default: the repo); the contract
tests regenerate into a temporary folder and fail on any drift."""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "sdk" / "parley" / "_async"
#: (pattern, replacement), applied in order.
REPLACEMENTS: list[tuple[str, str]] = [
    (r"parley\._async\.", "parley._sync."),
    (r"\bAsync(?=[A-Z])", ""),
    (r"\basync def ", "def "),
    (r"\basync for ", "for "),
    (r"\basync with ", "with "),
    (r"\bawait ", ""),
    (r"\bgrpc\.aio\.", "grpc."),
    (r"\basyncio\.sleep\b", "time.sleep"),
    (r"^import asyncio$", "import time"),
    (r"\baclosing\b", "closing"),
    (r"__aenter__", "__enter__"),
    (r"__aexit__", "__exit__"),
    (r", for asyncio:", ", with blocking calls:"),
]


def unasync(text: str, name: str) -> str:
    """The blocking version of the asyncio module `name`'s `text`."""
    lines = [line for line in text.splitlines() if "scripts/unasync.py" not in line]
    for pattern, replacement in REPLACEMENTS:
        lines = [re.sub(pattern, replacement, line) for line in lines]
    banner = f"# Generated from sdk/parley/_async/{name} by scripts/unasync.py: edit that file.\n"
    return banner + "\n".join(lines) + "\n"


def main(out: Path) -> None:
    """Write the blocking modules under `out`/sdk/parley/_sync/."""
    target = out / "sdk" / "parley" / "_sync"
    target.mkdir(parents=True, exist_ok=True)
    for module in sorted(SOURCE.glob("*.py")):
        (target / module.name).write_text(unasync(module.read_text(), module.name))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO)
