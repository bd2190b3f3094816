"""A stand-in for an OpenTelemetry collector (an observability backend is the outside world to
Parley): it takes OTLP/HTTP trace exports, protobuf, as Envoy and the services send them, and
keeps the spans of the traces a test asks about."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse)


@dataclass(frozen=True)
class Span:
    """One exported span: who sent it, its name, and where it sits in its trace."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str


class Collector:
    """Spans received, by trace id (hex); only those of traces being watched are kept."""

    def __init__(self) -> None:
        self.watched: dict[str, list[Span]] = {}
        self.lock = threading.Lock()

    def watch(self, trace_id: str) -> None:
        """Keep the spans of `trace_id` from now on."""
        with self.lock:
            self.watched.setdefault(trace_id, [])

    def spans(self, trace_id: str) -> list[Span]:
        """The spans of a watched trace received so far."""
        with self.lock:
            return list(self.watched.get(trace_id, []))

    def take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = next((a.value.string_value for a in resource_spans.resource.attributes
                            if a.key == "service.name"), "")
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    trace_id = span.trace_id.hex()
                    with self.lock:
                        if trace_id in self.watched:
                            self.watched[trace_id].append(Span(
                                service, span.name, trace_id, span.span_id.hex(),
                                span.parent_span_id.hex()))


@contextmanager
def collecting(port: int) -> Iterator[Collector]:
    """A collector on 127.0.0.1:`port` (POST /v1/traces), stopped afterwards."""
    collector = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            collector.take(self._body())
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def _body(self) -> bytes:
            """The request's body, sized or chunked (Envoy's exports are chunked)."""
            if "chunked" not in self.headers.get("transfer-encoding", ""):
                return self.rfile.read(int(self.headers.get("content-length", 0)))
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield collector
    finally:
        server.shutdown()
        server.server_close()
