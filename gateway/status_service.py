"""StatusService: `GET /health` for probes and `/client.config` for clients."""

from __future__ import annotations

import grpc
from google.protobuf import struct_pb2

from gateway import health
from parley.v1 import status_pb2, status_pb2_grpc
from runtime.settings import SERVICE_NAMES
from runtime.tag_colors import TAG_COLORS

class StatusServicer(status_pb2_grpc.StatusServiceServicer):
    """Aggregated health of the platform, checked live on every call."""

    def __init__(self, checker: health.HealthChecker, since: health.StatusSince) -> None:
        self.checker = checker
        self.since = since

    async def GetHealth(
        self, request: status_pb2.GetHealthRequest, context: grpc.aio.ServicerContext
    ) -> status_pb2.GetHealthResponse:
        components = await self.checker.check_all()
        status = health.overall(components)
        if status != "ok":
            # Probes read the HTTP status: Envoy's Lua filter turns this header into a 503.
            await context.send_initial_metadata((("x-http-code", "503"),))
        since = await self.since.of(components)
        return status_pb2.GetHealthResponse(
            status=status,
            components={
                c.name: status_pb2.ComponentHealth(status="up" if c.up else "down", detail=c.detail,
                                                   since=since.get(c.name, ""))
                for c in components
            },
        )

    async def GetClientConfig(
        self, request: status_pb2.GetClientConfigRequest, context: grpc.aio.ServicerContext
    ) -> status_pb2.GetClientConfigResponse:
        components = {c.name: c for c in await self.checker.check_all()}
        tag_config = struct_pb2.Struct()
        tag_config.update({"colors": TAG_COLORS})
        return status_pb2.GetClientConfigResponse(
            services={
                name: status_pb2.ServiceConfig(enabled=True, healthy=components[name].up)
                for name in SERVICE_NAMES
            },
            tag_config=tag_config,
        )
