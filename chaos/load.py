"""The steady load `make chaos` keeps on the cluster while it breaks it, and what the load saw:
signed webhooks (retried until a 2xx, as the sources do), API sends (retried with their
idempotency key), reads, and an SSE subscriber that resumes with its last event id."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from tests.integration import webhooks
from tests.integration.streams import sse_events

#: Conversations the webhooks and sends spread over.
CONVERSATIONS = 30
#: The subscriber stops once the stream has been this quiet after the load stopped.
QUIET_S = 15.0


@dataclass
class Seen:
    """What the load did and saw, shared by its threads (under `lock`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Texts of the webhooks a 2xx accepted, by conversation id.
    accepted: dict[str, list[str]] = field(default_factory=dict)
    #: Ids and texts of the messages the API accepted to send.
    sent: dict[str, str] = field(default_factory=dict)
    #: Requests that failed (a status or a connection error) before a retry, by kind.
    failed: Counter[str] = field(default_factory=Counter)
    #: Requests answered 2xx, by kind.
    answered: Counter[str] = field(default_factory=Counter)
    #: The longest a request took until a 2xx (its retries included), by kind; reset per fault.
    slowest: dict[str, float] = field(default_factory=dict)
    #: `message.created` events the SSE subscriber got, by message id.
    events: Counter[str] = field(default_factory=Counter)
    #: Times the SSE subscriber resumed.
    resumed: int = 0


class Load:
    """Runs the load's threads until `stop`."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"authorization": f"Bearer {token}"}
        self.seen = Seen()
        self.stopping = threading.Event()
        self.page = "9" + str(uuid.uuid4().int)[:14]
        self.contacts = [f"8{i:02d}{uuid.uuid4().int % 10**13:013d}" for i in range(CONVERSATIONS)]
        self.subscribed = threading.Event()
        self.subscriber = threading.Thread(target=self._subscriber, daemon=True)
        self.threads = [threading.Thread(target=target, daemon=True) for target in (
            self._webhooks, self._webhooks, self._sends, self._reads)]

    def conversation(self, contact: str) -> str:
        """The conversation id of `contact` on the load's page."""
        return webhooks.facebook(page=self.page, psid=contact).conversation_id

    def start(self) -> None:
        """Connect the load's channel, then start every thread."""
        hook = webhooks.facebook(page=self.page, psid=self.contacts[0])
        reply = httpx.post(f"{self.base_url}{hook.connect_path}", json=hook.connect_body,
                           headers=self.headers, timeout=30)
        reply.raise_for_status()
        self.subscriber.start()
        if not self.subscribed.wait(30):
            raise RuntimeError("the SSE subscriber could not subscribe")
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """Stop every thread; the subscriber last, once the stream has been quiet a while."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)
        self.subscriber.join(timeout=120)

    def _count(self, kind: str, ok: bool) -> None:
        with self.seen.lock:
            (self.seen.answered if ok else self.seen.failed)[kind] += 1

    def _until_accepted(self, kind: str, call: Any) -> httpx.Response | None:
        """`call()` again until it answers 2xx (None if the load stops first)."""
        started = time.monotonic()
        while True:
            try:
                reply = call()
                if reply.status_code < 300:
                    self._count(kind, True)
                    took = time.monotonic() - started
                    with self.seen.lock:
                        self.seen.slowest[kind] = max(self.seen.slowest.get(kind, 0.0), took)
                    return reply  # type: ignore[no-any-return]
            except httpx.TransportError:
                pass
            self._count(kind, False)
            if self.stopping.is_set():
                return None
            time.sleep(0.2)

    def _webhooks(self) -> None:
        n = 0
        while not self.stopping.is_set():
            contact = self.contacts[n % len(self.contacts)]
            text = f"{contact} {uuid.uuid4().hex[:8]}"
            hook = webhooks.facebook(text=text, page=self.page, psid=contact,
                                     sent_at_ms=int(time.time() * 1000))
            if self._until_accepted("webhook", partial(hook.post, self.base_url)) is not None:
                with self.seen.lock:
                    self.seen.accepted.setdefault(hook.conversation_id, []).append(text)
            n += 1

    def _sends(self) -> None:
        n = 0
        while not self.stopping.is_set():
            time.sleep(0.3)
            conversation = self.conversation(self.contacts[n % len(self.contacts)])
            with self.seen.lock:
                if conversation not in self.seen.accepted:
                    continue  # the contact has not written yet
            text, key = f"reply {uuid.uuid4().hex[:8]}", uuid.uuid4().hex
            body = {"conversation_id": conversation, "message": {"text": text},
                    "idempotency_key": key}
            reply = self._until_accepted("send", partial(
                httpx.post, f"{self.base_url}/messages.send", json=body, headers=self.headers,
                timeout=30))
            if reply is not None:
                with self.seen.lock:
                    self.seen.sent[reply.json()["id"]] = text
            n += 1

    def _reads(self) -> None:
        while not self.stopping.is_set():
            self._until_accepted("read", lambda: httpx.post(
                f"{self.base_url}/conversations.list", json={"page_size": 20},
                headers=self.headers, timeout=30))
            time.sleep(0.05)

    def _subscriber(self) -> None:
        last_id = ""
        quiet_since = time.monotonic()

        def lines(reply: httpx.Response) -> Iterator[str]:
            # After the others stop, it reads on until the stream has been quiet a while.
            for line in reply.iter_lines():
                if self.stopping.is_set() and time.monotonic() - quiet_since > QUIET_S:
                    return
                yield line

        while not (self.stopping.is_set() and time.monotonic() - quiet_since > QUIET_S):
            headers = {**self.headers, "accept": "text/event-stream",
                       **({"last-event-id": last_id} if last_id else {})}
            try:
                with httpx.stream("GET", f"{self.base_url}/events.subscribe", headers=headers,
                                  params={"types": ["message.created"]},
                                  timeout=httpx.Timeout(10, read=10)) as reply:
                    if reply.status_code == 200:
                        self.subscribed.set()
                    for frame in sse_events(lines(reply)):
                        last_id = frame.get("id", last_id)
                        quiet_since = time.monotonic()
                        message = frame["data"]["payload"]["message"]
                        with self.seen.lock:
                            self.seen.events[message["id"]] += 1
            except (httpx.HTTPError, json.JSONDecodeError, KeyError):
                pass
            if not self.stopping.is_set():
                with self.seen.lock:
                    self.seen.resumed += 1
                time.sleep(0.2)
