"""The projector (`python -m store.projector`, `PARLEY_PROJECTORS` of them): application topics
-> Redis, effectively once.

The projectors share the partitions: `runtime.partitioning` keys every record about a
conversation by its conversation and gives a projector the same partition numbers of every topic,
so exactly one projector applies everything about a conversation. A batch of partition n writes
one slot of the keyspace (`store.keys`): partition n's for messages and metadata, the global
slot for the entities. A new owner of a partition number bumps its generation in both slots
(`projector_owner`); every write checks the generation of its slot, so a projector that lost the
partition without knowing it yet (it was too slow for the group) writes nothing, and the new
owner carries on from the stored offset.

Each batch of a partition is applied in one Lua script together with the partition's next offset,
if that offset and the owner's generation are still what the batch was loaded against
(`store.batch_script`): a redelivered or replayed record (after
a crash or a rebalance) is skipped, so nothing is applied twice. The
batch's realtime events go into the same script, with the partition's events high-water
mark: a replay after `parley rebuild` re-applies records but does not emit their events again. On
assignment the consumer seeks to the offset stored in Redis, not to Kafka's committed one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from google.protobuf.message import DecodeError

from runtime import kafka, metrics, tracing
from runtime.deadletter import dead_letter
from runtime.partitioning import CoPartitionAssignor
from runtime.record_failures import isolate
from runtime.service import Plan, Process, run
from runtime.settings import PROJECTOR, Settings
from runtime.redis import Client
from store import batch_script, generations, rebuild
from store.keys import PartitionKeys, StoreKeys
from store.projection import CONTACT_BORN, HANDLERS, RECORD_TYPES, Projection, Record

GROUP = "store-projector"

log = logging.getLogger(__name__)

#: A record of the topics and its value (None: there is nothing to apply, only its offset).
_Decoded = tuple[ConsumerRecord, Record | None]


class _OwnAndSeek(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, projector: Projector) -> None:
        self.projector = projector

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        for tp in revoked:
            for slot in self.projector.slots(tp.partition):
                self.projector.owned.pop(slot.projector_owner(tp.partition), None)

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        await self.projector.take(assigned)
        await self.projector.seek_to_stored(assigned)


class Projector:
    """Consumes the application topics and keeps projection generation `generation` in Redis."""

    def __init__(self, settings: Settings, redis: Client, generation: int) -> None:
        self.settings = settings
        self.redis = redis
        self.keys = StoreKeys(settings).of_generation(generation)
        self.kinds = {settings.prefixed(topic): kind for topic, kind in RECORD_TYPES.items()}
        #: The topic of each subscribed name (without the namespace).
        self.topics = {settings.prefixed(topic): topic for topic in RECORD_TYPES}
        # Static membership (`Settings.instance`): a projector restarted within the session keeps
        # its partitions.
        # Each generation its own group: a new one replays the topics beside the serving one.
        self.consumer: AIOKafkaConsumer = kafka.consumer(
            settings, f"{GROUP}-{generation}", partition_assignment_strategy=(CoPartitionAssignor,))
        self.lag = metrics.ConsumerLag(f"{GROUP}-{generation}")
        self.deadletters: AIOKafkaProducer = kafka.producer(settings)
        self.batch = batch_script.script(redis)
        #: The owner generation this projector holds, by owner key (`projector_owner`).
        self.owned: dict[str, bytes] = {}

    async def run(self) -> None:
        """Project until cancelled."""
        await self.deadletters.start()
        await self.check_partitions()
        self.consumer.subscribe(list(self.kinds), listener=_OwnAndSeek(self))
        await self.consumer.start()
        try:
            while True:
                batches = await self.consumer.getmany(timeout_ms=1000, max_records=500)
                for tp, records in batches.items():
                    await self.apply(tp, records)
                    metrics.projected(records)
                await self.lag.update(self.consumer)
        finally:
            await self.consumer.stop()
            await self.deadletters.stop()

    async def check_partitions(self) -> None:
        """ValueError unless every topic has `PARLEY_TOPIC_PARTITIONS` partitions: the store finds
        a conversation's keyspace by that count (`StoreKeys.of_conversation`)."""
        counts = {name: len(await kafka.partitions(self.settings, name)) for name in self.kinds}
        wrong = {name: n for name, n in counts.items() if n != self.settings.topic_partitions}
        if wrong:
            raise ValueError(f"topics {wrong} do not have PARLEY_TOPIC_PARTITIONS="
                             f"{self.settings.topic_partitions} partitions; the projection's "
                             "layout follows that count (see docs/architecture.md, partitions)")

    def slots(self, number: int) -> tuple[PartitionKeys, StoreKeys]:
        """The slots the batches of partition number `number` write."""
        return self.keys.partition(number), self.keys

    def slot_of(self, tp: TopicPartition) -> PartitionKeys | StoreKeys:
        """The slot a batch of `tp` writes."""
        return self.keys.of_record(self.topics[tp.topic], tp.partition)  # type: ignore[return-value]

    async def take(self, partitions: Sequence[TopicPartition]) -> None:
        """Become the owner of the partition numbers of `partitions` (a new generation each, in
        every slot their batches write)."""
        for number in sorted({tp.partition for tp in partitions}):
            for slot in self.slots(number):
                owner = slot.projector_owner(number)
                self.owned[owner] = str(await self.redis.incr(owner)).encode()

    async def seek_to_stored(self, partitions: Sequence[TopicPartition]) -> None:
        """Position each partition at the next offset recorded in Redis (the start when none)."""
        for tp in partitions:
            stored = await self.redis.get(self.slot_of(tp).projector_offset(tp.topic, tp.partition))
            if stored is None:
                await self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, int(stored))

    async def apply(self, tp: TopicPartition, records: Sequence[ConsumerRecord]) -> None:
        """Apply one partition's batch and its next offset atomically, skipping applied records.

        A batch that fails by a record's own fault (`runtime.record_failures`) is applied again
        one record at a time: the failing one is dead-lettered and passed, the others applied.
        """
        # Records from the shared emitted mark on were never applied by any generation: only
        # they are dead-lettered; a replay (a crash, a rebuild's new generation) passes the
        # ones dead-lettered before without writing them again.
        emitted = await self.redis.get(self.slot_of(tp).events_emitted(tp.topic, tp.partition))
        first = int(emitted or 0)
        decoded = [(r, await self._decode(r, r.offset >= first)) for r in records]
        await isolate(partial(self._apply, tp, decoded),
                      lambda _reason: self._one_at_a_time(tp, decoded, first))

    async def _one_at_a_time(self, tp: TopicPartition, decoded: Sequence[_Decoded],
                             first: int) -> None:
        """Apply `decoded` record by record; one the projection cannot take is dead-lettered
        (from offset `first` on) and passed (applied as nothing: the offset moves past it)."""
        for record, value in decoded:
            step = partial(self._apply, tp, [(record, value)])
            if not await isolate(step, partial(self._fault, record, record.offset >= first)):
                await self._apply(tp, [(record, None)])

    async def _fault(self, record: ConsumerRecord, new: bool, reason: str) -> None:
        """Dead-letter `record` for `reason` unless it is not `new` (dead-lettered before)."""
        if new:
            await dead_letter(self.deadletters, self.settings, record, reason)
        else:
            log.info("passing %s[%d]@%d again (dead-lettered when first seen): %s",
                     record.topic, record.partition, record.offset, reason)

    async def _apply(self, tp: TopicPartition, decoded: Sequence[_Decoded]) -> bool:
        """Apply decoded records (None: nothing to apply) and the next offset; True once done
        (or once it is clear another projector owns the partition now: it applies them)."""
        slot = self.slot_of(tp)
        offset_key = slot.projector_offset(tp.topic, tp.partition)
        emitted_key = slot.events_emitted(tp.topic, tp.partition)
        owner_key = slot.projector_owner(tp.partition)
        while True:
            pipe = self.redis.pipeline(transaction=False)
            for key in (offset_key, emitted_key, owner_key):
                pipe.get(key)
            stored, emitted, owner = await pipe.execute()
            if owner is None or owner != self.owned.get(owner_key):
                return self._fenced(tp)
            fresh = [(r, v) for r, v in decoded if r.offset >= int(stored or 0)]
            if not fresh:
                return True
            projection = Projection(self.keys, slot if isinstance(slot, PartitionKeys) else None)
            await projection.load(self.redis, [v for _, v in fresh if v is not None])
            spans = {raw.offset: tracing.record_span(f"project {self.topics[raw.topic]}", raw)
                     for raw, _ in fresh}
            for raw, value in fresh:
                if value is not None:
                    projection.apply(value, emit=raw.offset >= int(emitted or 0),
                                     traceparent=tracing.traceparent_of(spans[raw.offset]))
            if projection.contacts_born:
                await CONTACT_BORN.run(self.redis, projection.contacts_born)
            end = fresh[-1][0].offset + 1
            outcome = await batch_script.apply(
                self.batch, offset_key=offset_key, owner_key=owner_key, emitted_key=emitted_key,
                owner=owner, stored=stored, stored_emitted=emitted, next_offset=end,
                emitted=end if end > int(emitted or 0) else None, commands=projection.commands())
            for span in spans.values():
                span.end()
            if outcome is batch_script.Outcome.FENCED:
                return self._fenced(tp)
            if outcome is batch_script.Outcome.APPLIED:
                return True

    def _fenced(self, tp: TopicPartition) -> bool:
        log.warning("%s lost partition %d to another projector: batch of %s left to it",
                    self.settings.process, tp.partition, tp.topic)
        return True

    async def _decode(self, record: ConsumerRecord, new: bool) -> Record | None:
        """The record's value; None (dead-lettered if `new`) when it cannot be projected."""
        kind = self.kinds[record.topic]
        try:
            value = kind.FromString(record.value)
            problem = HANDLERS[type(value)].missing(value)
            if problem:
                raise ValueError(problem)
            return value
        except (DecodeError, ValueError) as exc:
            await self._fault(record, new, f"undecodable {kind.__name__}: {exc}")
            return None


async def keep_generations(settings: Settings, redis: Client) -> None:
    """Run a `Projector` for each generation of this code's layout that is serving or being built
    (beginning the first one on a new install or layout), and switch a built one in once it has
    caught up (`store.generations`); until cancelled or one of them fails."""
    keys = StoreKeys(settings)
    running: dict[int, asyncio.Task[None]] = {}
    try:
        while True:
            wanted = await generations.projected(redis, keys)
            if not wanted:  # asks Kafka for the end offsets only then
                await generations.begin_unless_built(redis, keys,
                                                     await rebuild.end_offsets(settings))
                wanted = await generations.projected(redis, keys)
            for number in wanted - running.keys():
                log.info("%s projects generation %d", settings.process, number)
                running[number] = asyncio.create_task(Projector(settings, redis, number).run())
            for number in running.keys() - wanted:
                running.pop(number).cancel()
            for task in running.values():
                if task.done():
                    task.result()  # a projector that failed stops the process (and its restart)
            await generations.switch_when_caught_up(redis, keys)
            await asyncio.sleep(1)
    finally:
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)


async def build(process: Process) -> Plan:
    """Project until stopped (answering only gRPC health on its port)."""
    return Plan([], background=[partial(keep_generations, process.settings, process.redis)])


if __name__ == "__main__":
    run(lambda settings: settings.process or f"{PROJECTOR}-1", build)
