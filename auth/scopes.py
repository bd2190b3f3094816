"""Which scope each API call needs, read from the contracts Envoy serves (`envoy/descriptor.pb`):
every RPC by its gRPC path and by its JSON path.

- exempt (no API token): the sources' inbound webhooks (their signatures authenticate them),
  `GET /health`, the chat plugin's visitor API (visitor tokens) and a custom source's own calls
  (its source token);
- "admin": changing channels, webhooks and custom sources (credentials, and where data goes);
- "read": every List/Get call and the event streams;
- "write": everything else (sending, tagging, metadata, contacts, tags, templates).

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
#: gRPC package of the API.
PACKAGE = "parley.v1"


def method_scope(service: str, method: str) -> str | None:
    """The scope the call `service.method` needs; None when it is exempt."""
    if service in EXEMPT_SERVICES or f"{service}.{method}" in EXEMPT_METHODS:
        return None
    if method.startswith(("List", "Get")) or service == "EventsService":
        return READ
    return ADMIN if service in ADMIN_SERVICES else WRITE


def _http_paths(options: descriptor_pb2.MethodOptions) -> list[str]:
    rule = options.Extensions[annotations_pb2.http]
    rules = [rule, *rule.additional_bindings]
    return [getattr(r, r.WhichOneof("pattern")) for r in rules if r.WhichOneof("pattern")]


@dataclass(frozen=True)
class Scopes:
    """The scope each request path needs (gRPC and JSON paths alike)."""

    by_path: dict[str, str | None]

    @classmethod
    def from_descriptor(cls, path: Path) -> Scopes:
        """The paths of every RPC of the descriptor set at `path`."""
        files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file
        by_path: dict[str, str | None] = {}
        for file in (f for f in files if f.package == PACKAGE):
            for service in file.service:
                for method in service.method:
                    scope = method_scope(service.name, method.name)
                    by_path[f"/{PACKAGE}.{service.name}/{method.name}"] = scope
                    by_path.update(dict.fromkeys(_http_paths(method.options), scope))
        return cls(by_path)

    def needed(self, path: str) -> tuple[bool, str | None]:
        """Whether `path` (its query aside) is an API call, and the scope it needs (None:
        exempt). Other paths are Envoy's to answer (404, the widget script), except unknown gRPC
        paths of the API, which need "admin" (closed by default)."""
        bare = path.split("?", 1)[0]
        if bare in self.by_path:
            return True, self.by_path[bare]
        return (True, ADMIN) if bare.startswith(f"/{PACKAGE}.") else (False, None)


def grants(scopes: Iterable[str], needed: str) -> bool:
    """True when a token with `scopes` may make a call that needs `needed`."""
    return any(needed in GRANTS.get(scope, set()) for scope in scopes)
