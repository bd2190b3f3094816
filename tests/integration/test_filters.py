"""/conversations.list with `filters` against the real store: index sets and evaluation give the
same answers a reader of the conversations would expect, with cursors and the filtered total."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from functools import partial
from typing import Any

import pytest

from runtime import redis as runtime_redis
from runtime import timestamps
from runtime.errors import InvalidArgument
from runtime.settings import Settings
from store import pages
from store.search import answer
from store import generations
from store.keys import StoreKeys
from tests.integration.helpers import api, eventually, message_record, produce_messages


def _post(base_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.post(f"{base_url}{path}", json=body, timeout=15)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _known(base_url: str, conversation_id: str) -> bool:
    reply = api.post(f"{base_url}/conversations.info", json={"conversation_id": conversation_id})
    return reply.status_code == 200


@pytest.fixture(scope="module")
def world(live_stack: Settings, base_url: str) -> dict[str, str]:
    """Three conversations on two fresh channels, tagged, stated, named and read differently."""
    names = {k: str(uuid.uuid4()) for k in ("a", "b", "c1", "c2", "c3", "t1", "t2")}
    records = []
    for cid, channel, count, start in ((names["c1"], names["a"], 2, 1_700_000_000_000),
                                       (names["c2"], names["b"], 1, 1_700_000_100_000),
                                       (names["c3"], names["b"], 1, 1_700_000_200_000)):
        for i in range(count):
            record = message_record(cid, start + i, f"{cid}-{i}")
            record.channel_id = channel
            records.append(record)
    asyncio.run(produce_messages(live_stack, records))
    for cid in (names["c1"], names["c2"], names["c3"]):
        eventually(partial(_known, base_url, cid))
    t1 = _post(base_url, "/tags.create", {"name": "t1", "color": "tag-red"})["id"]
    t2 = _post(base_url, "/tags.create", {"name": "t2", "color": "tag-blue"})["id"]
    names |= {"t1": t1, "t2": t2}
    for cid, tags in ((names["c1"], (t1, t2)), (names["c2"], (t1,))):
        for tag in tags:
            _post(base_url, "/conversations.tag", {"conversation_id": cid, "tag_id": tag})
    _post(base_url, "/conversations.set-state", {"conversation_id": names["c1"], "state": "OPEN"})
    _post(base_url, "/conversations.set-state", {"conversation_id": names["c2"], "state": "CLOSED"})
    _post(base_url, "/conversations.update-contact",
          {"conversation_id": names["c1"], "display_name": "Anna Smith"})
    _post(base_url, "/conversations.mark-read", {"conversation_id": names["c2"]})
    _post(base_url, "/metadata.upsert",
          {"subject": "conversation", "id": names["c3"], "data": {"crm": {"tier": "gold"}}})
    for cid, ltv in (("c1", 3), ("c2", "n/a"), ("c3", 12.5)):
        _post(base_url, "/metadata.upsert",
              {"subject": "conversation", "id": names[cid], "data": {"ltv": ltv}})
    return names


def _ids(base_url: str, query: str, page_size: int = 100) -> list[str]:
    body = _post(base_url, "/conversations.list", {"filters": query, "page_size": page_size})
    assert body["pagination_data"]["total"] == len(body["data"])
    return [c["id"] for c in body["data"]]


@pytest.mark.parametrize("extra, expected", [
    ("", ["c3", "c2", "c1"]),
    ("AND unread_count:[1 TO *]", ["c3", "c1"]),
    ("AND tag_ids:(<t1> AND <t2>)", ["c1"]),
    ("AND tag_ids:<t1>", ["c2", "c1"]),
    ("AND NOT metadata.state:CLOSED", ["c3", "c1"]),
    ("AND display_name:*ann*", ["c1"]),
    ("AND metadata.crm.tier:gold", ["c3"]),
    ('AND created_at:["2023-11-14T22:15:00Z" TO *]', ["c3", "c2"]),
    ("AND created_at:[2023-11-14T22\\:15\\:00Z TO *]", ["c3", "c2"]),
    ("AND source:facebook AND NOT tag_ids:<t1>", ["c3"]),
    ("AND metadata.crm:*", ["c3"]),
    ("AND NOT metadata.crm.tier:gold", ["c2", "c1"]),
    ("AND metadata.crm.tier:g*", ["c3"]),
    ("AND unread_count:0", ["c2"]),
    ("AND unread_count:[2 TO 2]", ["c1"]),
    ("AND unread_count:{0 TO 1]", ["c3"]),
    ('AND created_at:[* TO "2023-11-14T22:15:00Z"}', ["c1"]),
    ("AND id:<c2>", ["c2"]),
    # Metadata wildcards and ranges: the path's texts that match, their indexes united.
    ("AND metadata.crm.tier:*ol*", ["c3"]),
    ("AND metadata.crm.tier:g?ld", ["c3"]),
    ("AND metadata.ltv:[3 TO 12]", ["c1"]),
    ("AND metadata.ltv:{3 TO *]", ["c3"]),
    ("AND metadata.ltv:[* TO *]", ["c3", "c1"]),
    ("AND metadata.ltv:*/*", ["c2"]),
    ("AND NOT metadata.ltv:[0 TO 5]", ["c3", "c2"]),
])
def test_filters(base_url: str, world: dict[str, str], extra: str, expected: list[str]) -> None:
    query = f"channel_id:({world['a']} OR {world['b']}) {extra}"
    for name in ("t1", "t2", "c2"):
        query = query.replace(f"<{name}>", world[name])
    assert _ids(base_url, query) == [world[name] for name in expected]


def test_filtered_pages_walk_with_cursors(base_url: str, world: dict[str, str]) -> None:
    query = f"channel_id:({world['a']} OR {world['b']})"
    seen, cursor = [], ""
    while True:
        body = _post(base_url, "/conversations.list",
                     {"filters": query, "page_size": 1, "cursor": cursor})
        assert body["pagination_data"]["total"] == 3
        seen += [c["id"] for c in body["data"]]
        cursor = body["pagination_data"]["next_cursor"]
        if not cursor:
            break
    assert seen == [world["c3"], world["c2"], world["c1"]]


@pytest.mark.parametrize("query", ["channel_id:(a OR", "nope:1", "unread_count:[a TO 2]"])
def test_malformed_filters_are_400(base_url: str, query: str) -> None:
    reply = api.post(f"{base_url}/conversations.list", json={"filters": query}, timeout=10)
    assert reply.status_code == 400
    assert "invalid filters" in reply.json()["message"]



def test_filters_that_would_check_too_many_conversations_one_by_one_are_refused(
        live_stack: Settings, world: dict[str, str]) -> None:
    async def page(query: str, limit: int) -> list[str]:
        redis = runtime_redis.client(live_stack)
        keys = StoreKeys(live_stack)
        try:
            await generations.refresh(redis, keys)
            found = await answer.filtered_page(
                redis, keys, query, "", 100, evaluation_limit=limit)
            return [pages.member_id(m) for m in reversed(found.members)]
        finally:
            await redis.aclose()

    narrowed = f"channel_id:{world['a']} AND display_name:Anna*"
    assert asyncio.run(page(narrowed, limit=1)) == [world["c1"]]  # one candidate: checked
    # A pattern no index narrows is checked on every conversation: over the limit, refused.
    with pytest.raises(InvalidArgument, match="would be checked on .* one by one"):
        asyncio.run(page("display_name:*nn*", limit=2))
    assert world["c1"] in asyncio.run(page("display_name:*nn*", limit=10**9))


@pytest.mark.parametrize(("count", "last", "as_created"), [
    (60, 50, False),  # most conversations, spread over the activity order: walked
    (60, 1, False),  # two: the range is made
    # 10% of them, the least active (activity follows creation): the walk gives up, the range
    # is made
    (3000, 299, True),
])
def test_created_at_ranges_page_both_ways_in_activity_order(
        live_stack: Settings, count: int, last: int, as_created: bool) -> None:
    keys = StoreKeys(dataclasses.replace(live_stack, namespace=f"walk{uuid.uuid4().hex[:8]}"))
    rng = random.Random(last)
    conversations = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(count)]
    created = {cid: 1_700_000_000_000 + i * 1000 for i, cid in enumerate(conversations)}
    activity = (created if as_created else
                {cid: 1_700_000_000_000 + rng.randrange(20) * 1000 for cid in conversations})
    end = timestamps.format_ms(1_700_000_000_000 + last * 1000)
    query = f'created_at:["2023-11-14T22:13:20Z" TO "{end}"]'
    expected = [cid for _, cid in sorted((activity[c], c) for c in conversations[:last + 1])]
    page_size = 2

    async def walk() -> tuple[list[str], list[str], set[int]]:
        redis = runtime_redis.client(live_stack)
        try:
            pipe = redis.pipeline(transaction=False)
            for cid in conversations:
                part = keys.of_conversation(cid)
                pipe.zadd(part.conversations(), {cid: activity[cid]})
                pipe.zadd(part.created(), {cid: created[cid]})
            await pipe.execute()
            back: list[str] = []
            totals = set()
            found = await answer.filtered_page(redis, keys, query, "", page_size, 0)
            while True:
                back = [pages.member_id(m) for m in found.members] + back
                totals.add(found.total)
                if not found.next_cursor:
                    break
                found = await answer.filtered_page(redis, keys, query, found.next_cursor,
                                                   page_size, 0)
            forward = [pages.member_id(m) for m in found.members]
            while found.previous_cursor:
                found = await answer.filtered_page(redis, keys, query, found.previous_cursor,
                                                   page_size, 0)
                forward += [pages.member_id(m) for m in found.members]
            return back, forward, totals
        finally:
            await redis.delete(*(k for part in keys.partitions()
                                 for k in (part.conversations(), part.created())))
            await redis.aclose()

    back, forward, totals = asyncio.run(walk())
    assert back == expected
    assert forward == expected
    assert totals == {last + 1}
