"""Prometheus metrics of a service process, served at `/metrics` on its gRPC port plus
`PARLEY_METRICS_PORT_OFFSET`: its gRPC calls (rate, errors, latency by method), the lag of its
Kafka consumers by group and partition, how long records take to be projected, webhook deliveries
and outbound messages by outcome. Each process reports what it does itself; sum over the
replicas (Prometheus's `instance` label) for the install's figures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import grpc
import prometheus_client
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError

from runtime.interceptors import Wrap, WrappingInterceptor
from runtime.settings import Settings

# Counters and histograms without their `_created` series (noise for these dashboards).
prometheus_client.disable_created_metrics()

#: Latency buckets of a call or a hop, in seconds: 1 ms to 10 s.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = prometheus_client.Counter(
    "parley_grpc_requests", "gRPC calls handled, by service, method and status code "
    "(a stream counts when it ends)", ["service", "method", "code"])
LATENCY = prometheus_client.Histogram(
    "parley_grpc_request_duration_seconds", "time to answer a unary gRPC call, by service and "
    "method", ["service", "method"], buckets=BUCKETS)
CONSUMER_LAG = prometheus_client.Gauge(
    "parley_kafka_consumer_lag", "records between a consumer's position and the end of each "
    "partition it reads, by consumer group, topic and partition", ["group", "topic", "partition"])
PROJECTION_DELAY = prometheus_client.Histogram(
    "parley_projection_delay_seconds", "time from a record's append to Kafka to its projection "
    "into Redis", buckets=BUCKETS)
WEBHOOK_DELIVERIES = prometheus_client.Counter(
    "parley_webhook_deliveries", "outcomes of outbound webhook attempts: delivered, retry (failed, "
    "tried again later), failed (given up or no longer subscribed)", ["outcome"])
WEBHOOK_LATENCY = prometheus_client.Histogram(
    "parley_webhook_attempt_duration_seconds", "time of one outbound webhook POST", buckets=BUCKETS)
SENDS = prometheus_client.Counter(
    "parley_messages_sent", "outbound messages by source and outcome (delivered, failed)",
    ["source", "outcome"])


def serve(settings: Settings, process: str) -> None:
    """Serve this process's metrics (a thread of prometheus_client's), unless they are off."""
    port = settings.metrics_port(process)
    if port is None:
        return
    try:
        prometheus_client.start_http_server(port, addr=settings.bind_host or "0.0.0.0")
    except OSError as exc:
        raise RuntimeError(f"{process}: cannot serve metrics on port {port} ({exc}); another "
                           "PARLEY_METRICS_PORT_OFFSET moves them, 0 turns them off") from exc


def _names(method: str) -> tuple[str, str]:
    """("parley.v1.TagsService", "ListTags") of "/parley.v1.TagsService/ListTags"."""
    service, _, name = method.strip("/").partition("/")
    return service, name


def _code(context: grpc.aio.ServicerContext, failed: bool) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    return "UNKNOWN" if failed else "OK"


class MetricsInterceptor(WrappingInterceptor):
    """Counts every call by its status code, and times the unary ones."""

    def wrappers(self, method: str) -> tuple[Wrap, Wrap]:
        service, name = _names(method)

        def unary(inner: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
                started, failed = time.perf_counter(), True
                try:
                    answer = await inner(request, context)
                    failed = False
                    return answer
                finally:
                    LATENCY.labels(service, name).observe(time.perf_counter() - started)
                    REQUESTS.labels(service, name, _code(context, failed)).inc()
            return call

        def stream(inner: Callable[..., AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
            async def call(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                failed = True
                try:
                    async for item in inner(request, context):
                        yield item
                    failed = False
                finally:
                    REQUESTS.labels(service, name, _code(context, failed)).inc()
            return call

        return unary, stream


#: How long a lag update waits for a partition's position (it has one after any fetch).
POSITION_WAIT_S = 0.1


class ConsumerLag:
    """The lag of one consumer, `parley_kafka_consumer_lag`, updated after each fetch: only the
    partitions it holds now (a rebalance moves a partition's series to its new reader)."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.reported: set[TopicPartition] = set()

    async def update(self, consumer: AIOKafkaConsumer) -> None:
        """Set the lag of each partition `consumer` holds and has fetched from."""
        held = consumer.assignment()
        for gone in self.reported - held:
            CONSUMER_LAG.remove(self.group, gone.topic, str(gone.partition))
        self.reported &= held
        for partition in held:
            end = consumer.highwater(partition)
            if end is None:  # nothing fetched yet: its position may not be known
                continue
            try:  # known at once after a fetch; never wait for it here
                position = await asyncio.wait_for(consumer.position(partition), POSITION_WAIT_S)
            except (IllegalStateError, TimeoutError):  # revoked meanwhile, or being reset
                continue
            CONSUMER_LAG.labels(self.group, partition.topic, str(partition.partition)).set(
                max(0, end - position))
            self.reported.add(partition)


def projected(records: Iterable[ConsumerRecord[Any, Any]]) -> None:
    """Observe the projection delay of `records`, just projected."""
    now_ms = time.time() * 1000
    for record in records:
        PROJECTION_DELAY.observe(max(0.0, now_ms - record.timestamp) / 1000)
