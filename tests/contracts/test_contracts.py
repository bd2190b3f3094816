"""The contracts: generated code matches proto/, buf lint is clean, every RPC has a JSON path and
a process that serves it, and responses flattened for the transcoder match their resources."""

from __future__ import annotations

import filecmp
import re
import subprocess
import sys
from pathlib import Path

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from runtime import settings as settings_module
from stack import envoy

REPO = Path(__file__).resolve().parents[2]


def _descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    return descriptor_pb2.FileDescriptorSet.FromString(envoy.DESCRIPTOR.read_bytes())


def _parley_files() -> list[descriptor_pb2.FileDescriptorProto]:
    return [f for f in _descriptor_set().file if f.package == "parley.v1"]


def test_regenerating_the_code_changes_nothing(tmp_path: Path) -> None:
    subprocess.run(["bash", "scripts/gen_proto.sh", str(tmp_path)], cwd=REPO, check=True)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        [p.relative_to(REPO) for p in (REPO / "sdk" / "parley" / "v1").glob("*_pb2*")]
        + [Path("envoy/descriptor.pb")]
    )
    assert generated == committed, "run `make proto` and commit the result"
    drifted = [str(p) for p in generated if not filecmp.cmp(tmp_path / p, REPO / p, shallow=False)]
    assert drifted == [], "run `make proto` and commit the result"


def test_buf_lint_is_clean() -> None:
    done = subprocess.run(["bash", "scripts/buf.sh", "lint"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_rpc_has_an_http_path() -> None:
    missing = [
        f"{service.name}.{method.name}"
        for file in _parley_files() for service in file.service for method in service.method
        if not method.options.HasExtension(annotations_pb2.http)
    ]
    assert missing == []


def test_every_service_is_routed_to_one_process() -> None:
    declared = {service.name for file in _parley_files() for service in file.service}
    routed = [name for names in envoy.SERVICES_BY_PROCESS.values() for name in names]
    assert sorted(routed) == sorted(declared)


def test_flattened_responses_match_their_resources() -> None:
    # Envoy's transcoder cannot answer a sub-field (response_body) unless it is an HttpBody, so a
    # response that must be a bare resource in JSON repeats the resource's fields. Such messages
    # say "identical to parley.v1.<Resource>"; they must stay wire-identical to it.
    messages: dict[str, descriptor_pb2.DescriptorProto] = {}
    comments: dict[str, str] = {}
    for file in _parley_files():
        for index, message in enumerate(file.message_type):
            messages[message.name] = message
            for location in file.source_code_info.location:
                if list(location.path) == [4, index]:
                    comments[message.name] = " ".join(location.leading_comments.split())

    def shape(message: descriptor_pb2.DescriptorProto) -> list[tuple[object, ...]]:
        # A map field's entry type is nested in its message: compare it by its own name.
        own = f".parley.v1.{message.name}."
        return sorted((f.name, f.number, f.type, f.type_name.replace(own, "."), f.label,
                       f.proto3_optional) for f in message.field)

    pairs = {name: m.group(1) for name, text in comments.items()
             if (m := re.search(r"identical to\s+parley\.v1\.(\w+)", text))}
    assert len(pairs) >= 25, "the flattened responses are no longer recognised"
    for response, resource in pairs.items():
        assert shape(messages[response]) == shape(messages[resource]), response


def test_rendered_envoy_config_is_valid(tmp_path: Path) -> None:
    config = tmp_path / "envoy.yaml"
    config.write_text(envoy.render(settings_module.load()))
    binary = Path(sys.executable).parent / "envoy"
    done = subprocess.run([str(binary), "--mode", "validate", "-c", str(config)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", ["/messages.list", "/conversations.list", "/channels.twilio.sms.connect",
                                  "/messages.suggest-replies", "/webhooks.subscribe", "/client.config"])
def test_json_paths_of_the_reference_api_exist(path: str) -> None:
    posts = {
        method.options.Extensions[annotations_pb2.http].post
        for file in _parley_files() for service in file.service for method in service.method
    }
    assert path in posts
