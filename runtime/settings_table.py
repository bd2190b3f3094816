"""README's table of settings, generated from their declarations.

    python -m runtime.settings_table           # print the table
    python -m runtime.settings_table --write   # rewrite it in README.md (`make settings-doc`)

The table sits in README.md between `BEGIN` and `END`; what is around it is left as it is.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sources
from runtime import service_settings, settings
from runtime.setting import Setting

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
#: Every server setting, in the table's order.
DECLARED: tuple[Setting[Any], ...] = (
    *settings.DECLARED, *sources.DECLARED, *service_settings.DECLARED)


def table(declared: Iterable[Setting[Any]] = DECLARED) -> str:
    """The Markdown table of `declared`: variable, default, meaning."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{s.env}` | {s.shown_default()} | {s.doc} |" for s in declared]
    return "\n".join(rows) + "\n"


def with_table(readme: str, generated: str) -> str:
    """`readme` with the text between its markers replaced by `generated`; ValueError when it
    lacks them."""
    head, begin, rest = readme.partition(BEGIN + "\n")
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"README.md needs the lines {BEGIN} and {END} around the settings table")
    return head + begin + generated + end + tail


def main() -> None:
    """Print the table, or write it into README.md (`--write`)."""
    parser = argparse.ArgumentParser(description="README's table of settings")
    parser.add_argument("--write", action="store_true", help="rewrite the table in README.md")
    if parser.parse_args().write:
        README.write_text(with_table(README.read_text(), table()))
    else:
        print(table(), end="")


if __name__ == "__main__":
    main()
