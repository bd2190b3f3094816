"""How hard messaging tries: retries, timeouts, the stale guard and the 202 wait, from the
`PARLEY_MESSAGING_*` settings (`runtime.service_settings`)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runtime.outbound import Network
from runtime.retry import RetryPolicy, exponential
from runtime.service_settings import (MESSAGING_ATTEMPTS, MESSAGING_BACKOFF_BASE_S,
                                      MESSAGING_BACKOFF_MAX_S, MESSAGING_CLAIM_LEASE_S,
                                      MESSAGING_CONVERSATION_WAIT_S, MESSAGING_STALE_AFTER_S,
                                      MESSAGING_TIMEOUT_S)
from runtime.setting import declared, read_fields


def _retry(env: Mapping[str, str]) -> RetryPolicy:
    """The calls of a source's API per message and the pauses between them: exponential, with
    jitter, from `PARLEY_MESSAGING_ATTEMPTS`, `_BACKOFF_BASE_S` and `_BACKOFF_MAX_S`."""
    return exponential(MESSAGING_ATTEMPTS.read(env), MESSAGING_BACKOFF_BASE_S.read(env),
                       MESSAGING_BACKOFF_MAX_S.read(env))


@dataclass(frozen=True)
class SendPolicy:
    """Retry and time limits of outbound sending; each field's default is its setting's."""

    retry: RetryPolicy = _retry({})
    #: Timeout of one API call.
    timeout_s: float = declared(MESSAGING_TIMEOUT_S)
    #: A message pending longer than this is failed, not sent late.
    stale_after_s: float = declared(MESSAGING_STALE_AFTER_S)
    #: How long a send to a conversation not in the store yet looks for it (HTTP 202).
    conversation_wait_s: float = declared(MESSAGING_CONVERSATION_WAIT_S)
    #: How long a sender's claim on a message outlives the sender (`messaging.claims`): a
    #: message whose sender died mid-send is failed this long after.
    claim_lease_s: float = declared(MESSAGING_CLAIM_LEASE_S)
    #: Networks custom sources' action endpoints may reach although they are not global
    #: (`Settings.outbound_allow`).
    outbound_allow: Sequence[Network] = ()


def load(env: Mapping[str, str] = os.environ,
         outbound_allow: Sequence[Network] = ()) -> SendPolicy:
    """The policy configured by the `PARLEY_MESSAGING_*` settings, with the settings'
    `outbound_allow`."""
    return read_fields(SendPolicy, env, retry=_retry(env), outbound_allow=tuple(outbound_allow))
