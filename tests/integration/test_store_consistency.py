"""The store under change and faults: pages with no gaps or repeats while messages arrive, the
projector killed mid-batch, and filters equal to a brute-force evaluation of the same data."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runtime.settings import Settings
from stack import processes, services
from store.search.match import matches
from store.search.query import parse
from store.search.terms import conversation_fields
from tests.integration.helpers import api, eventually, message_record, produce_messages
from tests.integration.test_rebuild import _all_pages, _quiet


def _post(base_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.post(f"{base_url}{path}", json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_pages_have_no_gaps_or_repeats_while_messages_arrive(live_stack: Settings,
                                                             base_url: str) -> None:
    conversation = str(uuid.uuid4())
    asyncio.run(produce_messages(live_stack, [
        message_record(conversation, 1_700_000_000_000 + i * 10, f"old{i}") for i in range(50)]))
    eventually(lambda: (b := api.post(f"{base_url}/messages.list", json={
        "conversation_id": conversation}, timeout=10)).status_code == 200
        and b.json()["pagination_data"]["total"] == 50)

    seen: list[str] = []
    cursor, arrived = "", 0
    while True:
        page = _post(base_url, "/messages.list",
                     {"conversation_id": conversation, "page_size": 7, "cursor": cursor})
        seen = [m["content"]["text"] for m in page["data"]] + seen
        # Newer messages arrive between the pages.
        asyncio.run(produce_messages(live_stack, [
            message_record(conversation, 1_800_000_000_000 + arrived, f"new{arrived}")]))
        arrived += 1
        cursor = page["pagination_data"]["next_cursor"]
        if not cursor:
            break
    assert seen == [f"old{i}" for i in range(50)]

    # Walking forward again from the oldest page reaches every message, the new ones included.
    eventually(lambda: _post(base_url, "/messages.list", {"conversation_id": conversation})[
        "pagination_data"]["total"] == 50 + arrived)
    forward = [m["content"]["text"] for m in page["data"]]  # the oldest page
    back = page["pagination_data"]["previous_cursor"]
    while back:
        newer = _post(base_url, "/messages.list",
                      {"conversation_id": conversation, "page_size": 7, "cursor": back})
        forward += [m["content"]["text"] for m in newer["data"]]
        back = newer["pagination_data"]["previous_cursor"]
    assert forward == [f"old{i}" for i in range(50)] + [f"new{i}" for i in range(arrived)]


def test_a_projector_killed_mid_batch_ends_at_the_ground_truth(live_stack: Settings,
                                                               base_url: str) -> None:
    conversations = [str(uuid.uuid4()) for _ in range(20)]
    records = []
    for n in range(150):
        for c, cid in enumerate(conversations):
            record = message_record(cid, 1_700_000_000_000 + n * 1000 + c, f"{n}")
            record.message.from_contact = (n + c) % 3 != 0
            records.append(record)
    truth = {cid: sum(r.message.from_contact for r in records if r.conversation_id == cid)
             for cid in conversations}

    async def produce_and_kill() -> None:
        producing = asyncio.create_task(produce_messages(live_stack, records))
        await asyncio.sleep(1.0)  # the projector is applying batches by now
        pid = processes.running_pid(live_stack.data_dir, "projector-1")
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)  # the projector and its supervisor
        await producing

    asyncio.run(produce_and_kill())
    eventually(lambda: processes.running_pid(live_stack.data_dir, "projector-1") is None, timeout=10)
    services.start(live_stack, "projector-1")
    asyncio.run(_quiet(live_stack))
    for cid in conversations:
        info = _post(base_url, "/conversations.info", {"conversation_id": cid})
        assert info["metadata"]["unread_count"] == truth[cid]
        listed = _post(base_url, "/messages.list", {"conversation_id": cid, "page_size": 1000})
        assert listed["pagination_data"]["total"] == 150
        assert [m["content"]["text"] for m in listed["data"]] == [str(n) for n in range(150)]
    unread = _all_pages(base_url, "/conversations.list", {"filters": "unread_count:[1 TO *]"})
    assert {c["id"] for c in unread} >= {cid for cid in conversations if truth[cid]}
    # The unread counts behind `unread_count` ranges are exact too.
    for cid in conversations:
        exact = f"id:{cid} AND unread_count:{truth[cid]}"
        assert [c["id"] for c in _all_pages(base_url, "/conversations.list", {"filters": exact})] == [cid]


@pytest.fixture(scope="module")
def quiet(live_stack: Settings) -> None:
    """Everything written so far is projected: the answers hold still while they are compared."""
    asyncio.run(_quiet(live_stack))


TERMS = st.sampled_from([
    "unread_count:[1 TO *]", "source:facebook", "state:OPEN", "NOT state:CLOSED",
    "display_name:*a*", "display_name:facebook*", "id:*", "created_at:[2023-11-14 TO *]",
    "metadata.crm.tier:gold", "unread_count:[2 TO 5]", "metadata.crm.tier:*",
    "metadata.crm.tier:go*", "unread_count:[0 TO 1]", "unread_count:{1 TO *]", "unread_count:0",
    "created_at:[* TO 2023-11-15}", "metadata.unread_count:1", "display_name:Anna*",
    "NOT unread_count:0", "NOT created_at:[* TO 2023-11-15]", "display_name:*ook*",
    "display_name:*NNA*", "metadata.crm.tier:*ol*", "metadata.crm.tier:g?ld",
])
QUERIES = st.recursive(TERMS, lambda inner: st.tuples(inner, st.sampled_from(["AND", "OR"]), inner)
                       .map(lambda t: f"({t[0]} {t[1]} {t[2]})"), max_leaves=4)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=QUERIES)
# Always: a metadata prefix (a union of value indexes), a negated range broader than what it is
# subtracted from (checked member by member), a name trigram.
@example(query="metadata.crm.tier:go*")
@example(query="(metadata.crm.tier:* AND NOT unread_count:[0 TO 1])")
@example(query="(metadata.crm.tier:gold AND NOT created_at:[* TO *])")
@example(query="(display_name:*ook* AND NOT created_at:[* TO 2023-11-15])")
def test_filters_equal_a_brute_force_evaluation(quiet: None, base_url: str, query: str) -> None:
    everything = _all_pages(base_url, "/conversations.list", {})
    parsed = parse(query)
    expected = [c["id"] for c in everything
                if matches(parsed, conversation_fields(c), c["metadata"])]
    answered = [c["id"] for c in _all_pages(base_url, "/conversations.list", {"filters": query})]
    assert answered == expected, query
