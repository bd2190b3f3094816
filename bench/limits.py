"""What Parley's own parts do on this machine, measured beside it in the same run, so that each
of Parley's figures is printed as a share of its limit:

- Envoy with a trivial upstream (a second Envoy listener answering 200 by itself), through the
  same kind of client as Parley's figures: wrk for reads, 16 concurrent aiohttp POSTs of a
  webhook's bytes for webhooks;
- Kafka's own producer (`kafka-producer-perf-test`, `org.apache.kafka.tools.ProducerPerformance`
  from the broker's jars) on the bench's broker: acks=all, idempotent, records of a webhook's
  size;
- Redis for the command mix one projected message costs, run by `redis-benchmark` (pipelined
  EVALs of that mix, in one hash slot as the projector's are).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from aiokafka.admin import NewTopic

from bench import wrk
from runtime import kafka
from runtime.settings import Settings
from stack import envoy, processes
from stack.kafka import fetch_jars
from stack.stack import CACHE_DIR

#: Ports of the trivial Envoy: its edge listener, the upstream it proxies to, its admin.
EDGE_PORT, UPSTREAM_PORT, ADMIN_PORT = 28180, 28181, 28182
NAME = "envoy-trivial"

_HCM = ("envoy.filters.network.http_connection_manager", "type.googleapis.com/envoy.extensions."
        "filters.network.http_connection_manager.v3.HttpConnectionManager")
_ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"


def _listener(name: str, port: int, route: str) -> str:
    return f"""
  - name: {name}
    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - filters:
      - name: {_HCM[0]}
        typed_config:
          "@type": {_HCM[1]}
          stat_prefix: {name}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {{prefix: "/"}}
                {route}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": {_ROUTER}}}"""


def trivial_config() -> str:
    """An Envoy whose edge listener proxies every request to an upstream that answers 200."""
    return f"""admin:
  address: {{socket_address: {{address: 127.0.0.1, port_value: {ADMIN_PORT}}}}}
static_resources:
  listeners:{_listener("edge", EDGE_PORT, "route: {cluster: trivial}")}{
    _listener("upstream", UPSTREAM_PORT,
              'direct_response: {status: 200, body: {inline_string: "ok"}}')}
  clusters:
  - name: trivial
    type: STATIC
    load_assignment:
      cluster_name: trivial
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {
          UPSTREAM_PORT}}}}}}}
"""


@contextmanager
def trivial_envoy(settings: Settings) -> Iterator[str]:
    """A running trivial Envoy with the stack's concurrency; yields its edge's base URL."""
    config = settings.data_dir / NAME / "envoy.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(trivial_config())
    envoy.validate(config)
    processes.start(settings.data_dir, NAME, [
        envoy.binary(), "-c", str(config), "--disable-hot-restart", "--log-level", "warn",
        "--concurrency", str(settings.envoy_concurrency)])
    try:
        processes.wait_until(lambda: envoy.ready(ADMIN_PORT), "admin /ready", 30,
                             settings.data_dir, NAME)
        yield f"http://127.0.0.1:{EDGE_PORT}"
    finally:
        processes.stop(settings.data_dir, NAME)


def envoy_reads(base: str, headers: dict[str, str]) -> wrk.Figures:
    """wrk through the trivial Envoy, as the reads are measured through Parley's."""
    return wrk.post(f"{base}/trivial", {}, headers)


def kafka_producer(settings: Settings, record_bytes: int, records: int = 200_000) -> float:
    """Records per second Kafka's own producer writes to the bench's broker (acks=all,
    idempotent, linger as Parley's batching producers), to a topic of the platform's shape."""
    topic = settings.prefixed(f"bench.producer-perf.{uuid.uuid4().hex[:8]}")
    asyncio.run(_create(settings, topic))
    done = subprocess.run(
        ["java", "-cp", f"{fetch_jars(CACHE_DIR)}/*", "org.apache.kafka.tools.ProducerPerformance",
         "--topic", topic, "--num-records", str(records), "--record-size", str(record_bytes),
         "--throughput", "-1", "--producer-props", f"bootstrap.servers={settings.bootstrap_servers}",
         "acks=all", "enable.idempotence=true", f"linger.ms={settings.kafka_linger_ms}"],
        capture_output=True, text=True, check=True, timeout=600)
    found = re.findall(r"([\d.]+) records/sec", done.stdout)
    if not found:
        raise RuntimeError(f"ProducerPerformance printed no rate:\n{done.stdout}{done.stderr}")
    return float(found[-1])


async def _create(settings: Settings, topic: str) -> None:
    async with kafka.admin_session(settings) as admin:
        await admin.create_topics([NewTopic(topic, settings.topic_partitions,
                                            settings.kafka_replication_factor)])


#: What projecting one message writes, in one partition's slot: the message, its place in its
#: conversation, the conversation's activity, its state and unread count, and its event.
MESSAGE_MIX = """
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], KEYS[1])
redis.call('ZADD', KEYS[3], ARGV[2], KEYS[2])
redis.call('HSET', KEYS[2] .. ':state', 'last', KEYS[1], 'channel_id', 'c', 'source', 'facebook')
redis.call('HINCRBY', KEYS[3] .. ':unread', KEYS[2], 1)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'type', 'message.created', 'payload',
           ARGV[1])
"""


#: The hash tag of `redis_mix`'s keys: none of the projection's.
TAG = "{parley-bench-limits}"


def redis_mix(port: int, cluster: bool, message_bytes: int, messages: int = 200_000) -> float:
    """Messages per second Redis applies the command mix of projecting one (in one slot, as a
    partition's), sent by `redis-benchmark` in pipelines of 64 over 4 connections; on a cluster,
    to the primary of that slot, found from node `port` (`redis-benchmark --cluster` sends a
    command that is not one of its own tests to every primary, and those without the slot
    answer MOVED)."""
    blob = "x" * message_bytes
    done = subprocess.run(
        ["redis-benchmark", "-p", str(_primary_of_tag(port) if cluster else port),
         "-n", str(messages), "-c", "4", "-P", "64", "-q", "-r", "1000000",
         "EVAL", MESSAGE_MIX, "4", f"{TAG}:msg:__rand_int__", f"{TAG}:conv:__rand_int__",
         f"{TAG}:convs", f"{TAG}:events", blob, "__rand_int__"],
        capture_output=True, text=True, check=True, timeout=600)
    found = re.findall(r"([\d.]+) requests per second", done.stdout)
    if not found:
        raise RuntimeError(f"redis-benchmark printed no rate:\n{done.stdout}{done.stderr}")
    return float(found[-1])


def _primary_of_tag(port: int) -> int:
    """The port of the primary that serves `TAG`'s slot, asked of the cluster node on `port`."""
    with redis.RedisCluster(host="127.0.0.1", port=port) as cluster:
        node = cluster.get_node_from_key(TAG)
        return int(node.port)


def drop_mix(port: int, cluster: bool) -> None:
    """Remove what `redis_mix` wrote (its keys, all under `TAG`, in one slot)."""
    subprocess.run(["redis-cli", "-p", str(port), *(["-c"] if cluster else []), "EVAL",
                    "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('UNLINK', k) "
                    "end", "1", f"{TAG}:convs", f"{TAG}:*"], capture_output=True, check=True)

