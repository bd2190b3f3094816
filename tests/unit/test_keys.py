"""The keyspace's slots: one hash tag per partition number, one for the global entities."""

from __future__ import annotations

import dataclasses
import fnmatch

from redis.crc import key_slot

from runtime import topics
from runtime.partitioning import partition_of
from runtime.settings import load
from store.keys import StoreKeys


def _keys(partitions: int = 3) -> StoreKeys:
    return StoreKeys(dataclasses.replace(load(), namespace="ns", topic_partitions=partitions))


def test_a_conversation_and_everything_about_it_share_one_slot() -> None:
    keys = _keys()
    part = keys.of_conversation("c1")
    assert part.number == partition_of("c1", 3)
    found = {part.conversation("c1"), part.conversation_messages("c1"), part.message("m1"),
             part.metadata("message", "m1"), part.index("tag", "vip"), part.conversations(),
             part.events(), part.projector_offset("ns.parley.messages", part.number),
             part.projector_owner(part.number), part.temporary("x")}
    assert {key_slot(k.encode()) for k in found} == {key_slot(part.tag.encode())}
    assert part.tag == "{ns:p" + str(part.number) + "}"


def test_global_entities_have_their_own_slot() -> None:
    keys = _keys()
    found = {keys.channel("ch"), keys.entity("tag", "t"), keys.contacts(), keys.credential("h"),
             keys.events(), keys.generations("serving")}
    assert {key_slot(k.encode()) for k in found} == {key_slot(b"{ns:g}")}
    assert keys.of_record(topics.TAGS, 2) == keys
    assert keys.of_record(topics.METADATA, 2) == keys.partition(2)
    assert keys.event_streams() == [keys.partition(n).events() for n in range(3)] + [keys.events()]


def test_projection_keys_name_their_generation_and_the_event_log_none() -> None:
    keys = _keys()
    keys.generation.number = 7
    part = keys.partition(1)
    assert part.conversation("c").startswith(part.tag + ":7:")
    assert keys.channel("c").startswith("{ns:g}:7:")
    assert keys.of_generation(8).partition(1).conversation("c").startswith(part.tag + ":8:")
    assert part.conversation("c").startswith(part.tag + ":7:")  # of_generation copies, not moves
    assert ":durable:" in part.events() and ":7:" not in part.events()
    assert ":7:" not in part.events_emitted("t", 1)
    assert fnmatch.fnmatchcase(part.conversation("c"), keys.generation_pattern(7))
    assert not fnmatch.fnmatchcase(part.conversation("c"), keys.generation_pattern(8))
