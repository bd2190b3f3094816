"""The one retry policy: an exponential one with jitter (sending), an explicit schedule
(webhooks), each answering the pause before the next attempt or that it is time to give up."""

from __future__ import annotations

from gateway.dispatcher import Policy
from runtime.retry import RetryPolicy, exponential


def test_backoff_grows_with_jitter_up_to_its_ceiling() -> None:
    limits = exponential(attempts=10, base_s=0.5, max_s=4)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)):
        pauses = {limits.pause_after(attempt) for _ in range(50)}
        assert all(p is not None and ceiling / 2 <= p <= ceiling for p in pauses)
        assert len(pauses) > 1
    assert limits.pause_after(10) is None


def test_attempts_include_the_first_and_the_last_one_gives_up() -> None:
    assert exponential(attempts=1, base_s=0.5, max_s=30).pause_after(1) is None
    five = exponential(attempts=5, base_s=0.5, max_s=30)
    assert five.attempts == 5
    assert [five.pause_after(n) is None for n in range(1, 6)] == [False] * 4 + [True]
    # Doubling is capped as it goes: a huge number of attempts stays finite.
    assert exponential(attempts=3000, base_s=0.5, max_s=30).pauses_s[-1] == 30


def test_a_schedule_is_followed_exactly_then_gives_up() -> None:
    schedule = RetryPolicy((5, 300, 1800))
    assert [schedule.pause_after(n) for n in (1, 2, 3, 4)] == [5, 300, 1800, None]


def test_webhook_retries_are_svixs_schedule_unless_configured() -> None:
    assert Policy.from_env({}) == Policy()
    assert Policy().retry.pauses_s == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert Policy.from_env({"PARLEY_WEBHOOK_RETRY_S": ""}) == Policy()
    configured = Policy.from_env({"PARLEY_WEBHOOK_RETRY_S": "1,2.5"})
    assert [configured.retry.pause_after(n) for n in (1, 2, 3)] == [1, 2.5, None]
