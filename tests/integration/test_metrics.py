"""Metrics, by scraping them: every service process's `/metrics` (gRPC calls by method and code,
consumer lag by group and partition, projection delay, webhook delivery and send outcomes) and
the test stack's Prometheus (`PARLEY_PROMETHEUS_PORT`), which scrapes every process and Envoy."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ingest import translator_worker
from messaging import outbox, sender
from runtime.settings import PROCESS_OF_SERVICE, Settings
from stack import prometheus
from tests.conftest import FAKE_APIS_PORT
from tests.integration import webhooks
from tests.integration.fake_source_apis import GRAPH_ERROR, Answer, FakeSourceApis, serving
from tests.integration.helpers import (Samples, eventually, message_record, post,
                                      produce_messages, scrape)

#: The fake source APIs (sends) and a webhook receiver, on ports of their own.
RECEIVER_PORT = FAKE_APIS_PORT - 1
def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples that carry `labels`."""
    wanted = set(labels.items())
    return sum(value for (found, have), value in samples.items()
               if found == name and wanted <= have)


def everywhere(settings: Settings, name: str, **labels: str) -> float:
    """`total` over every service process."""
    return sum(total(scrape(settings, process), name, **labels)
               for process in settings.process_names())


def test_every_process_serves_its_metrics(live_stack: Settings) -> None:
    for process in live_stack.process_names():
        port = live_stack.metrics_port(process)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        families = {family.name for family in text_string_to_metric_families(text)}
        assert {"parley_grpc_requests", "parley_grpc_request_duration_seconds",
                "parley_kafka_consumer_lag", "process_cpu_seconds"} <= families, process
    # Envoy answers its health checks on every service process: counted by method and code.
    assert total(scrape(live_stack, "store"), "parley_grpc_requests_total",
                 service="grpc.health.v1.Health", method="Check", code="OK") > 0


def test_calls_are_counted_by_method_and_code_and_timed(live_stack: Settings,
                                                        base_url: str) -> None:
    process = PROCESS_OF_SERVICE["ConversationsService"]
    labels = {"service": "parley.v1.ConversationsService"}
    before = scrape(live_stack, process)
    for _ in range(3):
        assert post(base_url, "/conversations.list", {"page_size": 1}).status_code == 200
    for _ in range(2):
        missing = {"conversation_id": str(uuid.uuid4())}
        assert post(base_url, "/conversations.info", missing).status_code == 404
    assert post(base_url, "/conversations.list", {"filters": "unread_count:["}).status_code == 400
    after = scrape(live_stack, process)

    def grown(name: str, **more: str) -> float:
        return total(after, name, **labels, **more) - total(before, name, **labels, **more)

    assert grown("parley_grpc_requests_total", method="ListConversations", code="OK") == 3
    assert grown("parley_grpc_requests_total", method="GetConversation", code="NOT_FOUND") == 2
    assert grown("parley_grpc_requests_total", method="ListConversations",
                 code="INVALID_ARGUMENT") == 1
    assert grown("parley_grpc_request_duration_seconds_count", method="ListConversations") == 4
    assert grown("parley_grpc_request_duration_seconds_sum", method="GetConversation") > 0


def test_consumer_lag_by_partition_and_projection_delay(live_stack: Settings) -> None:
    projectors = [p for p in live_stack.process_names() if p.startswith("projector-")]
    delayed_before = sum(total(scrape(live_stack, p), "parley_projection_delay_seconds_count")
                         for p in projectors)
    conversations = [str(uuid.uuid4()) for _ in range(8)]
    asyncio.run(produce_messages(live_stack, [
        message_record(c, 1_700_000_000_000 + i, f"lag {i}") for i, c in enumerate(conversations)]))

    def caught_up() -> dict[str, list[tuple[int, float]]] | None:
        """Per projector, the (partition, lag) of the messages topic it reads, once all are 0."""
        lags: dict[str, list[tuple[int, float]]] = {}
        for process in projectors:
            for (name, labels), value in scrape(live_stack, process).items():
                found = dict(labels)
                if name == "parley_kafka_consumer_lag" and found["topic"].endswith(".messages"):
                    lags.setdefault(process, []).append((int(found["partition"]), value))
        done = all(lag == 0 for partitions in lags.values() for _, lag in partitions)
        return lags if done else None

    lags = eventually(caught_up)
    # Each partition is reported once, by the projector that reads it.
    reported = sorted(p for partitions in lags.values() for p, _ in partitions)
    assert reported == list(range(live_stack.topic_partitions))
    delayed = sum(total(scrape(live_stack, p), "parley_projection_delay_seconds_count")
                  for p in projectors)
    assert delayed - delayed_before >= len(conversations)
    # The other consumers report theirs: the translators, the outbox, the senders.
    for process, group in (("ingest", translator_worker.GROUP), ("messaging", outbox.GROUP),
                           ("messaging", sender.GROUP)):
        groups = {dict(labels)["group"] for (name, labels) in scrape(live_stack, process)
                  if name == "parley_kafka_consumer_lag"}
        assert group in groups, (process, groups)


@pytest.fixture(scope="module")
def outside() -> Iterator[tuple[FakeSourceApis, FakeSourceApis]]:
    """The sources' fake APIs and a webhook receiver."""
    with serving(FAKE_APIS_PORT) as apis, serving(RECEIVER_PORT) as receiver:
        yield apis, receiver


def _outcomes(settings: Settings) -> dict[str, float]:
    """The install's counts of Messenger sends and webhook attempts, by outcome."""
    return {
        "delivered": everywhere(settings, "parley_messages_sent_total", source="facebook",
                                outcome="delivered"),
        "failed": everywhere(settings, "parley_messages_sent_total", source="facebook",
                             outcome="failed"),
        "hook ok": everywhere(settings, "parley_webhook_deliveries_total", outcome="delivered"),
        "hook retry": everywhere(settings, "parley_webhook_deliveries_total", outcome="retry"),
    }


def test_send_and_webhook_delivery_outcomes(live_stack: Settings, base_url: str,
                                            outside: tuple[FakeSourceApis, FakeSourceApis]) -> None:
    apis, receiver = outside
    before = _outcomes(live_stack)
    # A receiver that fails once, then takes the event.
    name = f"metrics-{uuid.uuid4().hex[:8]}"
    receiver.script(name, Answer(500))
    hook = post(base_url, "/webhooks.subscribe", {
        "url": f"http://127.0.0.1:{RECEIVER_PORT}/hooks/{name}", "events": ["tag.updated"]})
    assert hook.status_code == 200, hook.text
    assert post(base_url, "/tags.create", {"name": name, "color": "tag-blue"}).status_code == 200
    # A Messenger conversation: one send delivered, one refused by the source.
    messenger = webhooks.facebook(text="metrics, please")
    messenger.connect(base_url)
    assert messenger.post(base_url).status_code == 200
    eventually(lambda: post(base_url, "/conversations.info",
                            {"conversation_id": messenger.conversation_id}).status_code == 200)
    for tries, answers in enumerate(((), (Answer(400, GRAPH_ERROR),)), start=1):
        apis.script(messenger.contact, *answers)
        sent = post(base_url, "/messages.send", {"conversation_id": messenger.conversation_id,
                                                 "message": {"text": "hi"}})
        assert sent.status_code == 200, sent.text
        eventually(partial(lambda count: len(apis.to(messenger.contact)) == count, tries))

    def grown() -> dict[str, float] | None:
        now = _outcomes(live_stack)
        deltas = {key: now[key] - before[key] for key in now}
        return deltas if all(deltas.values()) else None

    deltas = eventually(grown)
    assert (deltas["delivered"], deltas["failed"]) == (1, 1)
    # (Webhooks subscribed by other tests may take the same events: at least this one's.)
    assert deltas["hook ok"] >= 1 and deltas["hook retry"] >= 1
    assert len(receiver.to(name)) == 2
    post(base_url, "/webhooks.unsubscribe", {"id": hook.json()["id"]})


def _query(settings: Settings, promql: str) -> list[dict[str, Any]]:
    reply = httpx.get(f"{prometheus.url(settings)}/api/v1/query", params={"query": promql},
                      timeout=5)
    assert reply.status_code == 200, reply.text
    return list(reply.json()["data"]["result"])


def test_prometheus_scrapes_every_process_and_envoy(live_stack: Settings) -> None:
    jobs = {*live_stack.process_names(), "envoy"}

    def all_up() -> set[str] | None:
        up = {r["metric"]["job"] for r in _query(live_stack, "up == 1")}
        return up if up == jobs else None

    assert eventually(all_up, timeout=30) == jobs
    # The queries README shows answer: calls by service, and Envoy's own requests.
    rates = eventually(lambda: _query(live_stack, "sum by (job) (parley_grpc_requests_total)"))
    assert {r["metric"]["job"] for r in rates} >= {"store", "gateway", "auth"}
    assert eventually(lambda: _query(live_stack, "envoy_http_downstream_rq_total"))
