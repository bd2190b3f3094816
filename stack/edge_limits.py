"""The bounds Envoy puts on every request (rendered into envoy.yaml by `stack.envoy`): the body
size (413), rates per API token and per client address (429 with `Retry-After`), and the sources'
webhook paths' own, higher rate, so a burst from Meta is never refused while a misbehaving client
is. The time to receive a request is the connection manager's `request_timeout` (408)."""

from __future__ import annotations

import json
from typing import Any

from runtime.settings import EdgeLimits

#: The RPCs whose paths the sources call (signed webhooks, custom sources' batches).
WEBHOOK_RPCS_PREFIX = "parley.v1.IngestService."
WEBHOOK_RPCS = ("parley.v1.SourcesService.IngestSourceWebhook",)
#: Most distinct tokens and addresses Envoy keeps a bucket for at once (least recently used go).
MAX_BUCKETS = 100_000

_ENABLED = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}


def _bucket(per_second: int) -> dict[str, Any]:
    """A token bucket of `per_second` requests each second and a burst of twice as many."""
    return {"max_tokens": 2 * per_second, "tokens_per_fill": per_second, "fill_interval": "1s"}


def _local_rate_limit(buckets: dict[str, tuple[dict[str, Any], int]]) -> str:
    """A local rate limit config with one bucket per distinct value of each descriptor key
    (action, requests per second), and no limit otherwise."""
    return json.dumps({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3"
                 ".LocalRateLimit",
        "stat_prefix": "edge_rate",
        # Required beside descriptors; never the one that refuses.
        "token_bucket": _bucket(1_000_000),
        "filter_enabled": _ENABLED,
        "filter_enforced": _ENABLED,
        "response_headers_to_add": [{"header": {"key": "retry-after", "value": "1"}}],
        "rate_limits": [{"actions": [action]} for action, _ in buckets.values()],
        # An entry without a value: a bucket of its own for each value seen.
        "descriptors": [{"entries": [{"key": key}], "token_bucket": _bucket(rate)}
                        for key, (_, rate) in buckets.items()],
        "max_dynamic_descriptors": MAX_BUCKETS,
    })


def api_rate_limit(limits: EdgeLimits) -> str:
    """The rate limit of every path but the webhooks': per token and per client address."""
    return _local_rate_limit({
        "token": ({"request_headers": {"header_name": "authorization", "descriptor_key": "token",
                                       "skip_if_absent": True}}, limits.rate_per_token),
        "remote_address": ({"remote_address": {}}, limits.rate_per_address),
    })


def webhook_rate_limit(limits: EdgeLimits) -> str:
    """The sources' webhook paths' rate limit, per client address."""
    return _local_rate_limit({"remote_address": ({"remote_address": {}}, limits.rate_webhooks)})


def body_limit(limits: EdgeLimits) -> str:
    """The buffer filter that refuses a body over the limit (413) before it reaches a service."""
    return json.dumps({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer",
        "max_request_bytes": limits.max_body_bytes,
    })
