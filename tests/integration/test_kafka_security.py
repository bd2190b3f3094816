"""Every kind of Kafka client (admin, producer, group consumer) connects with the install's
security settings: here the local broker's SASL/SCRAM listener, as a secured cluster has it."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from aiokafka import TopicPartition

from runtime import kafka, topic_admin, topics
from runtime.settings import KafkaSecurity, Settings
from stack import kafka as local_kafka


def _over_sasl(settings: Settings, mechanism: str, password: str | None = None) -> Settings:
    """`settings` with every Kafka client on the local broker's SCRAM listener."""
    return dataclasses.replace(
        settings, kafka_bootstrap=f"127.0.0.1:{local_kafka.sasl_port(settings)}",
        kafka_security=KafkaSecurity(
            protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism, username=local_kafka.SASL_USER,
            password=password or local_kafka.sasl_password_file(settings).read_text()))


@pytest.mark.parametrize("mechanism", ["", *local_kafka.SCRAM_MECHANISMS])
async def test_admin_producer_and_group_consumer_work_plain_and_over_scram(live_stack: Settings,
                                                                           mechanism: str) -> None:
    secured = _over_sasl(live_stack, mechanism) if mechanism else live_stack
    assert await topic_admin.missing(secured) == []  # the admin client
    topic = secured.prefixed(topics.raw_topic("custom"))
    value = uuid.uuid4().bytes
    producer = kafka.producer(secured)
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()
    consumer = kafka.consumer(secured, f"scram-{uuid.uuid4().hex}")
    await consumer.start()
    try:
        tp = TopicPartition(topic, sent.partition)
        consumer.assign([tp])
        consumer.seek(tp, sent.offset)
        batch = await consumer.getmany(tp, timeout_ms=10_000)
        assert batch[tp][0].value == value
        await consumer.commit({tp: sent.offset + 1})  # the group coordinator, over SASL too
        assert await consumer.committed(tp) == sent.offset + 1
    finally:
        await consumer.stop()


async def test_a_wrong_password_or_no_sasl_on_the_scram_port_is_refused(live_stack: Settings) -> None:
    assert not await kafka.cluster_reachable(_over_sasl(live_stack, "SCRAM-SHA-512", "wrong"))
    plain = dataclasses.replace(live_stack,
                                kafka_bootstrap=f"127.0.0.1:{local_kafka.sasl_port(live_stack)}")
    assert not await kafka.cluster_reachable(plain)


async def test_a_batching_producer_lingers_and_compresses_and_nothing_changes_for_readers(
        live_stack: Settings) -> None:
    settings = dataclasses.replace(live_stack, kafka_compression="gzip", kafka_linger_ms=20)
    topic = settings.prefixed(topics.raw_topic("custom"))
    values = [uuid.uuid4().bytes * 8 for _ in range(20)]
    producer = kafka.producer(settings, batched=True)
    await producer.start()
    try:
        acks = [await producer.send(topic, value, key=b"batched") for value in values]
        sent = [await ack for ack in acks]
    finally:
        await producer.stop()
    # One key, one partition: the twenty records in order, as they were sent.
    [partition] = {s.partition for s in sent}
    consumer = kafka.consumer(settings, None)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, sent[0].offset)
        read: list[bytes] = []
        while len(read) < len(values):
            batch = await consumer.getmany(tp, timeout_ms=10_000)
            assert batch, "the records did not come back"
            read += [r.value for r in batch[tp]]
        assert read[:len(values)] == values
    finally:
        await consumer.stop()
