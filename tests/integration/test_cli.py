"""The `parley` operator commands against the live stack: output (tables, and JSON for scripts)
and exit codes (0 done, 1 refused by the API, 2 bad usage, 3 Parley unreachable)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from runtime.settings import Settings
from tests.integration import webhooks
from tests.integration.helpers import eventually, message_record, post, produce_messages
from tests.integration.test_health import PARLEY


def run(base_url: str, *arguments: str, columns: int = 200,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`parley` with `arguments` in a terminal `columns` wide, in the test environment or `env`."""
    env = {**(os.environ if env is None else env), "PARLEY_URL": base_url, "COLUMNS": str(columns)}
    return subprocess.run([PARLEY, *arguments], env=env, capture_output=True, text=True, timeout=60)


def run_json(base_url: str, *arguments: str) -> Any:
    done = run(base_url, *arguments, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def conversation(base_url: str) -> str:
    """A chat plugin conversation with three visitor messages (an agent can answer it)."""
    channel = post(base_url, "/channels.chatplugin.connect", {"name": "CLI"}).json()["id"]
    visitor = post(base_url, "/chatplugin.authenticate", {"channel_id": channel}).json()
    for i in range(3):
        reply = post(base_url, "/chatplugin.send", {"message": {"text": f"cli {i}"}},
                     visitor["token"])
        assert reply.status_code == 200, reply.text
    conversation_id = str(visitor["conversation_id"])
    eventually(lambda: (r := post(base_url, "/messages.list", {"conversation_id": conversation_id}))
               .status_code == 200 and r.json()["pagination_data"]["total"] == 3)
    return conversation_id


def test_channels(base_url: str) -> None:
    channel = run_json(base_url, "channels", "connect", "chatplugin", "--name", "CLI site")
    assert channel["source"] == "chatplugin" and channel["connected"] is True
    listed = run_json(base_url, "channels", "list", "--source", "chatplugin")
    assert channel["id"] in [c["id"] for c in listed]
    table = run(base_url, "channels", "list", "--source", "chatplugin")
    assert table.returncode == 0 and "CLI site" in table.stdout and "chatplugin" in table.stdout
    viber = run(base_url, "channels", "connect", "viber", "--name", "CLI bot")
    assert viber.returncode == 0 and "connected viber channel" in viber.stdout

    done = run(base_url, "channels", "disconnect", channel["id"])
    assert done.returncode == 0 and "disconnected" in done.stdout
    assert channel["id"] not in [c["id"] for c in run_json(base_url, "channels", "list")]

    missing = run(base_url, "channels", "connect", "facebook", "--name", "Page")
    assert missing.returncode == 2 and "--page-id, --page-token" in missing.stderr
    unknown = run(base_url, "channels", "connect", "myspace")
    assert unknown.returncode == 2 and "unknown source" in unknown.stderr
    gone = run(base_url, "channels", "disconnect", "no-such-channel")
    assert gone.returncode == 1 and "not found" in gone.stderr


def test_connect_takes_any_field_of_a_sources_request(base_url: str) -> None:
    # A source's own fields go as --field NAME=VALUE (a new source needs no option of its own).
    page = run_json(base_url, "channels", "connect", "facebook", "--name", "Fields",
                    "--field", "page_id=cli-page-7", "--field", "page_token=t0ken")
    assert (page["source"], page["source_channel_id"], page["connected"]) == (
        "facebook", "cli-page-7", True)
    assert "t0ken" not in json.dumps(page)
    bad = run(base_url, "channels", "connect", "facebook", "--field", "page_id")
    assert bad.returncode == 2 and "NAME=VALUE" in bad.stderr


def test_conversations_and_messages(base_url: str, conversation: str) -> None:
    found = run_json(base_url, "conversations", "list", "--filters", f"id:{conversation}")
    assert [c["id"] for c in found] == [conversation]
    table = run(base_url, "conversations", "list", "--filters", f"id:{conversation}")
    assert table.returncode == 0 and "cli 2" in table.stdout  # the last message
    assert len(run_json(base_url, "conversations", "list", "--limit", "2")) == 2
    bad = run(base_url, "conversations", "list", "--filters", "channel_id:(a OR")
    assert bad.returncode == 1 and "invalid filters" in bad.stderr

    # Counts are integers in JSON too; ids stay whole in a narrow terminal's table.
    assert found[0]["metadata"]["unread_count"] == 3
    assert isinstance(found[0]["metadata"]["unread_count"], int)
    narrow = run(base_url, "conversations", "list", "--filters", f"id:{conversation}", columns=80)
    assert narrow.returncode == 0 and conversation in narrow.stdout

    listed = run_json(base_url, "messages", "list", conversation, "--limit", "2")
    assert [m["content"]["text"] for m in listed] == ["cli 1", "cli 2"]  # the newest, oldest first
    assert "cli 0" in run(base_url, "messages", "list", conversation).stdout

    sent = run_json(base_url, "messages", "send", conversation, "hello from the CLI")
    assert sent["content"] == {"text": "hello from the CLI"}
    assert sent["delivery_state"] == "pending"
    payload = run_json(base_url, "messages", "send", conversation, "--content", '{"card": {"x": 1}}')
    assert payload["content"] == {"card": {"x": 1}}
    assert run(base_url, "messages", "send", conversation).returncode == 2
    assert run(base_url, "messages", "send", conversation, "--content", "{bad").returncode == 2
    unknown = run(base_url, "messages", "list", "no-such-conversation")
    assert unknown.returncode == 1 and "not found" in unknown.stderr


def test_events_tail(live_stack: Settings, base_url: str) -> None:
    conversation_id = str(uuid.uuid4())

    def write_soon() -> None:
        time.sleep(3)  # the tail has subscribed by then
        asyncio.run(produce_messages(live_stack, [message_record(conversation_id, 1, "tailed")]))

    writer = threading.Thread(target=write_soon)
    writer.start()
    done = run(base_url, "events", "tail", "--types", "message.created", "--conversation-id",
               conversation_id, "--limit", "1", "--json")
    writer.join()
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)
    assert event["type"] == "message.created"
    assert event["payload"]["message"]["content"] == {"text": "tailed"}
    # As a line: the conversation, the sender and the text, in a narrow terminal too.
    writer = threading.Thread(target=write_soon)
    writer.start()
    line = run(base_url, "events", "tail", "--types", "message.created", "--conversation-id",
               conversation_id, "--limit", "1", columns=80)
    writer.join()
    assert line.returncode == 0, line.stderr
    assert f"{conversation_id} contact delivered: tailed" in line.stdout.replace("\n", "")
    bad = run(base_url, "events", "tail", "--types", "message.exploded", "--limit", "1")
    assert bad.returncode == 1 and "message.exploded" in bad.stderr


def test_webhooks(base_url: str) -> None:
    webhook = run_json(base_url, "webhooks", "subscribe", "http://127.0.0.1:9/cli", "--events",
                       "message.created", "--name", "cli-hook")
    assert webhook["events"] == ["message.created"]
    assert webhook["generated_signature_key"].startswith("whsec_")
    assert webhook["id"] in [w["id"] for w in run_json(base_url, "webhooks", "list")]
    assert "cli-hook" in run(base_url, "webhooks", "list").stdout
    assert run_json(base_url, "webhooks", "deliveries", webhook["id"]) == []
    unknown = run(base_url, "webhooks", "deliveries", "no-such-webhook")
    assert unknown.returncode == 1 and "not found" in unknown.stderr
    bad = run(base_url, "webhooks", "subscribe", "not a url")
    assert bad.returncode == 1


def test_unreachable_parley_is_exit_code_3() -> None:
    done = run("http://127.0.0.1:1", "conversations", "list")
    assert done.returncode == 3 and "cannot reach Parley" in done.stderr


def test_twilio_messages_show_their_body(base_url: str) -> None:
    sms = webhooks.twilio(False, text="table for two at eight")
    sms.connect(base_url)
    assert sms.post(base_url).status_code == 200
    eventually(lambda: "table for two at eight" in run(
        base_url, "messages", "list", sms.conversation_id).stdout)
    assert "SmsMessageSid" not in run(base_url, "messages", "list", sms.conversation_id).stdout


def test_the_token_comes_from_the_config_file_and_its_absence_says_where(
        base_url: str, tmp_path: Path) -> None:
    # Outside the repository: no PARLEY_TOKEN, no local install's admin token.
    env = {k: v for k, v in os.environ.items() if k != "PARLEY_TOKEN"}
    env |= {"PARLEY_DATA_DIR": str(tmp_path / "elsewhere"), "XDG_CONFIG_HOME": str(tmp_path)}
    refused = run(base_url, "conversations", "list", env=env)
    assert refused.returncode == 1
    assert str(tmp_path / "parley" / "token") in refused.stderr.replace("\n", "")
    (tmp_path / "parley").mkdir()
    (tmp_path / "parley" / "token").write_text(os.environ["PARLEY_TOKEN"] + "\n")
    found = run(base_url, "conversations", "list", "--limit", "1", "--json", env=env)
    assert found.returncode == 0, found.stderr
    assert len(json.loads(found.stdout)) == 1
