"""gRPC server bootstrap shared by every service: health, reflection, signals, background tasks."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeAlias

import grpc
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from runtime import mesh, metrics, tracing
from runtime.errors import ApiErrorInterceptor
from runtime.metrics import MetricsInterceptor
from runtime.topic_admin import wait_for_topics
from runtime.settings import Endpoint, Settings

log = logging.getLogger(__name__)

#: The context of a gRPC call a servicer method gets.
Ctx: TypeAlias = grpc.aio.ServicerContext
#: A background task of a service: run until cancelled; raising stops the process.
Task: TypeAlias = Callable[[], Coroutine[Any, Any, None]]
#: A unary method's implementation: the request and the call's context in, the response out.
Handler: TypeAlias = Callable[[Any, Ctx], Awaitable[Any]]


@dataclass(frozen=True)
class Registration:
    """One gRPC service a process serves: its full name, generated `add_*_to_server`, servicer."""

    service_name: str
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    servicer: Any
    #: False for a service under a name of no contract of its own (the gateway's answers to the
    #: public port's health and reflection): the process's own reflection and health leave it out.
    reflected: bool = True

    @classmethod
    def of(cls, pb2: ModuleType, pb2_grpc: ModuleType, servicer: Any) -> Registration:
        """The registration of `servicer`, a subclass of a generated `<Service>Servicer`."""
        service = next(
            base.__name__.removesuffix("Servicer") for base in type(servicer).__mro__
            if base.__module__ == pb2_grpc.__name__
        )
        return cls(
            pb2.DESCRIPTOR.services_by_name[service].full_name,
            getattr(pb2_grpc, f"add_{service}Servicer_to_server"),
            servicer,
        )

    @classmethod
    def of_handlers(cls, pb2: ModuleType, service: str, handlers: dict[str, Handler]
                    ) -> Registration:
        """The registration of unary service `service` of `pb2` served by one handler per
        method, for services whose methods derive from a registry (one per source). Every
        method must have its handler and every handler its method: ValueError naming the odd
        ones, so a contract and its registry cannot drift apart unnoticed."""
        descriptor = pb2.DESCRIPTOR.services_by_name[service]
        methods = {method.name: method for method in descriptor.methods}
        if set(methods) != set(handlers):
            raise ValueError(f"{service}: methods without a handler "
                             f"{sorted(set(methods) - set(handlers))}, handlers without a method "
                             f"{sorted(set(handlers) - set(methods))}")
        generic = grpc.method_handlers_generic_handler(descriptor.full_name, {
            name: grpc.unary_unary_rpc_method_handler(
                handlers[name],
                request_deserializer=GetMessageClass(method.input_type).FromString,
                response_serializer=GetMessageClass(method.output_type).SerializeToString)
            for name, method in methods.items()
        })
        return cls(descriptor.full_name,
                   lambda _, server: server.add_generic_rpc_handlers((generic,)), handlers)


#: What a request may carry beyond its file (a media upload's form around it).
REQUEST_OVERHEAD_BYTES = 65_536
#: gRPC's own bound of a received message.
GRPC_MAX_REQUEST_BYTES = 4_194_304


def grpc_server(max_request_bytes: int = GRPC_MAX_REQUEST_BYTES) -> grpc.aio.Server:
    """A service's gRPC server: every call counted and timed (runtime.metrics) and traced
    (runtime.tracing), API errors mapped to status codes, requests up to `max_request_bytes` (the
    edge bounds them first), and no SO_REUSEPORT (gRPC's default), so a second process on a port
    fails to bind instead of sharing it unnoticed."""
    return grpc.aio.server(
        interceptors=[MetricsInterceptor(), tracing.TracingInterceptor(), ApiErrorInterceptor()],
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", max_request_bytes)])


def listen(server: grpc.aio.Server, settings: Settings, port: int) -> None:
    """Have `server` listen on `port` at `PARLEY_BIND_HOST`: with mutual TLS when the settings
    have it (callers must present the mesh's certificate), else in plaintext (loopback only)."""
    mesh.check_bind(settings)
    address = Endpoint(settings.bind_host or "0.0.0.0", port).target()
    if settings.mesh_tls is None:
        server.add_insecure_port(address)
    else:
        server.add_secure_port(address, mesh.server_credentials(settings.mesh_tls))


async def serve(
    name: str,
    settings: Settings,
    registrations: Sequence[Registration],
    background: Sequence[Task] = (),
) -> None:
    """Serve `registrations` on the service's port (on `PARLEY_BIND_HOST`) until SIGTERM/SIGINT or
    a task fails.

    It waits until the platform's topics exist (`parley topics apply` makes them).

    Every service also answers grpc.health.v1 (SERVING once started) and server reflection, so
    `grpcurl` works against it, and serves its Prometheus metrics (`runtime.metrics`). A background task that raises stops the process: a projector
    that silently died would leave a healthy-looking service that serves stale data.
    """
    await wait_for_topics(settings)
    tracing.setup(settings, name)
    port = settings.service_port(name)
    # The largest request is a media upload's (gRPC's own default, 4 MiB, is smaller).
    server = grpc_server(max(GRPC_MAX_REQUEST_BYTES,
                             settings.media.max_bytes + REQUEST_OVERHEAD_BYTES))
    for reg in registrations:
        reg.add_to_server(reg.servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [reg.service_name for reg in registrations if reg.reflected]
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    listen(server, settings, port)
    await server.start()
    metrics.serve(settings, name)
    for service in ("", *names):
        await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    log.info("%s serving %s on %s (reached at %s)", name, ", ".join(names),
             Endpoint(settings.bind_host, port).target(), settings.service_target(name))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(job(), name=getattr(job, "__name__", "task")) for job in background]
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    failed = [t for t in done if t is not waiter and t.exception() is not None]
    for task in failed:
        log.error("background task %s failed", task.get_name(), exc_info=task.exception())
    await health_servicer.enter_graceful_shutdown()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    waiter.cancel()
    await server.stop(grace=2)
    log.info("%s stopped", name)
    if failed:
        raise SystemExit(1)
