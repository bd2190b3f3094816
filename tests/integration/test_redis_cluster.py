"""A real local Redis Cluster (stack.redis_cluster) and runtime.redis.client on it: what the
partitioned projection will rely on, atomic writes within one hash tag, holds; writes across
slots are refused rather than half done."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import redis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import CrossSlotTransactionError, RedisClusterException, WatchError

from runtime import redis as runtime_redis
from runtime import settings as settings_module
from stack import processes, stack
from stack import redis as stack_redis
from stack import redis_cluster as local_cluster
from stack.redis_cluster import SLOTS, Layout
from tests.conftest import CLUSTER_FIRST_PORT

#: What a projector's write will look like: an index entry and a document, in one hash tag.
PROJECT = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return redis.call('ZCARD', KEYS[1])
"""


@pytest.fixture
async def cluster_client(
    redis_cluster: Layout, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RedisCluster]:
    """runtime.redis.client as a service makes it, told of ONE node of the cluster."""
    monkeypatch.setenv("PARLEY_REDIS_CLUSTER_NODES", f"127.0.0.1:{redis_cluster.first_port}")
    client = runtime_redis.client(settings_module.load())
    assert isinstance(client, RedisCluster)
    yield client
    await client.aclose()


def _node(port: int) -> redis.Redis:
    """A plain connection to one node: it answers for its own slots only."""
    return redis.Redis(port=port, decode_responses=True)


def _tags(prefix: str, count: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"{{{prefix}-{run}-{i}}}" for i in range(count)]


def _port_of(client: RedisCluster, key: str) -> int:
    """The port of the primary that holds `key`'s slot."""
    node = client.get_node_from_key(key)
    assert node is not None
    return int(node.port)


def test_the_cluster_serves_every_slot_from_three_primaries(redis_cluster: Layout) -> None:
    for port in redis_cluster.ports:
        with _node(port) as node:
            info = node.execute_command("CLUSTER INFO")
            assert (info["cluster_state"], info["cluster_slots_ok"]) == ("ok", str(SLOTS))
    with _node(redis_cluster.first_port) as node:
        shards = node.execute_command("CLUSTER SHARDS")
    primaries = {n["port"] for shard in shards for n in shard["nodes"] if n["role"] == "master"}
    assert primaries == set(redis_cluster.ports)
    ranges = sorted(
        (slots[i], slots[i + 1]) for shard in shards for slots in [shard["slots"]]
        for i in range(0, len(slots), 2)
    )
    # Contiguous from 0 to the last slot: no slot unserved, none served twice.
    assert [start for start, _ in ranges] == [0, *(end + 1 for _, end in ranges[:-1])]
    assert ranges[-1][1] == SLOTS - 1


async def test_a_client_told_of_one_node_reaches_keys_on_every_primary(
    cluster_client: RedisCluster, redis_cluster: Layout
) -> None:
    keys = [f"{tag}:reach" for tag in _tags("reach", 30)]
    for key in keys:
        await cluster_client.set(key, key)
    assert [await cluster_client.get(key) for key in keys] == [key.encode() for key in keys]
    # Each primary holds its share, as SCAN of that node alone shows.
    held = {}
    for port in redis_cluster.ports:
        with _node(port) as node:
            held[port] = {key for key in node.scan_iter(match="*:reach", count=1000) if key in keys}
    assert all(held.values()), held
    assert sorted(key for share in held.values() for key in share) == sorted(keys)


async def test_a_transaction_within_one_hash_tag_commits_and_one_across_slots_is_refused(
    cluster_client: RedisCluster,
) -> None:
    tag, other = _tags("tx", 2)
    async with cluster_client.pipeline(transaction=True) as pipe:
        pipe.set(f"{tag}:offset", 41)
        pipe.incr(f"{tag}:offset")
        pipe.zadd(f"{tag}:index", {"c1": 1})
        assert await pipe.execute() == [True, 42, 1]

    # WATCH fences it as on one Redis: a competing write in between aborts the transaction.
    async with cluster_client.pipeline(transaction=True) as pipe:
        await pipe.watch(f"{tag}:offset")
        await cluster_client.set(f"{tag}:offset", 7)
        pipe.multi()
        pipe.set(f"{tag}:offset", 43)
        with pytest.raises(WatchError):
            await pipe.execute()
    assert await cluster_client.get(f"{tag}:offset") == b"7"

    assert key_slot(f"{tag}:offset".encode()) != key_slot(f"{other}:offset".encode())
    with pytest.raises(CrossSlotTransactionError):
        async with cluster_client.pipeline(transaction=True) as pipe:
            pipe.set(f"{tag}:offset", 1)
            pipe.set(f"{other}:offset", 1)
            await pipe.execute()
    assert (await cluster_client.get(f"{tag}:offset"), await cluster_client.exists(f"{other}:offset")) == (b"7", 0)


async def test_a_pipeline_of_lua_scripts_one_hash_tag_each_applies_every_one(
    cluster_client: RedisCluster, redis_cluster: Layout
) -> None:
    sha = await cluster_client.script_load(PROJECT)  # on every primary
    tags = _tags("lua", 12)
    # The tags spread over every primary, so the pipeline goes to all three.
    assert {_port_of(cluster_client, tag) for tag in tags} == set(redis_cluster.ports)
    async with cluster_client.pipeline(transaction=False) as pipe:
        for i, tag in enumerate(tags):
            # Cluster pipelines block `evalsha`; the raw command goes by its first key's slot.
            pipe.execute_command("EVALSHA", sha, 2, f"{tag}:index", f"{tag}:doc", i, f"m{i}", f"v{i}")
        assert await pipe.execute() == [1] * len(tags)
    for i, tag in enumerate(tags):
        assert await cluster_client.zscore(f"{tag}:index", f"m{i}") == i
        assert await cluster_client.hget(f"{tag}:doc", f"m{i}") == f"v{i}".encode()

    # A script whose keys lie in two slots is refused before it runs.
    with pytest.raises(RedisClusterException, match="same key slot"):
        await cluster_client.evalsha(sha, 2, f"{tags[0]}:index", f"{tags[1]}:doc", 0, "x", "y")
    assert await cluster_client.hget(f"{tags[1]}:doc", "x") is None


async def test_a_pipelined_script_is_loaded_where_a_node_lost_it_and_answers(
    cluster_client: RedisCluster, redis_cluster: Layout
) -> None:
    script = runtime_redis.PipelinedScript("return {KEYS[1], ARGV[1]}")
    tags = _tags("reads", 12)
    for port in redis_cluster.ports:  # as after a restart or a failover: no node knows it
        _node(port).script_flush()
    calls = [([f"{tag}:k"], [i]) for i, tag in enumerate(tags)]
    assert await script.run(cluster_client, calls) == [[f"{tag}:k".encode(), str(i).encode()]
                                                       for i, tag in enumerate(tags)]
    assert all(_node(port).script_exists(script.sha) == [True] for port in redis_cluster.ports)


async def test_the_client_rides_out_the_failover_of_a_killed_primary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Single commands and pipelines, writing all along, keep succeeding, only slower, while a
    replica takes over the slots of a primary killed with SIGKILL (CLUSTER_RETRIES)."""
    layout = Layout(CLUSTER_FIRST_PORT + 10, replicas=1)
    local_cluster.start(tmp_path, layout)
    try:
        monkeypatch.setenv("PARLEY_REDIS_CLUSTER_NODES", f"127.0.0.1:{layout.first_port}")
        client = runtime_redis.client(settings_module.load())
        assert isinstance(client, RedisCluster)
        tag = _tags("failover", 1)[0]
        await client.set(f"{tag}:single", 0)
        primary = _port_of(client, tag)
        pid = processes.running_pid(tmp_path, local_cluster.node_name(primary))
        assert pid is not None

        async def single(i: int) -> None:
            assert await client.set(f"{tag}:single", i)

        async def pipelined(i: int) -> None:
            async with client.pipeline(transaction=False) as pipe:
                pipe.set(f"{tag}:pipeline", i)
                pipe.get(f"{tag}:pipeline")
                assert await pipe.execute() == [True, str(i).encode()]

        loop = asyncio.get_running_loop()
        killed_at = loop.time() + 0.5
        loop.call_at(killed_at, _kill, pid)
        # Both keep writing until well after the failover (about 5 s).
        slowest = await asyncio.gather(*(_slowest_write(write, killed_at + 8)
                                         for write in (single, pipelined)))
        # A replica took the slots over; each kind of write waited the failover out.
        assert _port_of(client, tag) != primary
        assert min(slowest) > local_cluster.NODE_TIMEOUT_MS / 1000, slowest
        await client.aclose()
    finally:
        local_cluster.stop(tmp_path, list(layout.ports))


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)  # a child of this process: reap it


async def _slowest_write(write: Callable[[int], Awaitable[None]], until: float) -> float:
    """Call `write` with 0, 1, 2... until the loop's time `until`; the slowest call's seconds."""
    loop = asyncio.get_running_loop()
    slowest, i = 0.0, 0
    while loop.time() < until:
        began = loop.time()
        await write(i)
        slowest, i = max(slowest, loop.time() - began), i + 1
    return slowest


def test_make_up_uses_the_cluster_and_starts_no_redis_of_its_own(
    redis_cluster: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PARLEY_REDIS_CLUSTER_NODES", f"127.0.0.1:1,127.0.0.1:{redis_cluster.first_port}")
    settings = settings_module.load()
    assert stack_redis.start(settings) == f"using the Redis Cluster at {stack_redis.where(settings)}"
    assert not processes.pid_file(tmp_path, stack_redis.NAME).exists()
    [status] = [c for c in stack.status(settings) if c.name == stack_redis.NAME]
    assert (status.pid, status.where) == (None, f"127.0.0.1:1,127.0.0.1:{redis_cluster.first_port}")

    monkeypatch.setenv("PARLEY_REDIS_CLUSTER_NODES", "127.0.0.1:1")
    with pytest.raises(processes.StartError, match="no node of the cluster 127.0.0.1:1 is reachable"):
        stack_redis.start(settings_module.load())
