"""Which scope each API call needs, read from the contracts Envoy serves (`envoy/descriptor.pb`):
every RPC by its gRPC path and by its JSON path.

- exempt (no API token): the sources' inbound webhooks (their signatures authenticate them),
  `GET /health` and gRPC's health checks, the chat plugin's visitor API (visitor tokens) and a
  custom source's own calls (its source token);
- "admin": changing channels, webhooks and custom sources (credentials, and where data goes),
  exploring the Facebook pages a user token manages, and everything about API tokens;
- "read": every List/Get call, the event streams and gRPC server reflection;
- "write": everything else (sending, tagging, metadata, contacts, tags, templates).

Deny by default: a request that is not exactly one of these routes runs nothing.

A token's scopes nest: "admin" grants "write", which grants "read".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

READ, WRITE, ADMIN = "read", "write", "admin"
#: Each scope with the ones it grants.
GRANTS = {READ: {READ}, WRITE: {READ, WRITE}, ADMIN: {READ, WRITE, ADMIN}}
#: Services whose every call is exempt.
EXEMPT_SERVICES = ("IngestService", "ChatPluginService")
#: Single exempt calls of other services.
EXEMPT_METHODS = ("StatusService.GetHealth", "SourcesService.CreateSourceChannel",
                  "SourcesService.ListSourceChannels", "SourcesService.DisconnectSourceChannel",
                  "SourcesService.IngestSourceWebhook")
#: Services whose changes need "admin".
ADMIN_SERVICES = ("ChannelsService", "WebhooksService", "SourcesService")
#: Services whose every call needs "admin", reads too.
ADMIN_ONLY_SERVICES = ("TokensService",)
#: Single calls of other services that need "admin".
ADMIN_METHODS = ("SourceLookupsService.ExploreFacebookPages",)
#: gRPC package of the API.
PACKAGE = "parley.v1"
#: The gRPC tools' calls the public port answers for the whole platform (gateway/edge_grpc.py),
#: by path, with the scope each needs: health for probes, without a token; server reflection
#: (`grpcurl list`, either version of its protocol) for read tokens.
TOOL_ROUTES: dict[str, str | None] = {
    "/grpc.health.v1.Health/Check": None,
    "/grpc.health.v1.Health/Watch": None,
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": READ,
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": READ,
}


def method_scope(service: str, method: str) -> str | None:
    """The scope the call `service.method` needs; None when it is exempt."""
    if service in EXEMPT_SERVICES or f"{service}.{method}" in EXEMPT_METHODS:
        return None
    if service in ADMIN_ONLY_SERVICES or f"{service}.{method}" in ADMIN_METHODS:
        return ADMIN
    if method.startswith(("List", "Get")) or service == "EventsService":
        return READ
    return ADMIN if service in ADMIN_SERVICES else WRITE


def _http_rules(options: descriptor_pb2.MethodOptions) -> list[tuple[str, str]]:
    """(HTTP method, path) of each JSON binding of an RPC."""
    rule = options.Extensions[annotations_pb2.http]
    rules = [rule, *rule.additional_bindings]
    return [(kind.upper(), getattr(r, kind)) for r in rules if (kind := r.WhichOneof("pattern"))]


@dataclass(frozen=True)
class Route:
    """An RPC a request runs: its full name (`parley.v1.EventsService.SubscribeSse`) and the
    scope it needs (None: exempt)."""

    rpc: str
    scope: str | None


@dataclass(frozen=True)
class Scopes:
    """The RPC each request runs, by (HTTP method, path): every JSON binding of the contracts,
    every gRPC method path (always POST) and the gRPC tools' (`TOOL_ROUTES`). Nothing else is an
    API call."""

    routes: dict[tuple[str, str], Route]

    @classmethod
    def from_descriptor(cls, path: Path) -> Scopes:
        """The routes of every RPC of the descriptor set at `path`."""
        files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file
        routes: dict[tuple[str, str], Route] = {}
        for file in (f for f in files if f.package == PACKAGE):
            for service in file.service:
                for method in service.method:
                    route = Route(f"{PACKAGE}.{service.name}.{method.name}",
                                  method_scope(service.name, method.name))
                    routes[("POST", f"/{PACKAGE}.{service.name}/{method.name}")] = route
                    routes.update(dict.fromkeys(_http_rules(method.options), route))
        for tool_path, scope in TOOL_ROUTES.items():
            routes[("POST", tool_path)] = Route(tool_path.strip("/").replace("/", "."), scope)
        return cls(routes)

    def route(self, method: str, path: str) -> Route | None:
        """The RPC that `method path` runs (its query aside), or None when it runs none.

        The match is exact: Envoy normalises the path once (dot segments, merged slashes, escaped
        slashes refused) before anything sees it, and whatever is not then exactly a route (a
        trailing slash, another case, another method) is refused, so what is authorized is
        exactly what the transcoder will run."""
        return self.routes.get((method, path.split("?", 1)[0]))


def grants(scopes: Iterable[str], needed: str) -> bool:
    """True when a token with `scopes` may make a call that needs `needed`."""
    return any(needed in GRANTS.get(scope, set()) for scope in scopes)
