"""`conversations.list` with `filters`: indexes where the store keeps them, evaluation where not.

A query made only of indexed terms is answered by its index plan (`store.search.plan`), run as
set algebra in each partition's indexes (`store.search.set_algebra`), a script per partition
that also answers its share of the page. The rest (wildcards of
other fields, display-name patterns) is evaluated (`store.search.match`) on the conversations the
query's indexes leave (name trigrams, indexed AND-terms), up to a limit: a query that would load
more conversations than that is refused with a 400 saying how to narrow it, rather than holding
the store for seconds. Either way the answer is a temporary sorted set scored by activity, paged
like the unfiltered list, so cursors and `total` work the same.

Every partition of the keyspace (`store.keys`) holds its share of each index, so a query runs
in each partition on its own keys (concurrently; on a Redis Cluster each in its slot), and the
answers are paged as one, merged by (activity, id).
"""

from __future__ import annotations

import asyncio
import functools
import uuid

from google.protobuf import json_format
from luqum import tree

from runtime.errors import InvalidArgument
from runtime.redis import Client, text
from store import pages, views
from store.keys import PartitionKeys, StoreKeys
from store.search.match import matches
from store.search.plan import IndexSet, Plan, index_plan, narrowing_plan
from store.search.query import parse
from store.search import set_algebra
from store.search.terms import conversation_fields


async def _evaluate(redis: Client, store: StoreKeys, keys: PartitionKeys,
                    query: tree.Item, candidates: str, target: str) -> None:
    """Into the temporary sorted set `target`: the `candidates` (of partition `keys`) that
    satisfy `query`, evaluated one by one."""
    start, chunk_size = 0, set_algebra.SCAN_CHUNK
    while True:
        chunk = [text(m) for m in await redis.zrange(candidates, start, start + chunk_size - 1)]
        if not chunk:
            break
        start += chunk_size
        # Scores from the activity index: a narrowing index (name trigrams) is not scored.
        scores = dict(zip(chunk, await redis.zmscore(keys.conversations(), chunk)))
        conversations = await views.load_conversations(redis, store, list(scores))
        selected: dict[str, float] = {}
        for conversation in conversations:
            as_json = json_format.MessageToDict(conversation, preserving_proto_field_name=True)
            fields = conversation_fields(as_json)
            score = scores.get(conversation.id)
            if score is not None and matches(query, fields, as_json.get("metadata", {})):
                selected[conversation.id] = score
        if selected:
            await redis.zadd(target, selected)
    await redis.expire(target, set_algebra.TEMPORARY_TTL_S)


@functools.lru_cache(maxsize=256)
def _planned(query: str) -> tuple[tree.Item, Plan | None]:
    """`query` parsed, and its index plan (pure, so kept for the queries that come again: an
    inbox asks the same few all day)."""
    parsed = parse(query)
    return parsed, index_plan(parsed)


async def filtered_page(redis: Client, keys: StoreKeys, query: str, cursor: str,
                        page_size: int, evaluation_limit: int) -> pages.Page:
    """The page at `cursor` of the conversations matching `query` (newest activity first);
    InvalidArgument when it would evaluate more than `evaluation_limit` conversations."""
    parsed, plan = _planned(query)
    span = pages.ScoredSpan.of(cursor, page_size)  # bad input is rejected before any work
    parts = keys.partitions()
    if plan is not None:
        return await set_algebra.page(redis, parts, plan, span)
    # The conversations to check: what the query's indexes leave, else every one.
    candidates = await set_algebra.selected(redis, parts, narrowing_plan(parsed) or IndexSet("all"))
    answers = [part.temporary(uuid.uuid4().hex) for part in parts]
    try:
        count = sum(c.size for c in candidates)
        if count > evaluation_limit:
            raise InvalidArgument(
                f"filters {query!r} would be checked on {count} conversations one by one "
                f"(the limit is {evaluation_limit}); narrow it with an indexed term "
                "(channel_id, source, tag_ids, state, metadata.<path>, unread_count, "
                "created_at) or give display_name fragments of 3 characters or more")
        await asyncio.gather(*(_evaluate(redis, keys, part, parsed, found.key, answer)
                               for part, found, answer in zip(parts, candidates, answers)))
        return await pages.newest_first_by_score(redis, answers, cursor, page_size)
    finally:
        pipe = redis.pipeline(transaction=False)
        for key in [c.key for c in candidates if c.temporary] + answers:
            pipe.delete(key)  # one key a command: each in its partition's slot
        await pipe.execute()

