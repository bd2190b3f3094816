"""Calls between the edge and the services: plaintext on loopback, or mutual TLS
(`Settings.mesh_tls`) wherever the services listen. The servers, Envoy's upstreams and the
health checks all take their credentials from here."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import grpc

from runtime.settings import MeshTls, Settings


def loopback(host: str) -> bool:
    """True when `host` is a loopback address (or `localhost`)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_bind(settings: Settings) -> None:
    """ValueError unless the service may listen at `PARLEY_BIND_HOST`: beyond loopback only with
    mutual TLS, since a service reachable from the network without it would take a forged caller
    identity (the edge's headers) from anyone."""
    if settings.mesh_tls is None and not loopback(settings.bind_host):
        raise ValueError(f"PARLEY_BIND_HOST={settings.bind_host!r}: beyond loopback, services "
                         "need mutual TLS with the edge (PARLEY_MESH_TLS_CA, _CERT and _KEY)")


def _read(tls: MeshTls) -> tuple[bytes, bytes, bytes]:
    return tuple(Path(p).read_bytes() for p in (tls.ca_file, tls.cert_file, tls.key_file))  # type: ignore[return-value]


def server_credentials(tls: MeshTls) -> grpc.ServerCredentials:
    """A service's side: its certificate, and callers must present one signed by the CA."""
    ca, cert, key = _read(tls)
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca,
                                       require_client_auth=True)


def channel_credentials(tls: MeshTls) -> grpc.ChannelCredentials:
    """A caller's side (health checks): the mesh certificate, and the service's must be the CA's."""
    ca, cert, key = _read(tls)
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                        certificate_chain=cert)


def aio_channel(settings: Settings, target: str, options: Any = ()) -> grpc.aio.Channel:
    """An asyncio channel to a service at `target`, over the mesh's TLS when there is one."""
    if settings.mesh_tls is None:
        return grpc.aio.insecure_channel(target, options=options)
    return grpc.aio.secure_channel(target, channel_credentials(settings.mesh_tls), options=options)


def channel(settings: Settings, target: str, options: Any = ()) -> grpc.Channel:
    """A blocking channel to a service at `target`, over the mesh's TLS when there is one."""
    if settings.mesh_tls is None:
        return grpc.insecure_channel(target, options=options)
    return grpc.secure_channel(target, channel_credentials(settings.mesh_tls), options=options)
