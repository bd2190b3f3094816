"""OpenTelemetry traces. A request's trace context (W3C `traceparent`) flows from Envoy, which
starts or continues it, through the services (gRPC metadata), Kafka (record headers), the
translator and the projector into the event log, and on to the event stream that serves it.
Spans are exported over OTLP/HTTP when `PARLEY_OTLP_ENDPOINT` is set; without it nothing is
recorded, but a caller's context still flows (OpenTelemetry's no-op tracer keeps it).

Spans: each unary gRPC call (server), each raw webhook translated, each record projected, each
event a stream serves."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import grpc
from aiokafka import ConsumerRecord
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from runtime.interceptors import Wrap, WrappingInterceptor
from runtime.settings import Settings

#: The header (gRPC metadata, Kafka record, event log field) that carries the context.
TRACEPARENT = "traceparent"
TRACER = trace.get_tracer("parley")
#: Kafka record headers as aiokafka takes and gives them.
Headers = Iterable[tuple[str, bytes]]


def setup(settings: Settings, process: str) -> None:
    """Export this process's spans to `PARLEY_OTLP_ENDPOINT` (nothing when it is empty)."""
    if not settings.otlp_endpoint:
        return
    # Imported only here: the exporter brings an HTTP client every process (and the CLI) would
    # load for nothing without an endpoint.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    resource = Resource.create({"service.name": f"parley-{process.split('-')[0]}",
                                "service.instance.id": settings.instance or process})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(
        endpoint=f"{settings.otlp_endpoint.rstrip('/')}/v1/traces", timeout=5)))
    trace.set_tracer_provider(provider)


def carried(parent: context.Context | None = None) -> dict[str, str]:
    """The W3C headers of `parent` (the current context by default); {} outside any trace."""
    carrier: dict[str, str] = {}
    if in_trace(parent):  # (most records are written outside any: no propagator runs for them)
        propagate.inject(carrier, context=parent)
    return carrier


def kafka_headers() -> list[tuple[str, bytes]]:
    """Headers for a record written now: the current trace context, when there is one."""
    return [(name, value.encode()) for name, value in carried().items()]


def from_headers(headers: Headers | None) -> context.Context:
    """The trace context a Kafka record's headers carry (an empty one when none)."""
    return propagate.extract({name: value.decode(errors="replace")
                              for name, value in headers or () if name in (TRACEPARENT,
                                                                           "tracestate")})


def from_traceparent(traceparent: str) -> context.Context:
    """The context of one `traceparent` value ("" : an empty one)."""
    return propagate.extract({TRACEPARENT: traceparent} if traceparent else {})


def in_trace(parent: context.Context | None) -> bool:
    """True when `parent` (the current context when None) carries a trace (Parley continues traces; it starts none itself, so
    health checks and records written outside any request stay out of them)."""
    return trace.get_current_span(parent).get_span_context().is_valid


@contextmanager
def span_under(name: str, parent: context.Context,
               kind: trace.SpanKind = trace.SpanKind.INTERNAL,
               attributes: Mapping[str, str] | None = None) -> Iterator[None]:
    """A span `name` in `parent`'s trace, current for the block; nothing outside a trace."""
    if not in_trace(parent):
        yield
        return
    with TRACER.start_as_current_span(name, context=parent, kind=kind, attributes=attributes):
        yield


def record_span(name: str, record: ConsumerRecord[Any, Any]) -> trace.Span:
    """A started span (end it) for work on a Kafka record, in the trace its headers carry; a
    span that records nothing when they carry none."""
    if not any(name == TRACEPARENT for name, _ in record.headers or ()):
        return trace.INVALID_SPAN  # (the common case, on the projector's path: decode nothing)
    parent = from_headers(record.headers)
    if not in_trace(parent):
        return trace.INVALID_SPAN
    return TRACER.start_span(name, context=parent, kind=trace.SpanKind.CONSUMER)


def traceparent_of(span: trace.Span) -> str:
    """`span`'s context as a `traceparent` value ("" for a span outside any trace)."""
    if not span.get_span_context().is_valid:
        return ""
    return carried(trace.set_span_in_context(span)).get(TRACEPARENT, "")


def _metadata_context(context_: grpc.aio.ServicerContext) -> context.Context:
    return propagate.extract({key: value for key, value in context_.invocation_metadata() or ()
                              if isinstance(value, str)})


class TracingInterceptor(WrappingInterceptor):
    """Each unary call a server span in its caller's trace (Envoy's, through the metadata).
    Streams last for as long as they are read: each event they serve has its span instead
    (`served`)."""

    def wrappers(self, method: str) -> tuple[Wrap, Wrap]:
        name = method.strip("/")

        def unary(inner: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            async def call(request: Any, context_: grpc.aio.ServicerContext) -> Any:
                with span_under(name, _metadata_context(context_), trace.SpanKind.SERVER,
                                {"rpc.system": "grpc", "rpc.method": name}):
                    return await inner(request, context_)
            return call

        return unary, (lambda inner: inner)


def served(event_type: str, traceparent: str) -> None:
    """A span for an event a stream just served, in the trace of the record it came from."""
    if traceparent:
        now = time.time_ns()
        TRACER.start_span(f"serve {event_type}", context=from_traceparent(traceparent),
                          kind=trace.SpanKind.PRODUCER, start_time=now).end(end_time=now)
