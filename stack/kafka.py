"""The embedded Apache Kafka broker: one KRaft node, jars from Maven Central through `mvn`, with
a PLAINTEXT listener for the local stack and a SASL/SCRAM one (`sasl_port`) as a secured cluster has."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import subprocess
import uuid
from pathlib import Path

from runtime.kafka import cluster_reachable
from runtime.secret_files import write_secret
from runtime.settings import Settings
from stack import processes

#: Kafka 3.9.x: the last line that keeps the older protocol versions (4.x removed them), which
#: aiokafka 0.14 may pick. Checked with aiokafka 0.14: admin, idempotent acks=all produce, group
#: and assigned consumers all work (a smoke test on 4.1.0 passed too, but 4.x is not supported
#: by aiokafka, so the line that keeps every protocol version is the safe one).
KAFKA_VERSION = "3.9.1"
NAME = "kafka"
HERE = Path(__file__).parent / "kafka_jars"
HEAP = os.environ.get("PARLEY_KAFKA_HEAP", "-Xms128m -Xmx384m")


def jars_dir(cache_dir: Path) -> Path:
    """Where the broker's jars are cached, per version."""
    return cache_dir / "kafka" / KAFKA_VERSION / "libs"


def fetch_jars(cache_dir: Path) -> Path:
    """Download the broker's jars with Maven into the cache once; return the folder."""
    libs = jars_dir(cache_dir)
    done = libs / ".complete"
    if done.exists():
        return libs
    libs.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "mvn", "-q", "-B", "-f", str(HERE / "pom.xml"),
            f"-Dkafka.version={KAFKA_VERSION}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        check=True,
    )
    done.write_text(KAFKA_VERSION)
    return libs


#: The SCRAM user of the local broker's SASL listener (next port after the controller's), for
#: clients that connect as a real cluster would have them: PARLEY_KAFKA_SECURITY_PROTOCOL=
#: SASL_PLAINTEXT, either SCRAM mechanism, this user, the password in `sasl_password_file`.
SASL_USER = "parley"
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


def sasl_port(settings: Settings) -> int:
    """The local broker's SASL_PLAINTEXT port (its controller has the one before)."""
    return settings.kafka_port + 2


def sasl_password_file(settings: Settings) -> Path:
    """Where the local broker's SCRAM password of `SASL_USER` is kept (made on its first start)."""
    return settings.data_dir / "kafka" / "sasl.password"


def _server_properties(settings: Settings, log_dir: Path) -> str:
    port, sasl = settings.kafka_port, sasl_port(settings)
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{port + 1}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1},"
            f"SASL_PLAINTEXT://127.0.0.1:{sasl}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:{sasl}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,"
            "SASL_PLAINTEXT:SASL_PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"sasl.enabled.mechanisms={','.join(SCRAM_MECHANISMS)}",
            *(f"listener.name.sasl_plaintext.{m.lower()}.sasl.jaas.config="
              "org.apache.kafka.common.security.scram.ScramLoginModule required;"
              for m in SCRAM_MECHANISMS),
            f"log.dirs={log_dir}",
            f"num.partitions={settings.topic_partitions}",
            "auto.create.topics.enable=false",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=3",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "num.network.threads=2",
            "num.io.threads=2",
            "",
        ]
    )


def _cluster_id() -> str:
    # Kafka wants 16 random bytes, base64url without padding; one starting with '-' confuses its CLI.
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def start(settings: Settings, cache_dir: Path) -> str:
    """Start the broker unless it runs already or PARLEY_KAFKA_BOOTSTRAP names one; wait until it
    answers. Returns what it did."""
    data = settings.data_dir
    if settings.kafka_bootstrap:
        if not asyncio.run(cluster_reachable(settings)):
            raise processes.StartError(f"kafka: {settings.kafka_bootstrap} is not reachable")
        return f"using the Kafka at {settings.kafka_bootstrap}"
    libs = fetch_jars(cache_dir)
    java_base = ["java", f"-Dlog4j.configuration=file:{HERE / 'log4j.properties'}", "-cp",
                 f"{libs}/*"]
    what = "already running"
    if processes.running_pid(data, NAME) is None:
        _start(settings, java_base)
        what = f"started (pid {processes.running_pid(data, NAME)})"
    if not sasl_password_file(settings).exists():  # formatted before it had a SASL listener
        password = secrets.token_urlsafe(24)
        for mechanism in SCRAM_MECHANISMS:  # one credential per request, Kafka says
            _tool(java_base, f"adding the {mechanism} user", "kafka.admin.ConfigCommand",
                  "--bootstrap-server", f"127.0.0.1:{settings.kafka_port}", "--alter",
                  "--entity-type", "users", "--entity-name", SASL_USER,
                  "--add-config", f"{mechanism}=[password={password}]")
        write_secret(sasl_password_file(settings), password)
    return what


def _start(settings: Settings, java_base: list[str]) -> None:
    """Format the broker's log on its first start (with the SCRAM user), start it, wait until it
    answers."""
    data = settings.data_dir
    home = data / "kafka"
    log_dir = home / "log"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "server.properties"
    config.write_text(_server_properties(settings, log_dir))
    if not (log_dir / "meta.properties").exists():
        password = secrets.token_urlsafe(24)
        # The SCRAM user is stored with the cluster's metadata when it is formatted.
        _tool(java_base, "formatting the log", "kafka.tools.StorageTool", "format",
              f"--cluster-id={_cluster_id()}", "-c", str(config),
              *(arg for m in SCRAM_MECHANISMS
                for arg in ("--add-scram", f"{m}=[name={SASL_USER},password={password}]")))
        write_secret(sasl_password_file(settings), password)
    argv = ["java", *HEAP.split(), "-XX:+UseSerialGC", "-Djava.awt.headless=true",
            *java_base[1:], "kafka.Kafka", str(config)]
    processes.start(data, NAME, argv)
    processes.wait_until(
        lambda: processes.port_open(settings.kafka_port)
        and asyncio.run(cluster_reachable(settings)),
        "broker", 90, data, NAME,
    )


def _tool(java_base: list[str], what: str, *args: str) -> None:
    """Run one of Kafka's command-line tools; StartError with its output's end if it fails (not
    with its arguments: they may hold a password)."""
    done = subprocess.run([*java_base, *args], capture_output=True, text=True, check=False)
    if done.returncode:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        raise processes.StartError(f"kafka: {what} failed:\n{tail}")
