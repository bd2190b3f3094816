"""The embedded Apache Kafka broker: one KRaft node, jars from Maven Central through `mvn`."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import uuid
from pathlib import Path

from runtime.kafka import cluster_reachable
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


def _server_properties(settings: Settings, log_dir: Path) -> str:
    port = settings.kafka_port
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{port + 1}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
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
    if processes.running_pid(data, NAME) is not None:
        return "already running"
    libs = fetch_jars(cache_dir)
    home = data / "kafka"
    log_dir = home / "log"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "server.properties"
    config.write_text(_server_properties(settings, log_dir))
    classpath = f"{libs}/*"
    java_base = ["java", f"-Dlog4j.configuration=file:{HERE / 'log4j.properties'}", "-cp", classpath]
    if not (log_dir / "meta.properties").exists():
        subprocess.run(
            [*java_base, "kafka.tools.StorageTool", "format",
             f"--cluster-id={_cluster_id()}", "-c", str(config)],
            check=True, capture_output=True,
        )
    argv = ["java", *HEAP.split(), "-XX:+UseSerialGC", "-Djava.awt.headless=true",
            *java_base[1:], "kafka.Kafka", str(config)]
    processes.start(data, NAME, argv)
    processes.wait_until(
        lambda: processes.port_open(settings.kafka_port)
        and asyncio.run(cluster_reachable(settings)),
        "broker", 90, data, NAME,
    )
    return f"started (pid {processes.running_pid(data, NAME)})"
