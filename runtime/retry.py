"""One retry policy for Parley's outbound calls: a schedule of pauses that answers, after a failed
attempt, how long to wait before the next one, or that it is time to give up.

Sending to a source (`messaging.delivery`) retries within seconds, each pause doubling and drawn
at random from its upper half (`exponential`); a webhook delivery (`gateway.dispatcher`) is retried
over days on an explicit schedule (`RetryPolicy(pauses)`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Pauses between the attempts of one call: `pauses_s[0]` before the second attempt, and so on;
    once they are spent, give up."""

    #: Seconds before attempt 2, 3, ...: each an upper bound when `jitter` is set.
    pauses_s: tuple[float, ...]
    #: Each pause drawn from half to all of it, so that many calls failing together (a source's
    #: outage) do not retry in step.
    jitter: bool = False

    @property
    def attempts(self) -> int:
        """Attempts at most, the first one included."""
        return len(self.pauses_s) + 1

    def pause_after(self, failed: int) -> float | None:
        """The pause after failed attempt number `failed` (1-based) before the next one; None when
        it was the last attempt."""
        if failed > len(self.pauses_s):
            return None
        pause = self.pauses_s[failed - 1]
        return random.uniform(pause / 2, pause) if self.jitter else pause


def exponential(attempts: int, base_s: float, max_s: float) -> RetryPolicy:
    """`attempts` attempts at most, the pause after the first `base_s`, doubling per attempt up to
    `max_s`, with jitter."""
    pauses: list[float] = []
    pause = base_s
    for _ in range(attempts - 1):
        pauses.append(min(pause, max_s))
        # Capped as it doubles: thousands of attempts never overflow a float.
        pause = min(pause * 2, max_s)
    return RetryPolicy(tuple(pauses), jitter=True)
