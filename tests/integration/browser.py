"""A real headless Chromium (Debian's, driven by Playwright) and web pages of other origins than
the API's, for the tests of what browsers do."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
#: As root in a container, and without reaching out to Google's services (this network is closed).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed afterwards."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def serving(html: str, port: int, hosts: tuple[str, ...] = ("127.0.0.1",),
            files: dict[str, tuple[bytes, str]] | None = None) -> Iterator[list[str]]:
    """`html` served at `/` on `port` of each of `hosts` (each its own origin), and `files` (path:
    body and content type) beside it; their URLs."""
    served = {"/": (html.encode(), "text/html; charset=utf-8"), **(files or {})}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body, content_type = served.get(self.path, (b"not found", "text/plain"))
            self.send_response(200 if self.path in served else 404)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    servers = [ThreadingHTTPServer((host, port), Handler) for host in hosts]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield [f"http://{host}:{port}/" for host in hosts]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
