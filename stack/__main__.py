"""`python -m stack up|down|status`: what `make up`, `make down` and `make status` run;
`python -m stack cluster up|down|status`: `make cluster`, `cluster-down` and `cluster-status`;
`python -m stack redis-cluster up|down`: a local Redis Cluster to point Parley at."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from runtime import settings as settings_module
from stack import cluster, redis_cluster, stack
from stack.processes import StartError

app = typer.Typer(add_completion=False, help="The local Parley stack.")
cluster_app = typer.Typer(add_completion=False, help="A local Redis Cluster (make up never starts it).")
app.add_typer(cluster_app, name="redis-cluster")
mesh_app = typer.Typer(add_completion=False, help="Parley as a mesh on this machine (make cluster).")
app.add_typer(mesh_app, name="cluster")
console = Console()


def _report(title: str, report: list[tuple[str, str]], settings: settings_module.Settings) -> None:
    table = Table("component", "state", title=title)
    for name, what in report:
        table.add_row(name, what)
    console.print(table)
    console.print(f"JSON and gRPC: http://127.0.0.1:{settings.http_port}  "
                  f"logs: {settings.data_dir / 'logs'}")
    console.print(f"API token: export PARLEY_TOKEN=$(cat {settings.data_dir / 'admin.token'})")


@app.command()
def up() -> None:
    """Start Kafka, Redis, the services and Envoy; return once all are healthy."""
    settings = settings_module.load()
    try:
        if cluster.running(settings):
            raise StartError("`make cluster` runs here: stop it with `make cluster-down` first")
        report = stack.up(settings)
    except StartError as exc:
        console.print(f"[red]make up failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    _report("Parley is up", report, settings)


@app.command()
def down() -> None:
    """Stop exactly the processes `up` started."""
    for name, pid in stack.down(settings_module.load()):
        console.print(f"stopped {name} (pid {pid})")


@app.command()
def status() -> None:
    """Show each component: running or not, pid, address, and a service's restarts."""
    table = Table("component", "state", "pid", "address", "restarts", "last exit")
    for item in stack.status(settings_module.load()):
        state = "[green]running[/green]" if item.pid else "[dim]not started here[/dim]"
        supervision = item.supervision if item.pid else None
        restarts = str(supervision.restarts) if supervision else ""
        last_exit = supervision.last_exit if supervision else ""
        table.add_row(item.name, state, str(item.pid or ""), item.where, restarts, last_exit)
    console.print(table)


@mesh_app.command("up")
def mesh_up() -> None:
    """Start three Kafka nodes, a Redis Cluster with replicas, two replicas of every service and
    Envoy over them; return once all are healthy."""
    settings = settings_module.load()
    try:
        report = cluster.up(settings)
    except StartError as exc:
        console.print(f"[red]make cluster failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    _report("Parley is up as a cluster", report, settings)


@mesh_app.command("down")
def mesh_down() -> None:
    """Stop exactly the processes `cluster up` started."""
    for name, pid in cluster.down(settings_module.load()):
        console.print(f"stopped {name} (pid {pid})")


@mesh_app.command("status")
def mesh_status() -> None:
    """Print each process of the cluster as JSON: name, kind, pid (null: not running), address."""
    print(json.dumps(cluster.status(settings_module.load()), indent=1))


@cluster_app.command("up")
def cluster_up(
    port: int = typer.Option(7000, help="port of the first node; the others follow"),
    primaries: int = typer.Option(3, help="primaries (at least 3)"),
    replicas: int = typer.Option(0, help="replicas of each primary"),
) -> None:
    """Start a local Redis Cluster (or reuse the running one); print the setting that reaches it."""
    layout = redis_cluster.Layout(port, primaries, replicas)
    try:
        started = redis_cluster.start(settings_module.load().data_dir, layout)
    except StartError as exc:
        console.print(f"[red]redis-cluster up failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"started nodes on ports {started}" if started else "already running")
    console.print(f"export PARLEY_REDIS_CLUSTER_NODES={layout.nodes_setting()}", soft_wrap=True)


@cluster_app.command("down")
def cluster_down() -> None:
    """Stop every node `redis-cluster up` started (their data stays)."""
    for name, pid in redis_cluster.stop(settings_module.load().data_dir):
        console.print(f"stopped {name} (pid {pid})")


if __name__ == "__main__":
    sys.exit(app())
