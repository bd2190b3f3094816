"""Bring the whole local stack up, down, or report on it, in dependency order."""

from __future__ import annotations

import asyncio
import os
import ssl
import urllib.request
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from auth.manage import ADMIN_TOKEN_FILE, TokenAdmin
from runtime import settings as settings_module
from runtime import topic_admin
from runtime.settings import PROJECTOR, Settings
from stack import envoy, kafka, objectstore, processes, prometheus, redis, services, supervise

REPO = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(settings_module.CACHE_DIR.read(os.environ) or REPO / ".cache").resolve()



def components(settings: Settings) -> tuple[str, ...]:
    """Every component the stack starts, in start order (`down` goes in reverse); projectors
    started earlier under a larger `PARLEY_PROJECTORS`, a Prometheus started under
    `PARLEY_PROMETHEUS_PORT` and an object store started before `PARLEY_MEDIA_S3_URL` was set are
    included, so `down` stops them too."""
    processes_now = settings.process_names()
    earlier = sorted(path.stem for path in (settings.data_dir / "run").glob(f"{PROJECTOR}-*.pid")
                     if path.stem not in processes_now)
    scraping = (prometheus.NAME,) if (
        settings.prometheus_port or processes.pid_file(settings.data_dir, prometheus.NAME).exists()
    ) else ()
    storing = (objectstore.NAME,) if (
        settings.media.local or processes.pid_file(settings.data_dir, objectstore.NAME).exists()
    ) else ()
    return (kafka.NAME, redis.NAME, *storing, *processes_now, *earlier, envoy.NAME, *scraping)


@dataclass(frozen=True)
class ComponentStatus:
    """What `status` knows of one component."""

    name: str
    pid: int | None
    where: str
    #: A service's supervision (restarts, last exit); None for the other components.
    supervision: supervise.Supervision | None = None


def up(settings: Settings) -> list[tuple[str, str]]:
    """Start what is not running yet and wait until all is healthy; return (component, what it did)."""
    report: list[tuple[str, str]] = []
    report.append((kafka.NAME, kafka.start(settings, CACHE_DIR)))
    report.append((redis.NAME, redis.start(settings)))
    report.append(("topics", topics(settings)))
    report.append((objectstore.NAME, objectstore.start(settings, CACHE_DIR)))
    for name, what in services.start_all(settings).items():
        report.append((name, what))
    report.append((envoy.NAME, envoy.start(settings)))
    report.append(("admin token", admin_token(settings)))
    if settings.prometheus_port:
        report.append((prometheus.NAME, prometheus.start(settings)))
    return report


def admin_token(settings: Settings) -> str:
    """Make the local admin token on the first start (the API needs a token from then on), and
    wait until the edge accepts it; what was done, in one line."""
    made = asyncio.run(_admin_token(settings))
    # Services started before the projectors' first generation existed follow it within a moment:
    # the stack is up when the API takes the admin token, so a call made right after is answered.
    processes.wait_until(partial(_token_accepted, settings), "the API with the admin token", 30,
                         settings.data_dir, envoy.NAME)
    return made


def _token_accepted(settings: Settings) -> bool:
    """True when the edge answers an authenticated call with the admin token."""
    token = (settings.data_dir / ADMIN_TOKEN_FILE).read_text().strip()
    scheme = "https" if settings.http_tls else "http"
    request = urllib.request.Request(f"{scheme}://127.0.0.1:{settings.http_port}/tags.list",
                                     data=b"{}", headers={"authorization": f"Bearer {token}",
                                                          "content-type": "application/json"})
    # Our own Envoy on loopback: its certificate need not name 127.0.0.1.
    context = ssl._create_unverified_context() if settings.http_tls else None
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as reply:
            return reply.status == 200
    except OSError:  # HTTPError (401 while the token is not known yet) included
        return False


def topics(settings: Settings) -> str:
    """Provision the topics (`parley topics apply`); what it did, in one line."""
    states = asyncio.run(topic_admin.apply(settings))
    wrong = [f"{s.topic}: {s.action}" for s in states if not s.ok]
    if wrong:
        raise processes.StartError("topics differ from the settings:\n" + "\n".join(wrong))
    created = sum(s.action == "created" for s in states)
    return f"created {created}" if created else "all present"


async def _admin_token(settings: Settings) -> str:
    """Make the local admin token on the first `up` (the API needs a token from then on)."""
    async with TokenAdmin(settings) as admin:
        path, made = await admin.ensure_admin()
    if made:
        return f"created: {path.read_text().strip()} (kept in {path})"
    return f"in {path}"


def down(settings: Settings, only: set[str] | None = None) -> list[tuple[str, int]]:
    """Stop every component this stack started (by pid file), or just `only`, in reverse order."""
    stopped: list[tuple[str, int]] = []
    for name in reversed(components(settings)):
        if only is not None and name not in only:
            continue
        pid = processes.stop(settings.data_dir, name)
        if pid is not None:
            stopped.append((name, pid))
    return stopped


def status(settings: Settings) -> list[ComponentStatus]:
    """Each component's pid (None when not running from this stack), address and, for a
    service, its supervision."""
    where = {
        kafka.NAME: settings.bootstrap_servers,
        redis.NAME: redis.where(settings),
        envoy.NAME: f"127.0.0.1:{settings.http_port}",
        prometheus.NAME: prometheus.url(settings),
        objectstore.NAME: settings.media.endpoint,
    }
    return [
        ComponentStatus(name, processes.running_pid(settings.data_dir, name),
                        where.get(name) or settings.service_target(name),
                        None if name in where else supervise.read(settings.data_dir, name))
        for name in components(settings)
    ]
