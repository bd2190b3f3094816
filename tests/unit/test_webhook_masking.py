"""Webhook header values are write-only: every answer shows them masked, whatever their number
(a protobuf map written while it is iterated can end the iteration early: this caught that)."""

from __future__ import annotations

import pytest

from gateway.webhooks_service import MASK, served, unmasked
from parley.v1 import resources_pb2
from runtime.errors import InvalidArgument


@pytest.mark.parametrize("count", range(1, 13))
def test_every_header_value_is_masked(count: int) -> None:
    webhook = resources_pb2.Webhook(id="w1", url="https://example.com/hook")
    for i in range(count):
        webhook.headers[f"x-header-{i}"] = f"secret-{i}"
    shown = served(webhook)
    assert dict(shown.headers) == {f"x-header-{i}": MASK for i in range(count)}
    assert webhook.headers["x-header-0"] == "secret-0"  # the stored record is untouched


def test_a_masked_value_sent_back_keeps_the_current_one() -> None:
    current = {"authorization": "Bearer crm-token", "x-tenant": "acme"}
    assert unmasked({"authorization": MASK, "x-tenant": "globex"}, current) == {
        "authorization": "Bearer crm-token", "x-tenant": "globex"}
    with pytest.raises(InvalidArgument, match="x-unknown"):
        unmasked({"x-unknown": MASK}, current)
