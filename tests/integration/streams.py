"""Reading realtime event streams in tests: SSE frames, and a thread that collects a stream."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import httpx

from tests.integration.helpers import api_headers


def sse_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The events of an SSE stream: {id, event, data} per frame; comments are skipped."""
    frame: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "data" in frame:
                yield frame
            frame = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            frame[name] = json.loads(value) if name == "data" else value


class Listener:
    """Reads a stream in a thread and hands over what it gets."""

    def __init__(self, items: Iterator[Any]) -> None:
        self.items: queue.Queue[Any] = queue.Queue()
        self.thread = threading.Thread(target=self._read, args=(items,), daemon=True)
        self.thread.start()

    def _read(self, items: Iterator[Any]) -> None:
        try:
            for item in items:
                self.items.put(item)
        except (httpx.HTTPError, grpc.RpcError):
            pass  # closed by the test

    def take(self, count: int, timeout: float = 20) -> list[Any]:
        return [self.items.get(timeout=timeout) for _ in range(count)]

    def nothing_more(self, wait: float = 1.5) -> bool:
        try:
            self.items.get(timeout=wait)
        except queue.Empty:
            return True
        return False


def sse(base_url: str, params: dict[str, Any], headers: dict[str, str] | None = None,
        path: str = "/events.subscribe") -> tuple[Listener, httpx.Client]:
    """A GET of an SSE stream (/events.subscribe by default), read by a Listener (close the
    client to end it)."""
    client = httpx.Client(timeout=httpx.Timeout(10, read=30))
    opened: queue.Queue[int] = queue.Queue()

    def frames() -> Iterator[dict[str, Any]]:
        # The API's stream needs the API token; the chat plugin's takes the visitor's (params).
        token = api_headers() if path == "/events.subscribe" else {}
        with client.stream("GET", f"{base_url}{path}", params=params,
                           headers={"accept": "text/event-stream", **token,
                                    **(headers or {})}) as reply:
            opened.put(reply.status_code)
            yield from sse_events(reply.iter_lines())

    listener = Listener(frames())
    assert opened.get(timeout=10) == 200
    return listener, client
