"""`python -m bench`: starts a stack of its own (ports 2xxxx, `.data/bench/`), measures, stops it.

Figures:
- webhook -> message visible in /messages.list (sequential, through Envoy): p50, p95, max;
- webhooks accepted per second (concurrent signed POSTs, each acknowledged by Kafka);
- /messages.list of a 1000-message conversation, newest page and a deep cursor page: p50, p99.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

import aiohttp
import httpx
from rich.console import Console
from rich.table import Table

from runtime import settings as settings_module
from stack import stack
from tests.conftest import TEST_ENV
from tests.integration import webhooks
from tests.integration.helpers import eventually, message_record, produce_messages

REPO = Path(__file__).resolve().parent.parent
console = Console()


def _environment() -> None:
    os.environ.update(TEST_ENV)
    os.environ.update({
        "PARLEY_DATA_DIR": str(REPO / ".data" / "bench"), "PARLEY_NAMESPACE": "bench",
        "PARLEY_HTTP_PORT": "28080", "PARLEY_ENVOY_ADMIN_PORT": "29901",
        "PARLEY_GRPC_BASE_PORT": "52061", "PARLEY_KAFKA_PORT": "29092",
        "PARLEY_REDIS_URL": "redis://127.0.0.1:26379/0",
    })


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return (statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1],
            ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])


def webhook_to_visible(base: str, rounds: int = 100) -> list[float]:
    """Seconds from POSTing a webhook to seeing its message in /messages.list."""
    first = webhooks.facebook(text="warm-up")
    first.connect(base)
    latencies = []
    with httpx.Client(timeout=10) as client:
        for i in range(rounds):
            hook = webhooks.facebook(text=f"m{i}", sent_at_ms=1_700_000_000_000 + i,
                                     page=first.source_channel_id, psid=first.contact)
            started = time.perf_counter()
            assert client.post(f"{base}/facebook", content=hook.body, headers=hook.headers).status_code == 200
            while True:
                body = client.post(f"{base}/messages.list",
                                   json={"conversation_id": hook.conversation_id, "page_size": 1}).json()
                if body.get("data") and body["data"][-1]["content"]["text"] == f"m{i}":
                    break
                time.sleep(0.002)
            latencies.append(time.perf_counter() - started)
    return latencies


async def accepted_per_second(base: str, total: int = 2000, concurrency: int = 16) -> float:
    """Signed webhooks acknowledged per second (each after Kafka's ack)."""
    first = webhooks.facebook()
    first.connect(base)
    hooks = [webhooks.facebook(text=f"x{i}", page=first.source_channel_id) for i in range(total)]
    queue: asyncio.Queue[webhooks.Webhook] = asyncio.Queue()
    for hook in hooks:
        queue.put_nowait(hook)

    async def worker(client: aiohttp.ClientSession) -> None:
        while not queue.empty():
            hook = queue.get_nowait()
            async with client.post(f"{base}/facebook", data=hook.body, headers=hook.headers) as reply:
                assert reply.status == 200

    # aiohttp, not httpx: httpx costs more CPU per request than the server under test.
    async with aiohttp.ClientSession() as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


def list_latency(base: str, messages: int = 1000, calls: int = 300) -> dict[str, list[float]]:
    """Latency of the newest page and of a page 40 pages deep, in a 1000-message conversation."""
    settings = settings_module.load()
    conversation = webhooks.facebook().conversation_id
    asyncio.run(produce_messages(settings, [
        message_record(conversation, 1_700_000_000_000 + i, f"n{i}") for i in range(messages)]))
    eventually(lambda: httpx.post(f"{base}/messages.list", json={"conversation_id": conversation},
                                  timeout=10).json().get("pagination_data", {}).get("total") == messages,
               timeout=120)
    cursor = ""
    with httpx.Client(timeout=10) as client:
        for _ in range(40):
            cursor = client.post(f"{base}/messages.list", json={
                "conversation_id": conversation, "cursor": cursor}).json()["pagination_data"]["next_cursor"]
        figures: dict[str, list[float]] = {"newest page": [], "page 40 deep": []}
        for name, page_cursor in (("newest page", ""), ("page 40 deep", cursor)):
            for _ in range(calls):
                started = time.perf_counter()
                client.post(f"{base}/messages.list",
                            json={"conversation_id": conversation, "cursor": page_cursor})
                figures[name].append(time.perf_counter() - started)
    return figures


def main() -> None:
    """Bring the bench stack up, measure, print, bring it down."""
    _environment()
    settings = settings_module.load()
    before = {c.name for c in stack.status(settings) if c.pid is not None}
    console.print("starting the bench stack ...")
    stack.up(settings)
    base = f"http://127.0.0.1:{settings.http_port}"
    try:
        table = Table("figure", "p50", "p95", "p99 / max", title=f"Parley bench ({os.cpu_count()} cores)")
        visible = webhook_to_visible(base)
        p50, p95, _ = _percentiles(visible)
        table.add_row("webhook -> visible in messages.list (ms)", f"{p50 * 1e3:.1f}",
                      f"{p95 * 1e3:.1f}", f"max {max(visible) * 1e3:.1f}")
        rate = asyncio.run(accepted_per_second(base))
        table.add_row("webhooks accepted (req/s, 16 concurrent)", f"{rate:.0f}", "", "")
        for name, samples in list_latency(base).items():
            p50, p95, p99 = _percentiles(samples)
            table.add_row(f"messages.list {name}, 1000 msgs (ms)", f"{p50 * 1e3:.2f}",
                          f"{p95 * 1e3:.2f}", f"{p99 * 1e3:.2f}")
        console.print(table)
    finally:
        started = {c.name for c in stack.status(settings) if c.pid is not None} - before
        stack.down(settings, only=started)


if __name__ == "__main__":
    main()
