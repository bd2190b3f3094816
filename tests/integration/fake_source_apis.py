"""Local fakes of the sources' send APIs (Graph API, WhatsApp Cloud, Twilio, Viber, Google), of
the Graph API's lookups (a person's profile, `GET /<source>/<id>`; a user's Pages, `GET
/facebook/me/accounts`), of webhook receivers (`/hooks/<name>`) and of custom sources' action
endpoints (`/actions/<name>`): one HTTP server that records every request and answers success, or
what a test scripted for a recipient (an HTTP status and body, after a delay). A lookup's
recipient is the person's id, or the user token whose Pages are asked for."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: The Graph API's answer to a send it refuses (a permanent failure: the message fails).
GRAPH_ERROR = {"error": {"message": "(#100) No matching user found", "type": "OAuthException",
                         "code": 100, "error_subcode": 2018001, "fbtrace_id": "Abc"}}


@dataclass(frozen=True)
class Received:
    """One request a fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    recipient: str

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass(frozen=True)
class Answer:
    """What the fake answers: `status` and `body` (JSON), after `delay_s`."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    delay_s: float = 0.0


def _recipient(path: str, body: bytes) -> str:
    source = path.split("/")[1]
    if source in ("hooks", "actions"):  # a webhook receiver or action endpoint: its name
        return path.split("/")[2]
    if source == "google":
        return path.split("/conversations/")[1].split("/")[0]
    if source == "twilio":
        return parse_qs(body.decode()).get("To", [""])[0].removeprefix("whatsapp:")
    data = json.loads(body)
    return str({"facebook": data.get("recipient", {}).get("id"), "instagram":
                data.get("recipient", {}).get("id"), "whatsapp": data.get("to"),
                "viber": data.get("receiver")}.get(source, ""))


#: Source message ids unique across test runs too (the test stack's data outlives a run).
_ids = itertools.count(int(time.time() * 1000) * 1000)


def _success(path: str, recipient: str) -> Answer:
    n = next(_ids)
    source = path.split("/")[1]
    if source == "hooks":
        return Answer(204)
    if source == "actions":
        return Answer(200, {"source_message_id": f"custom-{n}"})
    if source in ("facebook", "instagram"):
        return Answer(200, {"recipient_id": recipient, "message_id": f"m_fake{n}"})
    if source == "whatsapp":
        return Answer(200, {"messaging_product": "whatsapp",
                            "contacts": [{"input": recipient, "wa_id": recipient}],
                            "messages": [{"id": f"wamid.fake{n}"}]})
    if source == "twilio":
        return Answer(201, {"sid": f"SMfake{n:030d}", "status": "queued"})
    if source == "viber":
        return Answer(200, {"status": 0, "status_message": "ok",
                            "message_token": 5741311803571721087 + n})
    message_id = f"google-fake-{n}"
    return Answer(200, {"name": f"conversations/{recipient}/messages/{message_id}",
                        "messageId": message_id, "text": "..."})


def _lookup_recipient(path: str, query: dict[str, list[str]]) -> str:
    if path.endswith("/me/accounts"):
        return query.get("access_token", [""])[0]
    return path.rsplit("/", 1)[1]


def _found(path: str, recipient: str) -> Answer:
    if path.endswith("/me/accounts"):
        return Answer(200, {"data": []})
    if path.startswith("/instagram/"):
        return Answer(200, {"name": f"Insta {recipient}", "profile_pic": f"https://example.org/{recipient}.jpg"})
    return Answer(200, {"first_name": "Fake", "last_name": recipient,
                        "profile_pic": f"https://example.org/{recipient}.jpg"})


class FakeSourceApis:
    """The fakes, served on 127.0.0.1:`port` under /<source>/... ."""

    def __init__(self, port: int) -> None:
        self.received: list[Received] = []
        self.scripts: dict[str, list[Answer]] = {}
        self.lock = threading.Lock()
        fakes = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                url = urlsplit(self.path)
                self.answer("POST", body, _recipient(url.path, body), _success)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                self.answer("GET", b"", _lookup_recipient(url.path, parse_qs(url.query)), _found)

            def answer(self, method: str, body: bytes, recipient: str,
                       default: Callable[[str, str], Answer]) -> None:
                url = urlsplit(self.path)
                with fakes.lock:
                    fakes.received.append(Received(method, url.path, parse_qs(url.query),
                                                   {k.lower(): v for k, v in self.headers.items()},
                                                   body, recipient))
                    script = fakes.scripts.get(recipient)
                    answer = script.pop(0) if script else default(url.path, recipient)
                time.sleep(answer.delay_s)
                payload = json.dumps(answer.body).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up waiting (a timeout the test asked for)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def script(self, recipient: str, *answers: Answer) -> None:
        """Answer the next requests for `recipient` with `answers`, then with success."""
        with self.lock:
            self.scripts[recipient] = list(answers)

    def to(self, recipient: str) -> list[Received]:
        """The requests received for `recipient`, oldest first."""
        with self.lock:
            return [r for r in self.received if r.recipient == recipient]


@contextmanager
def serving(port: int) -> Iterator[FakeSourceApis]:
    """The fakes on 127.0.0.1:`port` for the duration of the block."""
    fakes = FakeSourceApis(port)
    fakes.start()
    try:
        yield fakes
    finally:
        fakes.stop()
