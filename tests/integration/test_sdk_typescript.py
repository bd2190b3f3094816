"""The TypeScript SDK (sdk-ts/, built by `make sdk-ts`) against the live stack, over gRPC-web
through Envoy: its own Node suite (calls, paging, typed errors, event stream and resume), its
follower example across a gateway restart with no gap, and its browser example page in Chromium
on an origin the edge allows."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import queue
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from runtime.settings import Settings
from stack import processes, services
from tests.conftest import CORS_PAGE_PORT
from tests.integration.browser import chromium, serving
from tests.integration.helpers import message_record, produce_messages

SDK = Path(__file__).resolve().parents[2] / "sdk-ts"
EXAMPLE = SDK / "examples" / "browser"


@pytest.fixture(scope="module")
def node_env(live_stack: Settings) -> dict[str, str]:
    """Where the SDK's programs find Parley: the stack's public port and its admin token."""
    built = SDK / "dist" / "src" / "index.js"
    if not built.exists():
        pytest.fail(f"{built} is missing: build the TypeScript SDK with `make sdk-ts`")
    return {**os.environ, "PARLEY_URL": f"http://127.0.0.1:{live_stack.http_port}"}


def test_the_sdks_node_suite_passes(node_env: dict[str, str]) -> None:
    done = subprocess.run(["node", "--test", "dist/test/"], cwd=SDK, env=node_env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # Every test of the suite ran and passed (none skipped).
    declared = len(re.findall(r"^test\(", (SDK / "test" / "client.test.ts").read_text(), re.M))
    assert f"# pass {declared}\n" in done.stdout and "# skipped 0\n" in done.stdout, done.stdout


class Follower:
    """The follower example on a conversation, its printed lines read as they come."""

    def __init__(self, conversation_id: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(["node", "dist/examples/follow.js", conversation_id],
                                        cwd=SDK, env=env, stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def next(self, count: int, timeout_s: float = 60) -> list[dict]:
        """The next `count` lines; a failure when they do not come in `timeout_s`."""
        try:
            return [self.lines.get(timeout=timeout_s) for _ in range(count)]
        except queue.Empty:
            raise AssertionError(f"the follower printed fewer than {count} lines") from None

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def test_the_follower_resumes_after_a_gateway_restart_with_no_gap(
        live_stack: Settings, node_env: dict[str, str]) -> None:
    conversation_id = str(uuid.uuid4())

    def write(first: int, count: int) -> None:
        asyncio.run(produce_messages(live_stack, [
            message_record(conversation_id, 1_700_000_000_000 + i, f"e{i}")
            for i in range(first, first + count)]))

    follower = Follower(conversation_id, node_env)
    try:
        # Subscribed once a first message comes through (the stream starts live, so the first
        # is written again until one is seen).
        received: list[dict] = []
        while not received:
            write(0, 1)
            with contextlib.suppress(AssertionError):
                received = follower.next(1, timeout_s=2)
        write(1, 4)
        received += follower.next(4)
        # The gateway goes away; messages keep coming while it is down.
        processes.stop(live_stack.data_dir, "gateway")
        write(5, 5)
        services.start(live_stack, "gateway")
        received += follower.next(5)
        time.sleep(1)
        assert follower.lines.empty()  # (a repeat would show here)
    finally:
        follower.stop()
    assert [r["text"] for r in received] == [f"e{i}" for i in range(10)]
    assert {r["conversation_id"] for r in received} == {conversation_id}


@pytest.fixture(scope="module")
def example_page() -> Iterator[str]:
    """The browser example, served on the origin the test stack allows."""
    files = {"/dist/main.js": ((EXAMPLE / "dist" / "main.js").read_bytes(),
                               "application/javascript")}
    with serving((EXAMPLE / "index.html").read_text(), CORS_PAGE_PORT, files=files) as (url,):
        yield url


def test_the_browser_example_lists_and_follows_live(live_stack: Settings, example_page: str,
                                                    base_url: str) -> None:
    conversation_id = str(uuid.uuid4())
    asyncio.run(produce_messages(live_stack, [
        message_record(conversation_id, 1_700_000_000_000, "before the page")]))
    with chromium() as browser:
        page = browser.new_page()
        page.goto(example_page)
        page.fill("#base-url", base_url)
        page.fill("#token", os.environ["PARLEY_TOKEN"])
        page.click("button")
        page.wait_for_selector("body[data-state=listed]", timeout=20_000)
        assert page.locator("#conversations li").count() > 0
        assert page.text_content("#error") == ""
        # A message arriving now shows up without a reload.
        text = f"live {uuid.uuid4().hex[:8]}"
        deadline_ms = 20_000
        while deadline_ms > 0:
            # (Playwright's loop runs in this thread: the producer gets one of its own.)
            with ThreadPoolExecutor(1) as thread:
                thread.submit(asyncio.run, produce_messages(live_stack, [
                    message_record(conversation_id, 1_700_000_001_000, text)])).result()
            try:
                page.wait_for_selector(f"#events li:has-text('{text}')", timeout=2_000)
                break
            except Exception:  # noqa: BLE001 - Playwright's timeout: the stream was not open yet
                deadline_ms -= 2_000
        assert f"{conversation_id}: {text}" in page.locator("#events li").all_text_contents()
