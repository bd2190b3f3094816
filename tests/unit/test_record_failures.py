"""One record's failure is dead-lettered (rejected) and the worker moves on; Kafka or Redis being
away propagates, so the record is tried again."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import errors as kafka_errors
from redis import exceptions as redis_errors

from runtime.record_failures import is_infrastructure, isolate


def _run(step_error: BaseException | None) -> tuple[object, list[str]]:
    rejected: list[str] = []

    async def step() -> str:
        if step_error is not None:
            raise step_error
        return "done"

    async def reject(reason: str) -> None:
        rejected.append(reason)

    return asyncio.run(isolate(step, reject)), rejected


def test_a_step_that_works_gives_its_result_and_rejects_nothing() -> None:
    assert _run(None) == ("done", [])


@pytest.mark.parametrize("error", [
    ValueError("year 10000 is out of range"),
    UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    KeyError("body"),
    OverflowError("int too large"),
    kafka_errors.MessageSizeTooLargeError(),
    redis_errors.ResponseError("WRONGTYPE"),
])
def test_a_records_own_failure_is_rejected_with_its_reason(error: Exception) -> None:
    result, rejected = _run(error)
    assert result is None
    assert rejected == [f"{type(error).__name__}: {error}"]
    assert not is_infrastructure(error)


@pytest.mark.parametrize("error", [
    kafka_errors.KafkaConnectionError("broker down"),
    kafka_errors.KafkaTimeoutError(),
    kafka_errors.NotLeaderForPartitionError(),
    redis_errors.ConnectionError("refused"),
    redis_errors.TimeoutError("slow"),
    ConnectionResetError("reset"),
    TimeoutError(),
])
def test_infrastructure_failures_propagate_and_reject_nothing(error: Exception) -> None:
    rejected: list[str] = []

    async def step() -> None:
        raise error

    async def reject(reason: str) -> None:
        rejected.append(reason)

    with pytest.raises(type(error)):
        asyncio.run(isolate(step, reject))
    assert rejected == [] and is_infrastructure(error)


def test_cancellation_is_not_a_records_failure() -> None:
    async def main() -> list[str]:
        rejected: list[str] = []

        async def reject(reason: str) -> None:
            rejected.append(reason)

        task = asyncio.create_task(isolate(lambda: asyncio.sleep(10), reject))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return rejected

    assert asyncio.run(main()) == []
