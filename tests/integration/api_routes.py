"""Every route of the API, read from the descriptor set Envoy serves: the tests that cover all
routes take them from here, so a new RPC is covered without a line of test code."""

from __future__ import annotations

from dataclasses import dataclass

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from auth.scopes import PACKAGE
from stack import envoy

#: The contracts' files (every message of the API among them).
FILES = descriptor_pb2.FileDescriptorSet.FromString(envoy.DESCRIPTOR.read_bytes()).file


@dataclass(frozen=True, order=True)
class ApiRoute:
    """One way to call one RPC: an HTTP method and path (a JSON binding, or the gRPC path)."""

    method: str
    path: str
    #: The RPC's full name, e.g. `parley.v1.TagsService.ListTags`.
    rpc: str
    #: The full name of its request message, e.g. `.parley.v1.ListTagsRequest`.
    request_type: str
    server_streaming: bool

    @property
    def is_grpc(self) -> bool:
        """True for the gRPC method path (`/parley.v1.TagsService/ListTags`)."""
        return self.path.startswith(f"/{PACKAGE}.")


def api_routes() -> list[ApiRoute]:
    """Every JSON binding and every gRPC method path of the API, sorted."""
    found = set()
    for file in (f for f in FILES if f.package == PACKAGE):
        for service in file.service:
            for method in service.method:
                route = (f"{PACKAGE}.{service.name}.{method.name}", method.input_type,
                         method.server_streaming)
                found.add(ApiRoute("POST", f"/{PACKAGE}.{service.name}/{method.name}", *route))
                rule = method.options.Extensions[annotations_pb2.http]
                for binding in (rule, *rule.additional_bindings):
                    if kind := binding.WhichOneof("pattern"):
                        found.add(ApiRoute(kind.upper(), getattr(binding, kind), *route))
    return sorted(found)
