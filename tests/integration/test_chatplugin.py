"""The chat plugin's visitor API through Envoy: a visitor and an agent chat live, agent messages
become delivered when they reach the visitor, conversations resume, and tokens keep each visitor
to their own conversation. Also the widget script and CORS, as a page on another origin needs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import TEST_ENV
from tests.integration.helpers import api, eventually, post
from tests.integration.streams import Listener, sse

SECRET = TEST_ENV["PARLEY_CHATPLUGIN_SECRET"]
WIDGET = Path(__file__).resolve().parents[2] / "chatplugin" / "widget" / "dist" / "s.js"


def _ok(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _channel(base_url: str) -> str:
    return str(_ok(post(base_url, "/channels.chatplugin.connect", {"name": "Website"}))["id"])


def _stream(base_url: str, token: str) -> tuple[Listener, httpx.Client]:
    return sse(base_url, {"token": token}, path="/chatplugin.stream")


def _messages(base_url: str, conversation_id: str) -> list[dict[str, Any]]:
    reply = post(base_url, "/messages.list", {"conversation_id": conversation_id})
    return list(reply.json()["data"]) if reply.status_code == 200 else []


def test_a_visitor_and_an_agent_chat_live(base_url: str) -> None:
    channel_id = _channel(base_url)
    session = _ok(post(base_url, "/chatplugin.authenticate", {"channel_id": channel_id}))
    assert session["messages"] == [] and session["conversation_id"]
    conversation_id, token = session["conversation_id"], session["token"]
    visitor_stream, client = _stream(base_url, token)
    try:
        sent = _ok(post(base_url, "/chatplugin.send", {"message": {"text": "Hi, anyone?"}}, token))
        assert (sent["from_contact"], sent["delivery_state"], sent["source"]) == (
            True, "delivered", "chatplugin")
        created = visitor_stream.take(1)[0]
        assert (created["event"], created["data"]["payload"]["message"]["id"]) == (
            "message.created", sent["id"])
        assert [m["id"] for m in eventually(lambda: _messages(base_url, conversation_id))] == [
            sent["id"]]

        # The agent answers through the API: pending, then delivered once on the visitor's stream.
        reply = _ok(post(base_url, "/messages.send", {"conversation_id": conversation_id,
                                                       "message": {"text": "Hello! How can I help?"}}))
        assert reply["delivery_state"] == "pending"
        pending, delivered = visitor_stream.take(2)
        assert (pending["event"], pending["data"]["payload"]["message"]["delivery_state"]) == (
            "message.created", "pending")
        assert (delivered["event"], delivered["data"]["payload"]["message"]["delivery_state"]) == (
            "message.updated", "delivered")
        assert delivered["data"]["payload"]["message"]["id"] == reply["id"]
        # The visitor's stream carries messages only, not the conversation's metadata.
        post(base_url, "/conversations.set-state", {"conversation_id": conversation_id,
                                                    "state": "OPEN"})
        assert visitor_stream.nothing_more()
    finally:
        client.close()

    # Resumed (e.g. after a page reload): the same conversation and its messages.
    resume = _ok(post(base_url, "/chatplugin.resumeToken", {}, token))["resume_token"]
    again = _ok(post(base_url, "/chatplugin.authenticate", {"resume_token": resume}))
    assert again["conversation_id"] == conversation_id
    assert [(m["content"]["text"], m["delivery_state"]) for m in again["messages"]] == [
        ("Hi, anyone?", "delivered"), ("Hello! How can I help?", "delivered")]


def test_an_agent_message_sent_while_the_visitor_is_away_is_delivered_when_they_return(
        base_url: str) -> None:
    session = _ok(post(base_url, "/chatplugin.authenticate", {"channel_id": _channel(base_url)}))
    token, conversation_id = session["token"], session["conversation_id"]
    _ok(post(base_url, "/chatplugin.send", {"message": {"text": "I'll be back"}}, token))
    resume = _ok(post(base_url, "/chatplugin.resumeToken", {}, token))["resume_token"]
    eventually(lambda: _messages(base_url, conversation_id))
    reply = _ok(post(base_url, "/messages.send", {"conversation_id": conversation_id,
                                                   "message": {"text": "Are you there?"}}))
    time.sleep(1)  # nobody is there to see it
    assert _messages(base_url, conversation_id)[-1]["delivery_state"] == "pending"
    back = _ok(post(base_url, "/chatplugin.authenticate", {"resume_token": resume}))
    assert back["messages"][-1]["id"] == reply["id"]
    eventually(lambda: _messages(base_url, conversation_id)[-1]["delivery_state"] == "delivered")


def test_a_stream_opened_after_authenticate_misses_nothing_in_between(base_url: str) -> None:
    session = _ok(post(base_url, "/chatplugin.authenticate", {"channel_id": _channel(base_url)}))
    sent = _ok(post(base_url, "/chatplugin.send", {"message": {"text": "first"}}, session["token"]))
    eventually(lambda: _messages(base_url, session["conversation_id"]))
    stream, client = _stream(base_url, session["token"])
    try:
        assert stream.take(1)[0]["data"]["payload"]["message"]["id"] == sent["id"]
    finally:
        client.close()


def _forged(claims: dict[str, Any], key: str = SECRET) -> str:
    return jwt.encode({"typ": "visitor", "exp": int(time.time()) + 60, **claims}, key,
                      algorithm="HS256")


def test_tokens_keep_a_visitor_to_their_own_conversation(base_url: str) -> None:
    channel_id = _channel(base_url)
    first = _ok(post(base_url, "/chatplugin.authenticate", {"channel_id": channel_id}))
    second = _ok(post(base_url, "/chatplugin.authenticate", {"channel_id": channel_id}))
    assert first["conversation_id"] != second["conversation_id"]
    claims = jwt.decode(first["token"], options={"verify_signature": False})
    message = {"message": {"text": "hi"}}

    # Another visitor's stream never sees this conversation.
    stream, client = _stream(base_url, second["token"])
    try:
        _ok(post(base_url, "/chatplugin.send", message, first["token"]))
        assert stream.nothing_more()
    finally:
        client.close()

    for token, why in (
        ("", "a visitor token is required"),
        ("garbage", "not valid"),
        (_forged({**claims, "exp": int(time.time()) - 5}), "has expired"),
        # Another visitor's conversation, by editing the token: the signature no longer holds.
        (_forged({**claims, "vi": "someone-else"}, key="a-guessed-key-of-at-least-32-bytes"),
         "not valid"),
        (_ok(post(base_url, "/chatplugin.resumeToken", {}, first["token"]))["resume_token"],
         "not a resume token"),
    ):
        headers = {"authorization": f"Bearer {token}"} if token else {}
        reply = httpx.post(f"{base_url}/chatplugin.send", json=message, headers=headers, timeout=10)
        assert reply.status_code == 401 and why in reply.json()["message"], (why, reply.text)
    reply = httpx.get(f"{base_url}/chatplugin.stream", params={"token": "garbage"}, timeout=10)
    assert reply.status_code == 401
    # A resume token starts sessions only; a visitor token cannot resume.
    assert post(base_url, "/chatplugin.authenticate",
                {"resume_token": first["token"]}).status_code == 401


def test_a_stream_ends_when_its_token_expires(base_url: str) -> None:
    session = _ok(post(base_url, "/chatplugin.authenticate", {"channel_id": _channel(base_url)}))
    claims = jwt.decode(session["token"], options={"verify_signature": False})
    expires = int(time.time()) + 4
    brief = _forged({**claims, "exp": expires})
    stream, client = _stream(base_url, brief)
    try:
        sent = _ok(post(base_url, "/chatplugin.send", {"message": {"text": "still here"}}, brief))
        assert stream.take(1)[0]["data"]["payload"]["message"]["id"] == sent["id"]
        ended = stream.take(1, timeout=10)[0]
        assert time.time() >= expires
        assert (ended["event"], ended["data"]["payload"]["status"]) == (
            "stream.error", "UNAUTHENTICATED")
        assert "visitor token has expired" in ended["data"]["payload"]["message"]
        stream.thread.join(timeout=10)
        assert not stream.thread.is_alive()  # the response is over, not only quiet
    finally:
        client.close()
    # Reconnecting with it is refused.
    reply = httpx.get(f"{base_url}/chatplugin.stream", params={"token": brief}, timeout=10)
    assert reply.status_code == 401


@pytest.mark.parametrize(("body", "status"), [({}, 400), ({"channel_id": "nope"}, 404)])
def test_authenticate_errors(base_url: str, body: dict[str, Any], status: int) -> None:
    assert post(base_url, "/chatplugin.authenticate", body).status_code == status


def test_a_disconnected_channel_refuses_its_visitors(base_url: str) -> None:
    channel_id = _channel(base_url)
    session = _ok(post(base_url, "/chatplugin.authenticate", {"channel_id": channel_id}))
    assert post(base_url, "/chatplugin.send", {"message": {}}, session["token"]).status_code == 400
    _ok(post(base_url, "/channels.chatplugin.disconnect", {"channel_id": channel_id}))
    assert post(base_url, "/chatplugin.send", {"message": {"text": "hi"}},
                session["token"]).status_code == 403
    assert post(base_url, "/chatplugin.authenticate", {"channel_id": channel_id}).status_code == 403
    # Another source's channel is no chat plugin channel.
    other = _ok(post(base_url, "/channels.viber.connect", {"name": "Bot"}))["id"]
    assert post(base_url, "/chatplugin.authenticate", {"channel_id": other}).status_code == 404


def test_the_widget_script_and_cors_for_pages_on_other_origins(base_url: str) -> None:
    script = httpx.get(f"{base_url}/chatplugin/s.js", timeout=10)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")
    assert script.content == WIDGET.read_bytes()
    origin = "https://shop.example.com"
    preflight = httpx.request("OPTIONS", f"{base_url}/chatplugin.send", timeout=10, headers={
        "origin": origin, "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    reply = httpx.post(f"{base_url}/chatplugin.authenticate", json={"channel_id": "nope"},
                       headers={"origin": origin}, timeout=10)
    assert reply.headers["access-control-allow-origin"] == origin
    # The agents' API is not opened to other origins.
    reply = api.post(f"{base_url}/tags.list", json={}, headers={"origin": origin}, timeout=10)
    assert "access-control-allow-origin" not in reply.headers
