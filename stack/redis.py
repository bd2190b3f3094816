"""Redis: the Redis Cluster of PARLEY_REDIS_CLUSTER_NODES when set, else the one at
PARLEY_REDIS_URL when it answers, else Debian's redis-server started here."""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

import redis

from runtime.settings import Settings
from stack import processes

NAME = "redis"


def reachable(url: str) -> bool:
    """True when a Redis at `url` answers PING."""
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def where(settings: Settings) -> str:
    """The Redis this install uses: its cluster's nodes, or its URL."""
    if settings.redis_cluster_nodes:
        return ",".join(f"{host}:{port}" for host, port in settings.redis_cluster_nodes)
    return settings.redis_url


def start(settings: Settings) -> str:
    """Use the Redis Cluster or a reachable Redis, or start a local redis-server on the URL's
    loopback port."""
    if settings.redis_cluster_nodes:
        # Any one node is enough: the clients find the others from it.
        if not any(reachable(f"redis://{host}:{port}") for host, port in settings.redis_cluster_nodes):
            raise processes.StartError(f"redis: no node of the cluster {where(settings)} is reachable")
        return f"using the Redis Cluster at {where(settings)}"
    data = settings.data_dir
    if processes.running_pid(data, NAME) is not None and reachable(settings.redis_url):
        return "already running"
    if reachable(settings.redis_url):
        return f"using the Redis at {settings.redis_url}"
    url = urlparse(settings.redis_url)
    if url.hostname not in ("127.0.0.1", "localhost"):
        raise processes.StartError(f"redis: {settings.redis_url} is not reachable")
    server = shutil.which("redis-server")
    if server is None:
        raise processes.StartError("redis: redis-server is not installed (run scripts/bootstrap.sh)")
    home = data / "redis"
    home.mkdir(parents=True, exist_ok=True)
    argv = [
        server, "--bind", "127.0.0.1", "--port", str(url.port or 6379), "--dir", str(home),
        "--appendonly", "yes", "--save", "", "--daemonize", "no", "--protected-mode", "yes",
    ]
    processes.start(data, NAME, argv)
    processes.wait_until(lambda: reachable(settings.redis_url), "server", 20, data, NAME)
    return f"started (pid {processes.running_pid(data, NAME)})"
