"""The sender: consumes `parley.messages`, sends each pending outbound message through its
source's connector and writes the outcome (`delivered` + `metadata.source.id`, or `failed` +
`metadata.error`) back to Kafka, from where the store projects it.

Each conversation has a queue of its own, drained by one task: order is kept within a
conversation while different conversations send in parallel (one retrying does not hold up the
others). A partition's offset is committed up to its oldest message still being sent; an
outcome already projected is never sent again. A message that fails by its own fault (not
Kafka's or Redis's, `runtime.record_failures`) is dead-lettered and passed.

Senders are many (replicas, restarts): each claims a message right before its connector call
(`messaging.claims`), and one that meets another's claim waits for its outcome, so a partition
that moves mid-send (a rebalance) sends nothing twice. A revoked partition is handed over at
once: what was sent is committed, what is queued is dropped (its next owner reads it again), and
a send under way finishes under its claim. A commit the group refuses never stops a sender.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import partial

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord
from google.protobuf.message import DecodeError

from messaging import sends
from messaging.claims import Claim, SendClaims
from sources.outbound import Delivered, Rejected
from messaging.delivery import Clients, attempt_delivery
from messaging.policy import SendPolicy
from messaging.record_writer import RecordWriter
from store.client import StoreReads
from parley.v1 import records_pb2
from runtime import kafka, metrics, outbound, topics
from runtime.deadletter import or_dead_letter
from runtime.settings import Settings

log = logging.getLogger(__name__)

GROUP = "messaging-sender"
#: How many finished attempts a sender remembers (beyond them, the projection answers).
REMEMBERED = 100_000
#: Messages being sent at once at most; fetching pauses above it.
MAX_IN_FLIGHT = 1000
#: How often a message another sender holds is looked at again.
HELD_POLL_S = 0.5
#: The error of a message whose sender died while sending it (`messaging.claims`).
ABANDONED = ("unknown whether it was sent: the sender sending it stopped before the source "
             "answered; resend it if it did not arrive")


def is_pending_outbound(record: records_pb2.MessageRecord) -> bool:
    """True for a message Parley has to send through a connector (the chat plugin's reach the
    visitor on their stream, which marks them delivered)."""
    return (not record.message.from_contact and record.message.delivery_state == sends.PENDING
            and record.message.source not in sends.DELIVERED_ON_VISITOR_STREAM)


@dataclass
class _Partition:
    """A partition's offsets still being sent, and what may be committed."""

    in_flight: set[int] = field(default_factory=set)
    next_offset: int = 0
    committed: int = -1

    def committable(self) -> int:
        return min(self.in_flight) if self.in_flight else self.next_offset


@dataclass(frozen=True)
class _Finished:
    """How an attempt to send a message ended."""

    delivered: bool
    pending_since_ms: int

    def settles(self, record: records_pb2.MessageRecord) -> bool:
        """True when `record` needs no sending: delivered is final, and a failure of this very
        attempt (or of a later one) is known already."""
        return self.delivered or self.pending_since_ms >= record.pending_since_ms


@dataclass(frozen=True)
class _Item:
    raw: ConsumerRecord
    record: records_pb2.MessageRecord
    partition: _Partition


class _Handover(ConsumerRebalanceListener):  # type: ignore[misc]
    """Releases a sender's revoked partitions before the group moves them."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self.sender.release(revoked)

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        log.info("sending for %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in assigned))


class Sender:
    """Sends pending messages; one per process is enough, more share the partitions."""

    def __init__(self, settings: Settings, reads: StoreReads, writer: RecordWriter,
                 policy: SendPolicy, claims: SendClaims) -> None:
        self.settings = settings
        self.reads = reads
        self.writer = writer
        self.policy = policy
        self.claims = claims
        self.consumer: AIOKafkaConsumer = kafka.consumer(settings, GROUP)
        self.lag = metrics.ConsumerLag(GROUP)
        self.partitions: dict[TopicPartition, _Partition] = {}
        self.queues: dict[str, deque[_Item]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        #: The outcome of each message this process finished, by id: the projection of it may
        #: still be on its way when a duplicate pending record comes by (two sends racing with
        #: one idempotency key write the same message twice).
        self.finished: OrderedDict[str, _Finished] = OrderedDict()
        #: Outcomes of sends whose writing to Kafka failed, by claim: written when tried again.
        self.unwritten: dict[str, Delivered | Rejected] = {}

    async def run(self) -> None:
        """Send until cancelled."""
        self.consumer.subscribe([self.settings.prefixed(topics.MESSAGES)],
                                listener=_Handover(self))
        await self.consumer.start()
        try:
            async with httpx.AsyncClient() as http, outbound.client(
                    self.policy.outbound_allow) as checked:
                clients = Clients(http, checked)
                while True:
                    await self._commit()
                    if sum(len(p.in_flight) for p in self.partitions.values()) >= MAX_IN_FLIGHT:
                        await asyncio.sleep(0.05)
                        continue
                    batches = await self.consumer.getmany(timeout_ms=200, max_records=200)
                    await self.lag.update(self.consumer)
                    for tp, records in batches.items():
                        partition = self.partitions.setdefault(tp, _Partition())
                        for raw in records:
                            partition.next_offset = raw.offset + 1
                            try:
                                record = records_pb2.MessageRecord.FromString(raw.value)
                            except DecodeError:
                                continue  # the projector dead-letters it
                            if is_pending_outbound(record):
                                partition.in_flight.add(raw.offset)
                                self._enqueue(clients, _Item(raw, record, partition))
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await self.consumer.stop()

    def _enqueue(self, clients: Clients, item: _Item) -> None:
        conversation = item.record.conversation_id
        queue = self.queues.get(conversation)
        if queue is not None:
            queue.append(item)
            return
        self.queues[conversation] = deque([item])
        task = asyncio.create_task(self._drain(clients, conversation))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _drain(self, clients: Clients, conversation: str) -> None:
        queue = self.queues[conversation]
        try:
            while queue:
                item = queue[0]
                try:
                    # A message that fails by its own fault is dead-lettered and passed.
                    await or_dead_letter(self.writer.producer, self.settings, item.raw,
                                         partial(self._send, clients, item.record))
                except Exception:  # noqa: BLE001 - Kafka or Redis away: the same one again, in order
                    log.exception("sending message %s failed; trying again", item.record.message.id)
                    await asyncio.sleep(1.0)
                    continue
                queue.popleft()
                item.partition.in_flight.discard(item.raw.offset)
        finally:
            del self.queues[conversation]

    async def _commit(self, partitions: Collection[TopicPartition] | None = None) -> None:
        """Commit what may be committed of `partitions` (every one this sender holds by default).
        A commit the group refuses (this sender is no longer a member, or no longer holds the
        partition) is left to the partition's next owner: it starts from the last commit, and
        the claims keep it from sending twice."""
        chosen = self.partitions if partitions is None else {
            tp: self.partitions[tp] for tp in partitions if tp in self.partitions}
        offsets = {tp: p.committable() for tp, p in chosen.items()
                   if p.committable() > p.committed}
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning("offsets %s not committed: %s", offsets, exc)
            return
        for tp, offset in offsets.items():
            self.partitions[tp].committed = offset

    async def release(self, revoked: Collection[TopicPartition]) -> None:
        """Hand `revoked` over to their next owner: commit what was sent, and drop what is
        queued (the next owner reads it from the commit). A send already under way goes on
        under its claim, which the next owner honours."""
        await self._commit(revoked)
        log.info("released %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in revoked))
        for tp in revoked:
            self.partitions.pop(tp, None)
        gone = set(revoked)
        for queue in self.queues.values():
            while len(queue) > 1 and TopicPartition(queue[-1].raw.topic,
                                                    queue[-1].raw.partition) in gone:
                queue.pop()

    async def _send(self, clients: Clients, record: records_pb2.MessageRecord) -> None:
        if await self._already_done(record):
            return
        # An outcome not written yet (Kafka was away) is written, not sought again.
        claim_key = self.claims.key(record)
        outcome = self.unwritten.get(claim_key)
        if outcome is None:
            claim = await self.claims.take(record)
            if claim is Claim.HELD:
                log.info("message %s is being sent by another sender", record.message.id)
            while claim is Claim.HELD:  # another sender is sending it: its outcome will come
                await asyncio.sleep(HELD_POLL_S)
                if await self._already_done(record):
                    return
                claim = await self.claims.take(record)
            if claim is Claim.DONE:
                return
            outcome = Rejected(ABANDONED) if claim is Claim.ABANDONED else await self._deliver(
                clients, record)
            self.unwritten[claim_key] = outcome
        if isinstance(outcome, Delivered):
            await self.writer.message(sends.delivered(record, outcome.source_message_id))
        else:
            await self.writer.failed(record, outcome.error)
        metrics.SENDS.labels(record.message.source, sends.DELIVERED if isinstance(
            outcome, Delivered) else sends.FAILED).inc()
        await self.claims.done(record)
        del self.unwritten[claim_key]
        self.finished[record.message.id] = _Finished(isinstance(outcome, Delivered),
                                                     record.pending_since_ms)
        self.finished.move_to_end(record.message.id)
        if len(self.finished) > REMEMBERED:
            self.finished.popitem(last=False)

    async def _deliver(self, clients: Clients, record: records_pb2.MessageRecord
                       ) -> Delivered | Rejected:
        """Send `record` through its connector, keeping this sender's claim on it meanwhile."""
        async with self.claims.renewed(record):
            channel = await self.reads.channel(record.channel_id)
            return await attempt_delivery(clients, self.policy, record, channel, self.reads)

    async def _already_done(self, record: records_pb2.MessageRecord) -> bool:
        finished = self.finished.get(record.message.id)
        if finished is not None and finished.settles(record):
            return True
        stored = await self.reads.record(record.message.id)
        if stored is None or stored.message.delivery_state == sends.PENDING:
            return False
        return _Finished(stored.message.delivery_state == sends.DELIVERED,
                         stored.pending_since_ms).settles(record)
