"""The vertical slice: Kafka -> projector -> Redis -> store -> Envoy, as JSON and as gRPC."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format

from parley.v1 import messages_pb2, messages_pb2_grpc
from runtime.settings import Settings
from tests.integration.helpers import api, api_metadata, eventually, message_record, produce_messages

BASE_MS = 1_700_000_000_000


def _list(base_url: str, **body: Any) -> httpx.Response:
    return api.post(f"{base_url}/messages.list", json=body, timeout=10)


@pytest.fixture(scope="module")
def conversation(live_stack: Settings) -> tuple[str, list[str]]:
    """A conversation of 5 messages produced out of order; returns its id and texts by time."""
    conversation_id = str(uuid.uuid4())
    offsets = [3, 0, 4, 1, 2]  # produced in this order; sent_at decides the order served
    records = [message_record(conversation_id, BASE_MS + 1000 * i, f"m{i}") for i in offsets]
    # A redelivery of the same message must change nothing.
    records.append(records[0])
    asyncio.run(produce_messages(live_stack, records))
    return conversation_id, [f"m{i}" for i in range(5)]


def _texts(body: dict[str, Any]) -> list[str]:
    return [m["content"]["text"] for m in body["data"]]


def test_list_answers_from_the_projection_through_envoy(
    base_url: str, conversation: tuple[str, list[str]]
) -> None:
    conversation_id, texts = conversation
    body = eventually(
        lambda: (r := _list(base_url, conversation_id=conversation_id)).status_code == 200
        and r.json()["pagination_data"]["total"] == 5 and r.json()
    )
    assert _texts(body) == texts  # oldest -> latest, by the source's time
    assert body["pagination_data"] == {"previous_cursor": "", "next_cursor": "", "total": 5}
    first = body["data"][0]
    assert first["sent_at"] == "2023-11-14T22:13:20.000Z"
    assert first["delivery_state"] == first["state"] == "delivered"
    assert first["from_contact"] is True and first["source"] == "facebook"


def test_pages_walk_back_from_the_newest_and_forward_again(
    base_url: str, conversation: tuple[str, list[str]]
) -> None:
    conversation_id, texts = conversation
    eventually(lambda: _list(base_url, conversation_id=conversation_id).status_code == 200)
    pages, cursor = [], ""
    while True:
        body = _list(base_url, conversation_id=conversation_id, page_size=2, cursor=cursor).json()
        pages.append(_texts(body))
        cursor = body["pagination_data"]["next_cursor"]
        if not cursor:
            break
    assert pages == [["m3", "m4"], ["m1", "m2"], ["m0"]]

    back = body["pagination_data"]["previous_cursor"]
    newer = _list(base_url, conversation_id=conversation_id, page_size=2, cursor=back).json()
    assert _texts(newer) == ["m1", "m2"]
    assert newer["pagination_data"]["previous_cursor"] and newer["pagination_data"]["next_cursor"]


def test_grpc_through_envoy_gives_the_same_answer(
    live_stack: Settings, base_url: str, conversation: tuple[str, list[str]]
) -> None:
    conversation_id, _ = conversation
    json_body = eventually(
        lambda: (r := _list(base_url, conversation_id=conversation_id)).status_code == 200 and r.json()
    )
    with grpc.insecure_channel(f"127.0.0.1:{live_stack.http_port}") as channel:
        reply = messages_pb2_grpc.MessagesServiceStub(channel).ListMessages(
            messages_pb2.ListMessagesRequest(conversation_id=conversation_id), timeout=10,
            metadata=api_metadata())
    as_json = json_format.MessageToDict(
        reply, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    assert as_json == json_body


def test_unknown_conversation_is_a_json_404(live_stack: Settings, base_url: str) -> None:
    reply = _list(base_url, conversation_id="nope")
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json()["code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert "nope" in reply.json()["message"]
    with grpc.insecure_channel(f"127.0.0.1:{live_stack.http_port}") as channel:
        with pytest.raises(grpc.RpcError) as caught:
            messages_pb2_grpc.MessagesServiceStub(channel).ListMessages(
                messages_pb2.ListMessagesRequest(conversation_id="nope"), timeout=10,
                metadata=api_metadata())
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({}, "conversation_id is required"),
        ({"conversation_id": "x", "page_size": 5000}, "page_size"),
        ({"conversation_id": "x", "cursor": "not-a-cursor"}, "invalid cursor"),
    ],
)
def test_bad_input_is_a_json_400(base_url: str, body: dict[str, Any], fragment: str) -> None:
    reply = _list(base_url, **body)
    assert reply.status_code == 400
    assert fragment in reply.json()["message"]


def test_malformed_json_is_a_json_400_from_envoy(base_url: str) -> None:
    reply = api.post(f"{base_url}/messages.list", content=b"{not json", timeout=10)
    assert reply.status_code == 400
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json()["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]


def test_unknown_path_is_a_json_404_from_envoy(base_url: str) -> None:
    reply = api.post(f"{base_url}/messages.nothing", json={}, timeout=10)
    assert reply.status_code == 404
    assert reply.json()["code"] == grpc.StatusCode.NOT_FOUND.value[0]
