"""`python -m chaos` (`make chaos`): the fault suite of the local cluster. It brings up a cluster
of its own (`stack.cluster`: three Kafka nodes, a Redis Cluster with replicas, two replicas of
every service, Envoy; in `.data/chaos/`, ports 27xxx), fakes of the sources' APIs and an outbound
webhook receiver, and puts a steady load on it (`chaos.load`). Under the load it kills, one after
the other with `kill -9`, a Kafka node, a Redis primary and one replica of each service
(`chaos.faults`), and brings each back. Then it checks, and prints with what it measured:

- every webhook that got a 2xx is stored exactly once, and unread counts equal the webhooks;
- every message the API accepted to send reached the fake source exactly once (or, its sender
  killed mid-send, at most once and failed saying so);
- the SSE subscriber, resuming with its last event id, saw every message's `message.created` once;
- every message reached the webhook receiver at least once, each under one stable `webhook-id`;
- how many requests failed during the faults (clean 5xx or refused connections, retried).

Exit status 1 when a check fails. The cluster is stopped at the end (`PARLEY_CHAOS_KEEP=1` keeps it).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections import Counter, defaultdict
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from chaos import faults
from chaos.load import Load
from runtime import settings as settings_module
from runtime.settings import Settings
from stack import cluster
from stack.stack import REPO
from tests.conftest import FAKE_APIS_PORT, TEST_ENV
from tests.integration.fake_source_apis import FakeSourceApis, serving

#: The chaos cluster's folder and ports; the fakes are the tests' (`FAKE_APIS_PORT`).
CHAOS_ENV = {
    "PARLEY_DATA_DIR": str(REPO / ".data" / "chaos"),
    "PARLEY_HTTP_PORT": "27080",
    "PARLEY_ENVOY_ADMIN_PORT": "27901",
    "PARLEY_GRPC_BASE_PORT": "27061",
    "PARLEY_KAFKA_PORT": "27092",
    "PARLEY_OBJECTSTORE_PORT": "27333",
    "PARLEY_REDIS_URL": "redis://127.0.0.1:16679/0",
    "PARLEY_PROJECTORS": "1",
}
#: Seconds of load before the first fault, a killed Kafka node or Redis primary stays down (a
#: service replica's supervisor restarts it at once), and of load after each return.
WARM_S, HELD_S, SETTLE_S = 10.0, 10.0, 5.0
#: Seconds the stores, the sends and the receiver have to settle after the load stops.
SETTLE_TIMEOUT_S = 120.0
console = Console(width=160)


def _pages(mesh: tuple[str, dict[str, str]], path: str, body: dict[str, Any]) -> list[Any]:
    base_url, headers = mesh
    items, cursor = [], ""
    while True:
        page = httpx.post(f"{base_url}{path}", json={**body, "cursor": cursor, "page_size": 1000},
                          headers=headers, timeout=30).json()
        items += page["data"]
        cursor = page["pagination_data"]["next_cursor"]
        if not cursor:
            return items


def _checks(load: Load, fake: FakeSourceApis, receiver: FakeSourceApis,
            mesh: tuple[str, dict[str, str]]) -> dict[str, str]:
    """Each check's verdict ("" when it holds, else what is wrong)."""
    seen = load.seen
    stored: dict[str, list[dict[str, Any]]] = {
        conversation: _pages(mesh, "/messages.list", {"conversation_id": conversation})
        for conversation in seen.accepted}
    wrong_store = [c for c, texts in seen.accepted.items() if Counter(texts) != Counter(
        m["content"]["text"] for m in stored[c] if m["from_contact"])]
    unread = {c: _pages(mesh, "/conversations.list", {"filters": f"id:{c}"})[0]["metadata"]
              .get("unread_count") for c in seen.accepted}
    wrong_unread = [c for c, texts in seen.accepted.items() if unread[c] != len(texts)]
    messages = {m["id"]: m for found in stored.values() for m in found}
    calls = Counter(r.json()["message"]["text"] for r in fake.received
                    if r.path.endswith("/me/messages"))
    wrong_sends = [i for i, text in seen.sent.items() if not (
        calls[text] == 1 and messages.get(i, {}).get("delivery_state") == "delivered"
        or calls[text] <= 1 and messages.get(i, {}).get("delivery_state") == "failed"
        and "unknown whether it was sent" in messages[i]["metadata"].get("error", ""))]
    wrong_events = [i for i in messages if seen.events[i] != 1]
    delivered: dict[str, set[str]] = defaultdict(set)
    for hook in receiver.received:
        event = hook.json()
        if event["type"] == "message.created":
            delivered[event["payload"]["message"]["id"]].add(hook.headers["webhook-id"])
    wrong_hooks = [i for i in messages if len(delivered.get(i, ())) != 1]
    return {
        f"{sum(map(len, seen.accepted.values()))} accepted webhooks stored exactly once":
            _verdict(wrong_store, "conversations differ"),
        f"unread counts of {len(seen.accepted)} conversations equal the webhooks":
            _verdict(wrong_unread, "conversations differ"),
        f"{len(seen.sent)} sends reached the source exactly once":
            _verdict(wrong_sends, "messages sent not once"),
        f"{len(messages)} messages seen once on the resumed SSE stream":
            _verdict(wrong_events, "messages not seen exactly once"),
        f"{len(messages)} messages at the webhook receiver, one webhook-id each":
            _verdict(wrong_hooks, "messages missing or under several ids"),
    }


def _verdict(wrong: list[str], what: str) -> str:
    return f"{len(wrong)} {what} (e.g. {wrong[:3]})" if wrong else ""


def _settled(load: Load, fake: FakeSourceApis, receiver: FakeSourceApis,
             mesh: tuple[str, dict[str, str]]) -> dict[str, str]:
    """The checks once they all hold, or as they stand when SETTLE_TIMEOUT_S is over."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        verdicts = _checks(load, fake, receiver, mesh)
        if not any(verdicts.values()) or time.monotonic() > deadline:
            return verdicts
        time.sleep(3)


def _run(base: Settings, fake: FakeSourceApis, receiver: FakeSourceApis) -> bool:
    started = time.monotonic()
    cluster.up(base)
    console.print(f"cluster up in {time.monotonic() - started:.0f} s")
    mesh_settings = cluster.settings(base)
    token = (base.data_dir / "admin.token").read_text().strip()
    mesh = (f"http://127.0.0.1:{base.http_port}", {"authorization": f"Bearer {token}"})
    hook = httpx.post(f"{mesh[0]}/webhooks.subscribe", headers=mesh[1], timeout=30,
                      json={"url": f"http://127.0.0.1:{FAKE_APIS_PORT - 1}/hooks/chaos"})
    hook.raise_for_status()
    load = Load(mesh[0], token)
    load.start()
    time.sleep(WARM_S)
    table = Table("fault", "restarted after s", "serving again after s", "failed webhooks",
                  "failed sends", "failed reads", "slowest webhook s", "slowest read s",
                  title="faults under load (failed requests were retried; slowest: until a 2xx)")
    for fault in faults.every_fault(base, mesh_settings):
        before = Counter(load.seen.failed)
        with load.seen.lock:
            load.seen.slowest.clear()
        killed = time.monotonic()
        fault.kill()
        if not fault.supervised:
            time.sleep(HELD_S)  # down this long, then started again
        fault.restore()
        back = time.monotonic() - killed
        time.sleep(HELD_S if fault.supervised else SETTLE_S)
        failed, slowest = load.seen.failed - before, dict(load.seen.slowest)
        table.add_row(fault.name, "by its supervisor" if fault.supervised else f"{HELD_S:.0f}",
                      f"{back:.1f}", str(failed["webhook"]), str(failed["send"]),
                      str(failed["read"]), f"{slowest.get('webhook', 0):.1f}",
                      f"{slowest.get('read', 0):.1f}")
        console.print(f"{fault.name}: serving again after {back:.1f} s, failed {dict(failed)}")
    load.stop()
    console.print(table)
    verdicts = _settled(load, fake, receiver, mesh)
    seen = load.seen
    figures = Table("load", "answered 2xx", "failed, then retried", title="the load")
    for kind in ("webhook", "send", "read"):
        figures.add_row(kind, str(seen.answered[kind]), str(seen.failed[kind]))
    figures.add_row("SSE resumes", str(seen.resumed), "")
    console.print(figures)
    checks = Table("check", "result", title="after the faults")
    for check, wrong in verdicts.items():
        checks.add_row(check, f"[red]{wrong}[/red]" if wrong else "[green]holds[/green]")
    console.print(checks)
    return not any(verdicts.values())


def main() -> int:
    """Run the suite on a fresh cluster of its own; 0 when every check holds."""
    os.environ.update({**TEST_ENV, **CHAOS_ENV})
    base = settings_module.load()
    cluster.down(base)
    shutil.rmtree(base.data_dir, ignore_errors=True)
    try:
        with serving(FAKE_APIS_PORT) as fake, serving(FAKE_APIS_PORT - 1) as receiver:
            ok = _run(base, fake, receiver)
    finally:
        if os.environ.get("PARLEY_CHAOS_KEEP") != "1":
            cluster.down(base)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
