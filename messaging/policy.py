"""How hard messaging tries: retries, timeouts, the stale guard and the 202 wait, from
`PARLEY_MESSAGING_*` environment variables."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runtime.outbound import Network


@dataclass(frozen=True)
class SendPolicy:
    """Retry and time limits of outbound sending."""

    #: Calls of the source's API per message at most (the first one included).
    attempts: int = 5
    #: Backoff before the second call; doubles per call, up to `backoff_max_s`.
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    #: Timeout of one API call.
    timeout_s: float = 10.0
    #: A message pending longer than this is failed, not sent late.
    stale_after_s: float = 300.0
    #: How long a send to a conversation not in the store yet looks for it (HTTP 202).
    conversation_wait_s: float = 30.0
    #: How long a sender's claim on a message outlives the sender (`messaging.claims`): a
    #: message whose sender died mid-send is failed this long after.
    claim_lease_s: float = 30.0
    #: Networks custom sources' action endpoints may reach although they are not global
    #: (`Settings.outbound_allow`).
    outbound_allow: Sequence[Network] = ()

    def backoff_s(self, attempt: int) -> float:
        """The pause after failed call number `attempt` (1-based): exponential, with jitter (half
        to all of it) so that many failing conversations do not retry in step."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


def load(env: Mapping[str, str] = os.environ,
         outbound_allow: Sequence[Network] = ()) -> SendPolicy:
    """The policy configured by `PARLEY_MESSAGING_ATTEMPTS`, `_BACKOFF_BASE_S`, `_BACKOFF_MAX_S`,
    `_TIMEOUT_S`, `_STALE_AFTER_S`, `_CONVERSATION_WAIT_S` and `_CLAIM_LEASE_S` (defaults above),
    with the settings' `outbound_allow`."""
    default = SendPolicy()
    prefix = "PARLEY_MESSAGING_"
    return SendPolicy(
        attempts=max(1, int(env.get(prefix + "ATTEMPTS", default.attempts))),
        backoff_base_s=float(env.get(prefix + "BACKOFF_BASE_S", default.backoff_base_s)),
        backoff_max_s=float(env.get(prefix + "BACKOFF_MAX_S", default.backoff_max_s)),
        timeout_s=float(env.get(prefix + "TIMEOUT_S", default.timeout_s)),
        stale_after_s=float(env.get(prefix + "STALE_AFTER_S", default.stale_after_s)),
        conversation_wait_s=float(env.get(prefix + "CONVERSATION_WAIT_S", default.conversation_wait_s)),
        claim_lease_s=float(env.get(prefix + "CLAIM_LEASE_S", default.claim_lease_s)),
        outbound_allow=tuple(outbound_allow),
    )
