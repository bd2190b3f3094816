"""Every server setting is declared once, README's table is the one generated from the
declarations, and no service reads a `PARLEY_*` variable beside them."""

from __future__ import annotations

import re
from pathlib import Path

from runtime.settings_table import DECLARED, README, table, with_table

REPO = Path(__file__).resolve().parent.parent.parent
#: The packages of the services and the local stack (the clients, examples and test suites
#: read their own variables).
SERVER_PACKAGES = ("auth", "gateway", "ingest", "messaging", "runtime", "sources", "stack", "store")
DIRECT_READ = re.compile(r"""(environ\.get|getenv)\(\s*["']PARLEY_""")


def test_readme_table_is_the_generated_one() -> None:
    readme = README.read_text()
    assert with_table(readme, table()) == readme, (
        "README.md's settings table differs from the settings' declarations: run "
        "`make settings-doc` (.venv/bin/python -m runtime.settings_table --write)")


def test_every_setting_is_declared_once() -> None:
    names = [setting.env for setting in DECLARED]
    assert sorted(name for name in set(names) if names.count(name) > 1) == []


def test_no_service_reads_a_setting_beside_its_declaration() -> None:
    found = [f"{path.relative_to(REPO)}:{number}"
             for package in SERVER_PACKAGES for path in sorted((REPO / package).rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if DIRECT_READ.search(line)]
    assert found == [], "read these through their declaration (runtime.setting.Setting.read)"
