"""One record's failure is that record's, never its worker's.

Every worker runs the processing of each record through `isolate`: an exception the record causes
(a time out of range, text that cannot be encoded, a bug a strange payload reaches) is handed to
the worker's `reject` (a dead letter, or its Redis equivalent) and the worker moves past the record;
an infrastructure failure (Kafka or Redis unreachable, a timeout) propagates, so the record is
tried again (by the worker, or by the process's restart) rather than lost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import errors as kafka_errors
from redis import exceptions as redis_errors

T = TypeVar("T")

#: Kafka errors the record causes itself (its output is too big to be written): retrying would
#: repeat them.
_RECORD_KAFKA_ERRORS = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
)

#: What says the platform, not the record, is at fault.
_INFRASTRUCTURE = (
    kafka_errors.KafkaError,
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    # A Redis Cluster between a primary's loss and its replica's promotion.
    redis_errors.ClusterDownError,
    redis_errors.TryAgainError,
    ConnectionError,
    TimeoutError,
)


def is_infrastructure(exc: BaseException) -> bool:
    """True when `exc` is Kafka or Redis being away or slow (try again), False when the record
    itself cannot be processed."""
    return isinstance(exc, _INFRASTRUCTURE) and not isinstance(exc, _RECORD_KAFKA_ERRORS)


def reason(exc: BaseException) -> str:
    """How a record's failure is recorded: the exception's type and message."""
    return f"{type(exc).__name__}: {exc}"


async def isolate(
    step: Callable[[], Awaitable[T]], reject: Callable[[str], Awaitable[None]]
) -> T | None:
    """Run `step`, the processing of one record, and return its result; when the record makes it
    fail, `reject` it with the reason and return None. Infrastructure failures propagate."""
    try:
        return await step()
    except Exception as exc:  # noqa: BLE001 - classified: only the record's own failures stop here
        if is_infrastructure(exc):
            raise
        await reject(reason(exc))
        return None
