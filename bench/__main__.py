"""`python -m bench`: measures Parley twice, on a single Redis and on a local Redis Cluster of three
primaries (`PARLEY_BENCH_REDIS=single|cluster|both`, default both). Each run brings up a fresh
stack of its own (ports 2xxxx; `.data/bench/`, or `.data/bench-cluster/` with the cluster the
bench starts on ports 26400-26402, whose cluster buses (36400-36402) stay clear of the test
clusters'), measures, and stops it (and the cluster).

Each table holds both runs, a row per figure and Redis (column `redis`: "single" or
"cluster (3 primaries)"):
- ingestion and realtime: webhook -> message visible in /messages.list (sequential, through
  Envoy): p50, p95, max; webhook -> its `message.created` event on an SSE stream through Envoy,
  at a steady rate: p50, p99; webhooks accepted per second (concurrent signed POSTs, each
  acknowledged by Kafka);
- reads, at 10k messages over 1k conversations, then 1M over 100k (loaded through Kafka): req/s,
  its share of a trivial RPC's (tags.list, the ceiling of the path) in the same run, p50 and p99
  of messages.list and conversations.list (plain, filtered by indexes, evaluated), measured with
  wrk through Envoy's JSON;
- store, at each size: Redis `used_memory` grown since before the first load, per message
  (summed over the cluster's primaries), and the messages of that load projected per second (from
  its first write to Kafka until the projectors applied all) with the seconds they took after
  the load's last ack; at the largest, `parley rebuild` (every record replayed into a new
  generation, nothing else loading): records per second, per projector (one on the single
  Redis, two on the cluster);
- reprocessing, last: `parley reprocess facebook` of its raw topic, which then holds the
  webhooks posted above and as many more raw Messenger webhooks as there are conversations at
  full size (20k at least), written as the ingest service writes them: raw events per second.

`PARLEY_BENCH_CONVERSATIONS` scales the sizes down for a quick run.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import httpx
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table

import redis
from bench import limits, load, wrk
from bench.report import TRIVIAL, Run, targets
from runtime import redis as runtime_redis
from ingest.reprocess import reprocess
from store.rebuild import rebuild, wait_projected
from auth.manage import ADMIN_TOKEN_FILE

from runtime import settings as settings_module
from stack import processes, redis_cluster, stack
from tests.conftest import TEST_ENV
from tests.integration import webhooks
from tests.integration.helpers import api_headers

REPO = Path(__file__).resolve().parent.parent
console = Console(width=200)


def _environment(target: Target) -> None:
    os.environ.update(TEST_ENV)
    os.environ.pop("PARLEY_REDIS_CLUSTER_NODES", None)
    if target.cluster:
        os.environ["PARLEY_REDIS_CLUSTER_NODES"] = target.cluster.nodes_setting()
    os.environ.update({
        "PARLEY_DATA_DIR": str(REPO / ".data" / target.folder), "PARLEY_NAMESPACE": "bench",
        "PARLEY_HTTP_PORT": "28080", "PARLEY_ENVOY_ADMIN_PORT": "29901",
        "PARLEY_GRPC_BASE_PORT": "25061", "PARLEY_KAFKA_PORT": "29092",
        "PARLEY_OBJECTSTORE_PORT": "28333",
        "PARLEY_REDIS_URL": "redis://127.0.0.1:26379/0",
        # The bench measures what the platform can do, not the edge's per-client rate limits.
        "PARLEY_EDGE_RATE_PER_TOKEN": "1000000", "PARLEY_EDGE_RATE_PER_ADDRESS": "1000000",
        "PARLEY_EDGE_RATE_WEBHOOKS": "1000000",
        "PARLEY_PROJECTORS": str(target.projectors),
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
                body = client.post(f"{base}/messages.list", headers=api_headers(),
                                   json={"conversation_id": hook.conversation_id, "page_size": 1}).json()
                if body.get("data") and body["data"][-1]["content"]["text"] == f"m{i}":
                    break
                time.sleep(0.002)
            latencies.append(time.perf_counter() - started)
    return latencies


def webhook_to_sse(base: str, rate_per_s: float = 20, count: int = 400) -> list[float]:
    """Seconds from POSTing a webhook to reading its event on an SSE stream (GET through Envoy),
    with webhooks posted at a steady `rate_per_s`."""
    first = webhooks.facebook(text="warm-up")
    first.connect(base)
    posted: dict[str, float] = {}
    latencies: list[float] = []
    opened = threading.Event()

    def listen() -> None:
        params = {"types": "message.created", "conversation_id": first.conversation_id}
        with httpx.stream("GET", f"{base}/events.subscribe", params=params, headers=api_headers(),
                          timeout=httpx.Timeout(10, read=60)) as reply:
            opened.set()
            for line in reply.iter_lines():
                if line.startswith("data: "):
                    text = json.loads(line[6:])["payload"]["message"]["content"]["text"]
                    if text in posted:
                        latencies.append(time.perf_counter() - posted[text])
                    if len(latencies) == count:
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    opened.wait(10)
    time.sleep(0.5)
    with httpx.Client(timeout=10) as client:
        started = time.perf_counter()
        for i in range(count):
            time.sleep(max(0.0, started + i / rate_per_s - time.perf_counter()))
            hook = webhooks.facebook(text=f"sse{i}", sent_at_ms=1_700_000_000_000 + i,
                                     page=first.source_channel_id, psid=first.contact)
            posted[hook.text] = time.perf_counter()
            assert client.post(f"{base}/facebook", content=hook.body, headers=hook.headers).status_code == 200
    listener.join(30)
    return latencies


def signed_hooks(base: str, total: int = 2000) -> list[webhooks.Webhook]:
    """`total` signed Messenger webhooks of one connected page."""
    first = webhooks.facebook()
    first.connect(base)
    return [webhooks.facebook(text=f"x{i}", page=first.source_channel_id) for i in range(total)]


async def posted_per_second(url: str, hooks: list[webhooks.Webhook],
                            concurrency: int = 16) -> float:
    """`hooks` POSTed to `url` by `concurrency` clients at once, per second (each answered 200:
    at Parley, after Kafka's ack)."""
    queue: asyncio.Queue[webhooks.Webhook] = asyncio.Queue()
    for hook in hooks:
        queue.put_nowait(hook)

    async def worker(client: aiohttp.ClientSession) -> None:
        while not queue.empty():
            hook = queue.get_nowait()
            async with client.post(url, data=hook.body, headers=hook.headers) as reply:
                assert reply.status == 200

    # aiohttp, not httpx: httpx costs more CPU per request than the server under test.
    async with aiohttp.ClientSession() as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return len(hooks) / (time.perf_counter() - started)


MESSAGES_PER_CONVERSATION = 10


def _stage(settings: settings_module.Settings, conversations: list[str], per: int
           ) -> tuple[float, float]:
    """Load `per` messages into each of `conversations`; wait until the store projected them.
    Return the seconds loading took (the projectors apply meanwhile), then waiting after it."""
    started = time.perf_counter()
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task(f"loading {len(conversations) * per:,} messages through Kafka",
                            total=len(conversations) * per)
        asyncio.run(load.load(settings, conversations, per, 0,
                              lambda done: bar.update(task, completed=done)))
        loaded = time.perf_counter()
        task = bar.add_task("projecting into Redis", total=None)

        async def projected() -> None:
            redis = runtime_redis.client(settings)
            try:
                await wait_projected(settings, redis, lambda d, t: bar.update(task, completed=d, total=t),
                                     timeout_s=3600)
            finally:
                await redis.aclose()

        asyncio.run(projected())
    return loaded - started, time.perf_counter() - loaded




def _reads(base: str, conversation: str) -> dict[str, wrk.Figures]:
    """wrk figures of each read path at the current size."""
    cases: list[tuple[str, str, dict[str, Any]]] = [
        (TRIVIAL, "/tags.list", {}),
        ("messages.list, newest page", "/messages.list", {"conversation_id": conversation}),
        ("conversations.list, newest page", "/conversations.list", {}),
        ("conversations.list unread_count:[1 TO *]", "/conversations.list",
         {"filters": "unread_count:[1 TO *]"}),
        ("conversations.list channel_id:bench-channel-3", "/conversations.list",
         {"filters": "channel_id:bench-channel-3"}),
        ("conversations.list display_name:*abc* (trigram index)", "/conversations.list",
         {"filters": "display_name:*abc*"}),
        ("conversations.list metadata.crm.tier:gold", "/conversations.list",
         {"filters": "metadata.crm.tier:gold"}),
        ("conversations.list unread_count:[2 TO 4]", "/conversations.list",
         {"filters": "unread_count:[2 TO 4]"}),
        ("conversations.list created_at:[* TO <start + 50 s>]", "/conversations.list",
         {"filters": 'created_at:[* TO "2023-11-14T22:14:10Z"]'}),
        ("conversations.list tier:gold AND channel AND NOT unread", "/conversations.list",
         {"filters": "metadata.crm.tier:gold AND channel_id:bench-channel-2 AND NOT unread_count:0"}),
        ("conversations.list metadata.crm.tier:g* (union of value indexes)", "/conversations.list",
         {"filters": "metadata.crm.tier:g*"}),
        ("conversations.list display_name:*abcd* (trigram-narrowed, evaluated)",
         "/conversations.list", {"filters": "display_name:*abcd*"}),
        ("conversations.list metadata.crm.tier:*ol* (matching texts of the path)", "/conversations.list",
         {"filters": "metadata.crm.tier:*ol*"}),
    ]
    figures = {}
    for name, path, body in cases:
        # An evaluated filter reads every candidate conversation: 2 connections, or it times out.
        connections = 2 if "evaluated" in name else 16
        figures[name] = wrk.post(f"{base}{path}", body, api_headers(), seconds=5,
                                 connections=connections)
    return figures


def _used_memory(settings: settings_module.Settings) -> int:
    """Redis' `used_memory`: the single Redis', or the sum over the cluster's primaries."""
    if not settings.redis_cluster_nodes:
        return int(redis.Redis.from_url(settings.redis_url).info("memory")["used_memory"])
    host, port = settings.redis_cluster_nodes[0]
    with redis.RedisCluster(host=host, port=port) as cluster:
        return sum(int(node.redis_connection.info("memory")["used_memory"])
                   for node in cluster.get_primaries())


@dataclass(frozen=True)
class Target:
    """A Redis the bench runs on: its label in the tables, the stack's folder (under .data/),
    and the local cluster the bench starts for it (None: the stack's own single Redis)."""

    label: str
    folder: str
    projectors: int
    cluster: redis_cluster.Layout | None = None


TARGETS = {
    "single": Target("single", "bench", 1),
    "cluster": Target("cluster (3 primaries)", "bench-cluster", 2, redis_cluster.Layout(26400)),
}


def _measure(settings: settings_module.Settings, run: Run) -> None:
    """Every figure of the running stack into `run`."""
    base = f"http://127.0.0.1:{settings.http_port}"
    visible = webhook_to_visible(base)
    p50, p95, _ = _percentiles(visible)
    run.ingestion["webhook -> visible in messages.list (ms)"] = (
        f"{p50 * 1e3:.1f}", f"p95 {p95 * 1e3:.1f}", f"max {max(visible) * 1e3:.1f}")
    for rate_per_s in (20, 200):
        streamed = webhook_to_sse(base, rate_per_s, count=20 * rate_per_s)
        p50, _, p99 = _percentiles(streamed)
        run.sse_p99_ms[rate_per_s] = p99 * 1e3
        run.ingestion[f"webhook -> message.created on SSE, {rate_per_s}/s steady (ms)"] = (
            f"{p50 * 1e3:.1f}", f"p99 {p99 * 1e3:.1f}", f"{len(streamed)} events")
    hooks = signed_hooks(base)
    rate = asyncio.run(posted_per_second(f"{base}/facebook", hooks))
    run.ingestion["webhooks accepted per second (16 concurrent)"] = ("", "", f"{rate:.0f}/s")
    _limits(settings, run, hooks, rate)

    most = int(os.environ.get("PARLEY_BENCH_CONVERSATIONS", "100000"))
    conversations = load.conversation_ids(most)
    small = conversations[: most // 100]
    # 10 messages in each of the first 1% of the conversations (10k at full size), then 10
    # in each of the others (1M in all at full size).
    before_loading = _used_memory(settings)
    for group, in_store in ((small, small), (conversations[len(small):], conversations)):
        loading, trailing = _stage(settings, group, MESSAGES_PER_CONVERSATION)
        total = len(in_store) * MESSAGES_PER_CONVERSATION
        size = f"{total:,} msgs / {len(in_store):,} convs"
        projected = len(group) * MESSAGES_PER_CONVERSATION / (loading + trailing)
        run.store[size] = ((_used_memory(settings) - before_loading) / total, projected, trailing)
        run.shares[f"projected msgs/s ({size}) vs Redis' command mix/s"] = (
            projected, run.limits[REDIS_MIX], None)
        run.reads.update({(size, name): figures
                          for name, figures in _reads(base, small[0]).items()})
    run.rebuild = _rebuild(settings)
    run.reprocess = _reprocess(settings, base, max(20_000, most))


def _rebuild(settings: settings_module.Settings) -> tuple[int, float, int]:
    """`parley rebuild`: (records replayed, seconds until the new generation served, projectors)."""
    started = time.perf_counter()
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task("parley rebuild", total=None)
        replayed = asyncio.run(rebuild(
            settings, lambda done, total: bar.update(task, completed=done, total=total),
            timeout_s=3600))
    return replayed, time.perf_counter() - started, settings.projectors


def _reprocess(settings: settings_module.Settings, base: str, more: int) -> tuple[int, float]:
    """`parley reprocess facebook` after `more` raw webhooks were added to the raw topic:
    (raw events replayed, seconds)."""
    hooks = signed_hooks(base, more)
    asyncio.run(load.raw_webhooks(settings, "facebook", [h.body for h in hooks], "application/json"))
    started = time.perf_counter()
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task("parley reprocess facebook", total=None)
        replayed = asyncio.run(reprocess(
            settings, "facebook", progress=lambda done, total: bar.update(task, completed=done, total=total)))
    return replayed, time.perf_counter() - started


REDIS_MIX = "Redis: projected-message command mix/s (redis-benchmark)"


def _limits(settings: settings_module.Settings, run: Run, hooks: list[webhooks.Webhook],
            accepted_per_s: float) -> None:
    """What the parts do alone on this machine, beside Parley's figures (`bench.limits`)."""
    with limits.trivial_envoy(settings) as trivial:
        run.limits["Envoy + trivial upstream: POST req/s (wrk, 16 conn.)"] = (
            limits.envoy_reads(trivial, api_headers()).requests_per_s)
        posted = asyncio.run(posted_per_second(f"{trivial}/facebook", hooks))
    run.limits["Envoy + trivial upstream: webhook POSTs/s (16 concurrent)"] = posted
    run.shares["webhooks accepted/s vs the same POSTs to Envoy + trivial upstream"] = (
        accepted_per_s, posted, 0.5)
    produced = limits.kafka_producer(settings, len(hooks[0].body))
    run.limits["Kafka's producer: records/s (acks=all, idempotent, webhook-sized)"] = produced
    run.shares["webhooks accepted/s vs Kafka's producer records/s"] = (
        accepted_per_s, produced, None)
    node = settings.redis_cluster_nodes[0][1] if settings.redis_cluster_nodes else int(
        settings.redis_url.rsplit(":", 1)[1].split("/")[0])
    cluster = bool(settings.redis_cluster_nodes)
    try:
        run.limits[REDIS_MIX] = limits.redis_mix(
            node, cluster, len(hooks[0].body))
    finally:
        limits.drop_mix(node, cluster)


def _bench(target: Target, run: Run) -> None:
    """Bring up a stack on `target` (in a fresh folder unless one of its runs), measure it into
    `run`, bring it down (and the cluster the bench started)."""
    _environment(target)
    settings = settings_module.load()
    ports = target.cluster.ports if target.cluster else range(0)
    before = {c.name for c in stack.status(settings) if c.pid is not None}
    if not before and not any(processes.running_pid(settings.data_dir, redis_cluster.node_name(p))
                              for p in ports):
        # A fresh store each run, so each size holds what its name says.
        shutil.rmtree(settings.data_dir, ignore_errors=True)
    cluster_started: list[int] = []
    try:
        if target.cluster:
            console.print(f"starting a Redis Cluster on ports {ports.start}-{ports.stop - 1} ...")
            cluster_started = redis_cluster.start(settings.data_dir, target.cluster)
        console.print(f"starting the bench stack on Redis {target.label} ...")
        stack.up(settings)
        # The admin token `up` made: every API call of the bench carries it.
        os.environ["PARLEY_TOKEN"] = (settings.data_dir / ADMIN_TOKEN_FILE).read_text().strip()
        _measure(settings, run)
    finally:
        started = {c.name for c in stack.status(settings) if c.pid is not None} - before
        stack.down(settings, only=started)
        redis_cluster.stop(settings.data_dir, cluster_started)


K = TypeVar("K")
V = TypeVar("V")


def _rows(runs: list[Run], of: Callable[[Run], dict[K, V]]) -> Iterator[tuple[K, Run, V, bool]]:
    """Each key of `of(run)` over the runs, in order, then each run that has it: (key, run,
    value, last of its key)."""
    for key in dict.fromkeys(key for run in runs for key in of(run)):
        having = [run for run in runs if key in of(run)]
        for i, run in enumerate(having):
            yield key, run, of(run)[key], i == len(having) - 1


def _print(runs: list[Run]) -> None:
    """The tables: a row per figure and Redis."""
    ingestion = Table("figure", "redis", "p50", "tail", "max / rate", title="Ingestion and realtime")
    for figure, run, values, last in _rows(runs, lambda run: run.ingestion):
        ingestion.add_row(figure, run.redis, *values, end_section=last)
    console.print(ingestion)
    reads = Table("size", "read path (wrk: 16 connections, JSON through Envoy)", "redis", "req/s",
                  "% of tags.list req/s", "p50 ms", "p99 ms", "non-2xx", title=f"Reads ({os.cpu_count()} cores)")
    for (size, name), run, figures, last in _rows(runs, lambda run: run.reads):
        ceiling = run.reads[(size, TRIVIAL)].requests_per_s
        reads.add_row(size, name, run.redis, f"{figures.requests_per_s:,.0f}",
                      f"{figures.requests_per_s / ceiling:.0%}", f"{figures.p50_ms:.2f}",
                      f"{figures.p99_ms:.2f}", str(figures.errors), end_section=last)
    console.print(reads)
    store = Table(
        "size", "redis", "used_memory grown / msg (bytes)", "projected msgs/s (load start -> all applied)",
        "projection after the load's last ack (s)",
        title="Store (used_memory: summed over the cluster's primaries, grown since before the first load)")
    for size, run, (per_message, rate, trailing), last in _rows(runs, lambda run: run.store):
        store.add_row(size, run.redis, f"{per_message:,.0f}", f"{rate:,.0f}", f"{trailing:.1f}",
                      end_section=last)
    console.print(store)
    parts = Table("what the part alone does", "redis", "per second",
                  title="Limits: Parley's parts alone on this machine, in the same run")
    for figure, run, rate, last in _rows(runs, lambda run: run.limits):
        parts.add_row(figure, run.redis, f"{rate:,.0f}", end_section=last)
    console.print(parts)
    shares = Table("Parley vs the part", "redis", "Parley /s", "part /s", "share",
                   title="Parley as a share of its parts")
    for figure, run, (parley, limit, _), last in _rows(runs, lambda run: run.shares):
        shares.add_row(figure, run.redis, f"{parley:,.0f}", f"{limit:,.0f}",
                       f"{parley / limit:.0%}", end_section=last)
    console.print(shares)
    goals = Table("figure", "redis", "measured", "target", "met", title="Targets")
    for run in runs:
        for figure, measured, target, met in targets(run):
            goals.add_row(figure, run.redis, measured, target, "yes" if met else "[red]no[/red]")
    console.print(goals)


def main() -> None:
    """Run the bench on each Redis `PARLEY_BENCH_REDIS` names; print what was measured."""
    choice = os.environ.get("PARLEY_BENCH_REDIS", "both")
    names = list(TARGETS) if choice == "both" else [choice]
    if not set(names) <= set(TARGETS):
        raise SystemExit(f"PARLEY_BENCH_REDIS={choice}: say single, cluster or both")
    runs = [Run(TARGETS[name].label) for name in names]
    try:
        for name, run in zip(names, runs):
            _bench(TARGETS[name], run)
    finally:
        # What was measured, even when a run failed.
        _print(runs)


if __name__ == "__main__":
    main()
