"""Traces (the test stack exports to tests/integration/otlp_collector.py): a webhook sent in a
caller's trace is followed by spans of Envoy, the ingest service, the translator, the projector
and the event stream that serves its message, each the child of the one before."""

from __future__ import annotations

import secrets
import threading

import parley
from runtime.settings import Settings
from tests.integration import webhooks
from tests.integration.helpers import eventually
from tests.integration.otlp_collector import Collector, Span


def _follow(target: str, conversation_id: str, seen: list[str]) -> None:
    """Read the conversation's first message.created event (the stream of the trace's end)."""
    with parley.Client(target) as client:
        for event in client.events.subscribe(["message.created"], conversation_id=conversation_id):
            found = parley.message_event(event)
            seen.append(found.message.text or "" if found else "")
            return


def test_a_webhooks_trace_runs_from_envoy_to_the_event_stream(
        live_stack: Settings, base_url: str, otlp_collector: Collector) -> None:
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    otlp_collector.watch(trace_id)
    hook = webhooks.facebook(text="trace me")
    hook.connect(base_url)
    seen: list[str] = []
    follower = threading.Thread(target=_follow, args=(
        f"127.0.0.1:{live_stack.http_port}", hook.conversation_id, seen), daemon=True)
    follower.start()
    # The stream is open once a first event passes; until then the webhook is sent again (the
    # same message: applied once).
    while not seen:
        reply = hook.post(base_url, headers={**hook.headers,
                                             "traceparent": f"00-{trace_id}-{caller_span}-01"})
        assert reply.status_code == 200
        follower.join(timeout=2)
    assert seen == ["trace me"]

    def chain(spans: list[Span], span: Span) -> list[Span]:
        """The spans from the trace's root down to `span`."""
        by_id = {each.span_id: each for each in spans}
        path = [span]
        while path[0].parent_span_id in by_id:
            path.insert(0, by_id[path[0].parent_span_id])
        return path

    def complete() -> list[Span] | None:
        """The path to the served event's span, once it reaches back to the caller's span."""
        spans = otlp_collector.spans(trace_id)
        served = [span for span in spans if span.name == "serve message.created"]
        path = chain(spans, served[0]) if served else []
        return path if path and path[0].parent_span_id == caller_span else None

    # (Envoy and the services export every few seconds.)
    path = eventually(complete, timeout=30)
    # Envoy continued the caller's trace; each hop is the child of the one before.
    assert [(span.service, span.name.split(" ")[0]) for span in path] == [
        ("parley-envoy", "ingress"),
        ("parley-ingest", "parley.v1.IngestService/ReceiveFacebookWebhook"),
        ("parley-ingest", "translate"), ("parley-projector", "project"),
        ("parley-gateway", "serve")], path
    assert (path[2].name, path[3].name) == ("translate facebook", "project parley.messages")
