"""The settings of what the services do (retries, timeouts, lifetimes, buffers), as opposed to
where things are (`runtime.settings`). Each is read where it is used, by its declaration
(`Setting.read`), so a service reads only its own."""

from __future__ import annotations

from typing import Any

from runtime.setting import Setting

#: Svix's schedule of pauses between the attempts of a webhook delivery, seconds.
SVIX_PAUSES_S: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)


def _at_least_one(raw: str) -> int:
    """An integer, 1 when smaller (one attempt is always made)."""
    return max(1, int(raw))


def _pauses(raw: str) -> tuple[float, ...]:
    """Comma-separated seconds; empty text is the default schedule, as an unset variable."""
    return tuple(float(pause) for pause in raw.split(",")) if raw else SVIX_PAUSES_S


# Sending to the sources (messaging).
MESSAGING_ATTEMPTS = Setting("PARLEY_MESSAGING_ATTEMPTS", 5, _at_least_one,
                             "calls of a source's API per message at most")
MESSAGING_BACKOFF_BASE_S = Setting(
    "PARLEY_MESSAGING_BACKOFF_BASE_S", 0.5, float,
    "pause before the second call; it doubles per call, up to `PARLEY_MESSAGING_BACKOFF_MAX_S`, "
    "each drawn from half to all of it")
MESSAGING_BACKOFF_MAX_S = Setting("PARLEY_MESSAGING_BACKOFF_MAX_S", 30.0, float,
                                  "the longest pause between two calls")
MESSAGING_TIMEOUT_S = Setting("PARLEY_MESSAGING_TIMEOUT_S", 10.0, float,
                              "timeout of one API call (the whole exchange)")
MESSAGING_STALE_AFTER_S = Setting("PARLEY_MESSAGING_STALE_AFTER_S", 300.0, float,
                                  "a message pending longer is failed, not sent late")
MESSAGING_CONVERSATION_WAIT_S = Setting(
    "PARLEY_MESSAGING_CONVERSATION_WAIT_S", 30.0, float,
    "how long a 202 send looks for its conversation (not in the store yet)")
MESSAGING_CLAIM_LEASE_S = Setting(
    "PARLEY_MESSAGING_CLAIM_LEASE_S", 30.0, float,
    "how long a sender's claim on a message outlives the sender (then the message is failed, not "
    "sent twice)")

# Realtime events, outbound webhooks and the chat plugin (gateway), tokens (auth).
EVENTS_HEARTBEAT_S = Setting("PARLEY_EVENTS_HEARTBEAT_S", 15.0, float,
                             "heartbeat interval of idle event streams")
EVENTS_SUBSCRIBER_BUFFER = Setting("PARLEY_EVENTS_SUBSCRIBER_BUFFER", 1000, int,
                                   "events a subscriber may fall behind before it is cut")
WEBHOOK_RETRY_S = Setting(
    "PARLEY_WEBHOOK_RETRY_S", SVIX_PAUSES_S, _pauses,
    "pauses before each retry of a webhook delivery, seconds, comma-separated (Svix's schedule); "
    "then it fails")
WEBHOOK_TIMEOUT_S = Setting("PARLEY_WEBHOOK_TIMEOUT_S", 10.0, float,
                            "timeout of one webhook delivery attempt")
WEBHOOK_DISABLE_AFTER_S = Setting("PARLEY_WEBHOOK_DISABLE_AFTER_S", 5 * 24 * 3600.0, float,
                                  "a webhook whose every delivery failed this long is disabled")
CHATPLUGIN_SECRET = Setting(
    "PARLEY_CHATPLUGIN_SECRET", "", str,
    "key of the chat plugin's visitor tokens (set it, the same on every gateway, beyond one "
    "machine)", shown="generated into `.data/chatplugin.key`")
CHATPLUGIN_TOKEN_TTL_S = Setting("PARLEY_CHATPLUGIN_TOKEN_TTL_S", 3600, int,
                                 "lifetime of a chat plugin visitor token, seconds")
CHATPLUGIN_RESUME_TTL_S = Setting("PARLEY_CHATPLUGIN_RESUME_TTL_S", 90 * 24 * 3600, int,
                                  "lifetime of a chat plugin resume token, seconds")
AUTH_CACHE_S = Setting("PARLEY_AUTH_CACHE_S", 1.0, float,
                       "how long the edge keeps a token's answer: a revocation takes effect "
                       "within it")

#: The declarations of this module, in README's order.
DECLARED: tuple[Setting[Any], ...] = (
    MESSAGING_ATTEMPTS, MESSAGING_BACKOFF_BASE_S, MESSAGING_BACKOFF_MAX_S, MESSAGING_TIMEOUT_S,
    MESSAGING_STALE_AFTER_S, MESSAGING_CONVERSATION_WAIT_S, MESSAGING_CLAIM_LEASE_S,
    EVENTS_HEARTBEAT_S, EVENTS_SUBSCRIBER_BUFFER, WEBHOOK_RETRY_S, WEBHOOK_TIMEOUT_S,
    WEBHOOK_DISABLE_AFTER_S, CHATPLUGIN_SECRET, CHATPLUGIN_TOKEN_TTL_S, CHATPLUGIN_RESUME_TTL_S,
    AUTH_CACHE_S,
)
