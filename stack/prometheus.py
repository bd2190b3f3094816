"""Prometheus (Debian's package) beside the stack when `PARLEY_PROMETHEUS_PORT` is set: it scrapes
every service process's `/metrics` (runtime.metrics) and Envoy's stats every 5 s, and answers
queries on 127.0.0.1 at that port."""

from __future__ import annotations

import json
import shutil

from runtime.settings import Settings
from stack import processes

NAME = "prometheus"
SCRAPE_INTERVAL = "5s"
#: What it keeps: a local install's recent history, not an archive.
RETENTION = "2d"


def scrape_config(settings: Settings) -> str:
    """Prometheus's config (JSON, which its YAML reads): a job per service process, its targets
    the metrics ports of the process's replicas, and `envoy` on Envoy's admin port."""
    jobs = [{"job_name": process, "static_configs": [{"targets": [
        f"{endpoint.host}:{endpoint.port + settings.metrics_port_offset}"
        for endpoint in settings.service_endpoints(process)]}]}
        for process in settings.process_names()] if settings.metrics_port_offset else []
    jobs.append({"job_name": "envoy", "metrics_path": "/stats/prometheus",
                 "static_configs": [{"targets": [f"127.0.0.1:{settings.envoy_admin_port}"]}]})
    return json.dumps({"global": {"scrape_interval": SCRAPE_INTERVAL,
                                  "evaluation_interval": SCRAPE_INTERVAL},
                       "scrape_configs": jobs}, indent=2)


def url(settings: Settings) -> str:
    """Where Prometheus answers (its UI and HTTP API)."""
    return f"http://127.0.0.1:{settings.prometheus_port}"


def ready(settings: Settings) -> bool:
    """True when Prometheus says it is ready to serve queries."""
    return processes.answers_ok(f"{url(settings)}/-/ready")


def start(settings: Settings) -> str:
    """Start Prometheus with the stack's scrape config unless it runs already; wait until it is
    ready. Nothing when `PARLEY_PROMETHEUS_PORT` is 0."""
    if not settings.prometheus_port:
        return "not started (PARLEY_PROMETHEUS_PORT is 0)"
    data = settings.data_dir
    if processes.running_pid(data, NAME) is not None and ready(settings):
        return f"already running on {url(settings)}"
    binary = shutil.which("prometheus")
    if binary is None:
        raise processes.StartError("prometheus is not installed (run scripts/bootstrap.sh)")
    home = data / NAME
    home.mkdir(parents=True, exist_ok=True)
    config = home / "prometheus.yml"
    config.write_text(scrape_config(settings))
    processes.start(data, NAME, [
        binary, f"--config.file={config}", f"--storage.tsdb.path={home / 'data'}",
        f"--storage.tsdb.retention.time={RETENTION}",
        f"--web.listen-address=127.0.0.1:{settings.prometheus_port}"])
    processes.wait_until(lambda: ready(settings), "queries", 30, data, NAME)
    return f"started on {url(settings)} (pid {processes.running_pid(data, NAME)})"
