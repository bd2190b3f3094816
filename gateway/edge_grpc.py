"""What gRPC tools and probes ask the public port, answered by the gateway for the whole platform:
grpc.health.v1 (the platform's health, as `GET /health` sees it, and each API service's) and
server reflection of every API service (what `grpcurl list` and `describe` read).

Every process answers both about itself on its own port, and Envoy health-checks each so. The
public port's calls are the platform's: Envoy sends them to the gateway under the names below
(`PUBLIC_HEALTH`, `PUBLIC_REFLECTION`), so they never mix with Envoy's own checks of the
gateway process. The edge lets health through without a token and asks a read token for
reflection (`auth.scopes`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.reflection import aio as reflection_aio

from gateway.health import HealthChecker, overall
from runtime.server import Registration
from runtime.settings import PROCESS_OF_SERVICE

#: The gateway's names of the public port's grpc.health.v1.Health and ServerReflection (Envoy
#: rewrites the public paths to them).
PUBLIC_HEALTH = "parley.edge.Health"
PUBLIC_REFLECTION = "parley.edge.ServerReflection"
#: What the public port's reflection lists besides the API's services.
TOOL_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection")
#: The API's gRPC package.
API_PACKAGE = "parley.v1"
#: How often a Watch of the public health checks again.
WATCH_INTERVAL_S = 1.0

class PlatformHealth:
    """grpc.health.v1 for the platform: service "" is SERVING when every component is up (as
    `GET /health` answers 200), an API service (`parley.v1.MessagesService`) when a replica of
    the process that serves it is; any other name is NOT_FOUND."""

    def __init__(self, checker: HealthChecker) -> None:
        self.checker = checker

    async def status(self, service: str) -> int:
        """The status of `service`, checked live; KeyError when it is no service of the API."""
        if service == "":
            up = overall(await self.checker.check_all()) == "ok"
        else:
            package, _, name = service.rpartition(".")
            if package != API_PACKAGE:
                raise KeyError(service)
            up = any(c.up for c in await self.checker.check_process(PROCESS_OF_SERVICE[name]))
        return health_pb2.HealthCheckResponse.SERVING if up else health_pb2.HealthCheckResponse.NOT_SERVING

    async def Check(self, request: health_pb2.HealthCheckRequest,  # noqa: N802 - gRPC's name
                    context: grpc.aio.ServicerContext) -> health_pb2.HealthCheckResponse:
        """The service's status now."""
        try:
            return health_pb2.HealthCheckResponse(status=await self.status(request.service))
        except KeyError:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no service {request.service!r}")
            raise

    async def Watch(self, request: health_pb2.HealthCheckRequest,  # noqa: N802 - gRPC's name
                    context: grpc.aio.ServicerContext
                    ) -> AsyncIterator[health_pb2.HealthCheckResponse]:
        """The service's status, then each change of it (SERVICE_UNKNOWN for an unknown name,
        as the protocol says), checked every `WATCH_INTERVAL_S`."""
        last = None
        while True:
            try:
                now = await self.status(request.service)
            except KeyError:
                now = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
            if now != last:
                yield health_pb2.HealthCheckResponse(status=now)
                last = now
            await asyncio.sleep(WATCH_INTERVAL_S)


def _pool(files: Sequence[descriptor_pb2.FileDescriptorProto]) -> descriptor_pool.DescriptorPool:
    """A pool of the API's files (the descriptor set Envoy serves, imports first) and the tools'."""
    pool = descriptor_pool.DescriptorPool()
    for file in files:
        pool.Add(file)
    for module in (health_pb2, reflection_pb2):
        pool.AddSerializedFile(module.DESCRIPTOR.serialized_pb)
    return pool


def _registration(name: str, servicer: Any, handlers: dict[str, grpc.RpcMethodHandler]
                  ) -> Registration:
    def add(_: Any, server: grpc.aio.Server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    return Registration(name, add, servicer, reflected=False)


def registrations(checker: HealthChecker, descriptor_set: Path) -> list[Registration]:
    """The public port's health and reflection, as the gateway serves them."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    api = [f"{f.package}.{s.name}" for f in files if f.package == API_PACKAGE for s in f.service]
    health = PlatformHealth(checker)
    reflection = reflection_aio.ReflectionServicer([*api, *TOOL_SERVICES], pool=_pool(files))
    request, response = health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse
    asked, answered = reflection_pb2.ServerReflectionRequest, reflection_pb2.ServerReflectionResponse
    return [
        _registration(PUBLIC_HEALTH, health, {
            "Check": grpc.unary_unary_rpc_method_handler(
                health.Check, request.FromString, response.SerializeToString),
            "Watch": grpc.unary_stream_rpc_method_handler(
                health.Watch, request.FromString, response.SerializeToString)}),
        _registration(PUBLIC_REFLECTION, reflection, {
            "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                reflection.ServerReflectionInfo, asked.FromString, answered.SerializeToString)}),
    ]
