"""Kafka stops: a webhook gets 503 and nothing is acknowledged; the source's retry after Kafka is
back is stored once, and the services recover by themselves."""

from __future__ import annotations

import httpx

from runtime.settings import Settings
from stack import kafka, processes, stack
from tests.integration import webhooks
from tests.integration.helpers import api, eventually


def test_kafka_down_is_503_and_the_retry_is_stored_once(live_stack: Settings, base_url: str) -> None:
    hook = webhooks.facebook(text="sent while Kafka was down")
    hook.connect(base_url)
    processes.stop(live_stack.data_dir, kafka.NAME)
    try:
        reply = hook.post(base_url)
        assert reply.status_code == 503
        assert reply.json()["code"] == 14  # UNAVAILABLE
    finally:
        kafka.start(live_stack, stack.CACHE_DIR)
    eventually(lambda: httpx.get(f"{base_url}/health", timeout=10).status_code == 200, timeout=60)

    # Meta retries until it gets a 200; then once more, as sources do.
    eventually(lambda: hook.post(base_url).status_code == 200, timeout=60)
    assert hook.post(base_url).status_code == 200
    listed = eventually(
        lambda: (r := api.post(f"{base_url}/messages.list",
                                 json={"conversation_id": hook.conversation_id}, timeout=10)
                 ).status_code == 200 and r.json(),
        timeout=60,
    )
    assert listed["pagination_data"]["total"] == 1
    assert listed["data"][0]["content"]["text"] == "sent while Kafka was down"
