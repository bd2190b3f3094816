"""The embedded Apache Kafka: one KRaft node for `make up`, or a cluster of them for `make
cluster` (replication factor 3, `min.insync.replicas` 2, brokers replicating over SCRAM); jars
from Maven Central through `mvn`. Every node has a PLAINTEXT listener for the local stack and a
SASL/SCRAM one (`Node.sasl_port`) as a secured cluster has."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import os
import secrets
import subprocess
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from runtime.kafka import cluster_reachable
from runtime.secret_files import write_secret
from runtime.settings import KAFKA_HEAP, KafkaSecurity, Settings
from stack import processes

#: Kafka 3.9.x: the last line that keeps the older protocol versions (4.x removed them), which
#: aiokafka 0.14 may pick. Checked with aiokafka 0.14: admin, idempotent acks=all produce, group
#: and assigned consumers all work (a smoke test on 4.1.0 passed too, but 4.x is not supported
#: by aiokafka, so the line that keeps every protocol version is the safe one).
KAFKA_VERSION = "3.9.1"
NAME = "kafka"
HERE = Path(__file__).parent / "kafka_jars"
HEAP = KAFKA_HEAP.read(os.environ)


def jars_dir(cache_dir: Path) -> Path:
    """Where the broker's jars are cached, per version."""
    return cache_dir / "kafka" / KAFKA_VERSION / "libs"


def fetch_jars(cache_dir: Path) -> Path:
    """Download the broker's jars (and Kafka's tools) with Maven into the cache once per version
    of the pom; return the folder."""
    libs = jars_dir(cache_dir)
    done = libs / ".complete"
    fetched = f"{KAFKA_VERSION} {hashlib.sha256((HERE / 'pom.xml').read_bytes()).hexdigest()}"
    if done.exists() and done.read_text() == fetched:
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
    done.write_text(fetched)
    return libs


#: The SCRAM user of the local brokers' SASL listeners (each node's port + 2), for clients that
#: connect as a real cluster would have them: PARLEY_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT,
#: either SCRAM mechanism, this user, the password in `sasl_password_file`.
SASL_USER = "parley"
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
#: The user brokers of a local cluster replicate as (SCRAM-SHA-512 on the SASL listener).
BROKER_USER = "broker"
INTER_BROKER_MECHANISM = "SCRAM-SHA-512"
#: A cluster's brokers fence a silent peer out of the ISR after this (Kafka's default is 9 s):
#: acks=all writes of every partition stall until then when a broker dies.
BROKER_SESSION_TIMEOUT_MS = 3000


@dataclass(frozen=True)
class Node:
    """One local KRaft node (broker and controller in one process)."""

    id: int
    #: Its component name (pid and log file) and folder under the data dir.
    name: str
    #: Its PLAINTEXT port; the controller listens on the next one, SASL_PLAINTEXT on the one after.
    port: int

    @property
    def sasl_port(self) -> int:
        """The node's SASL_PLAINTEXT port."""
        return self.port + 2


def single_node(settings: Settings) -> Node:
    """The one broker of `make up`."""
    return Node(1, NAME, settings.kafka_port)


def cluster_nodes(first_port: int, count: int = 3) -> tuple[Node, ...]:
    """The nodes of a local cluster (`make cluster`): three ports each, from `first_port` on."""
    return tuple(Node(i, f"{NAME}-{i}", first_port + 3 * (i - 1)) for i in range(1, count + 1))


def bootstrap(nodes: tuple[Node, ...], sasl: bool = False) -> str:
    """The bootstrap string of `nodes`, on their PLAINTEXT or their SASL listeners."""
    return ",".join(f"127.0.0.1:{n.sasl_port if sasl else n.port}" for n in nodes)


def sasl_port(settings: Settings) -> int:
    """The local broker's SASL_PLAINTEXT port (its controller has the one before)."""
    return single_node(settings).sasl_port


def sasl_password_file(settings: Settings) -> Path:
    """Where the local brokers' SCRAM password of `SASL_USER` is kept (made on their first start)."""
    return settings.data_dir / NAME / "sasl.password"


def _broker_password_file(settings: Settings) -> Path:
    return settings.data_dir / NAME / "broker.password"


def secret(path: Path) -> str:
    """The secret kept in `path`, made there first if there is none."""
    if not path.exists():
        write_secret(path, secrets.token_urlsafe(24))
    return path.read_text().strip()


def _server_properties(settings: Settings, node: Node, nodes: tuple[Node, ...], log_dir: Path) -> str:
    port, sasl = node.port, node.sasl_port
    many = len(nodes) > 1
    jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required"
    broker_login = (f' username="{BROKER_USER}" password="{secret(_broker_password_file(settings))}"'
                    if many else "")
    copies, in_sync = (3, 2) if many else (1, 1)
    return "\n".join(
        [
            "process.roles=broker,controller",
            f"node.id={node.id}",
            "controller.quorum.voters=" + ",".join(f"{n.id}@127.0.0.1:{n.port + 1}" for n in nodes),
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1},"
            f"SASL_PLAINTEXT://127.0.0.1:{sasl}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:{sasl}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,"
            "SASL_PLAINTEXT:SASL_PLAINTEXT",
            # A cluster's brokers replicate over SCRAM, as a secured cluster's do.
            *(["inter.broker.listener.name=SASL_PLAINTEXT",
               f"sasl.mechanism.inter.broker.protocol={INTER_BROKER_MECHANISM}",
               f"broker.session.timeout.ms={BROKER_SESSION_TIMEOUT_MS}",
               "broker.heartbeat.interval.ms=1000"]
              if many else ["inter.broker.listener.name=PLAINTEXT"]),
            f"sasl.enabled.mechanisms={','.join(SCRAM_MECHANISMS)}",
            *(f"listener.name.sasl_plaintext.{m.lower()}.sasl.jaas.config={jaas}"
              f"{broker_login if m == INTER_BROKER_MECHANISM else ''};"
              for m in SCRAM_MECHANISMS),
            f"log.dirs={log_dir}",
            f"num.partitions={settings.topic_partitions}",
            "auto.create.topics.enable=false",
            f"default.replication.factor={copies}",
            f"min.insync.replicas={in_sync}",
            f"offsets.topic.replication.factor={copies}",
            "offsets.topic.num.partitions=3",
            f"transaction.state.log.replication.factor={copies}",
            f"transaction.state.log.min.isr={in_sync}",
            "group.initial.rebalance.delay.ms=0",
            "num.network.threads=2",
            "num.io.threads=2",
            "",
        ]
    )


def _cluster_id(data_dir: Path, nodes: tuple[Node, ...]) -> str:
    """The id the nodes already formatted share, else a new one."""
    for node in nodes:
        meta = data_dir / node.name / "log" / "meta.properties"
        if meta.exists():
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1]
    # Kafka wants 16 random bytes, base64url without padding; one starting with '-' confuses its CLI.
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def start(settings: Settings, cache_dir: Path) -> str:
    """Start the broker unless it runs already or PARLEY_KAFKA_BOOTSTRAP names one; wait until it
    answers. Returns what it did."""
    if settings.kafka_bootstrap:
        if not asyncio.run(cluster_reachable(settings)):
            raise processes.StartError(f"kafka: {settings.kafka_bootstrap} is not reachable")
        return f"using the Kafka at {settings.kafka_bootstrap}"
    return start_nodes(settings, cache_dir, (single_node(settings),))


def start_nodes(settings: Settings, cache_dir: Path, nodes: tuple[Node, ...]) -> str:
    """Start the `nodes` not running yet (formatting a node's log on its first start, with the
    SCRAM users) and wait until all answer. Returns what it did."""
    data = settings.data_dir
    libs = fetch_jars(cache_dir)
    java_base = ["java", f"-Dlog4j.configuration=file:{HERE / 'log4j.properties'}", "-cp",
                 f"{libs}/*"]
    had_password = sasl_password_file(settings).exists()
    password = secret(sasl_password_file(settings))
    users = [(SASL_USER, m, password) for m in SCRAM_MECHANISMS]
    if len(nodes) > 1:
        users.append((BROKER_USER, INTER_BROKER_MECHANISM, secret(_broker_password_file(settings))))
    cluster_id = _cluster_id(data, nodes)
    started, formatted_before = [], False
    for node in nodes:
        if processes.running_pid(data, node.name) is not None:
            continue
        home = data / node.name
        home.mkdir(parents=True, exist_ok=True)
        config = home / "server.properties"
        config.write_text(_server_properties(settings, node, nodes, home / "log"))
        if (home / "log" / "meta.properties").exists():
            formatted_before = True
        else:  # the SCRAM users are stored with the cluster's metadata when it is formatted
            _tool(java_base, f"formatting {node.name}'s log", "kafka.tools.StorageTool", "format",
                  f"--cluster-id={cluster_id}", "-c", str(config),
                  *(arg for user, m, secret in users
                    for arg in ("--add-scram", f"{m}=[name={user},password={secret}]")))
        argv = ["java", *HEAP.split(), "-XX:+UseSerialGC", "-Djava.awt.headless=true",
                *java_base[1:], "kafka.Kafka", str(config)]
        processes.start(data, node.name, argv)
        started.append(node)
    plain = dataclasses.replace(settings, kafka_bootstrap=bootstrap(nodes),
                                kafka_security=KafkaSecurity())
    for node in nodes:
        processes.wait_until(partial(processes.port_open, node.port), "broker", 90, data,
                             node.name)
    processes.wait_until(lambda: asyncio.run(cluster_reachable(plain)), "brokers", 90, data,
                         nodes[0].name)
    if formatted_before and not had_password:  # formatted before the brokers had a SASL listener
        for mechanism in SCRAM_MECHANISMS:  # one credential per request, Kafka says
            _tool(java_base, f"adding the {mechanism} user", "kafka.admin.ConfigCommand",
                  "--bootstrap-server", bootstrap(nodes), "--alter",
                  "--entity-type", "users", "--entity-name", SASL_USER,
                  "--add-config", f"{mechanism}=[password={password}]")
    if not started:
        return "already running"
    return "started " + ", ".join(f"{n.name} (pid {processes.running_pid(data, n.name)})"
                                  for n in started)


def _tool(java_base: list[str], what: str, *args: str) -> None:
    """Run one of Kafka's command-line tools; StartError with its output's end if it fails (not
    with its arguments: they may hold a password)."""
    done = subprocess.run([*java_base, *args], capture_output=True, text=True, check=False)
    if done.returncode:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        raise processes.StartError(f"kafka: {what} failed:\n{tail}")
