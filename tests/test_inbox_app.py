"""The web app's pure parts (inbox/src/filters.ts, content.ts: the list's query, what a message
of each source shows) by its own Vitest suite; the app itself is driven in Chromium by
tests/integration/test_inbox.py and test_control_center.py."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

INBOX = Path(__file__).resolve().parents[1] / "inbox"


def test_the_apps_vitest_suite_passes(tmp_path: Path) -> None:
    if not (INBOX / "node_modules" / ".bin" / "vitest").exists():
        pytest.fail("inbox/node_modules is missing: build the web app with `make inbox`")
    report = tmp_path / "vitest.json"
    done = subprocess.run(["npx", "vitest", "run", "--reporter=json", f"--outputFile={report}"],
                          cwd=INBOX, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    found = json.loads(report.read_text())
    # Every test declared ran and passed: none skipped, none left out.
    declared = sum(len(re.findall(r"^\s*it\(", path.read_text(), re.M))
                   for path in (INBOX / "test").glob("*.test.ts"))
    assert declared > 10
    assert (found["numPassedTests"], found["numTotalTests"], found["numPendingTests"]) == (
        declared, declared, 0)
