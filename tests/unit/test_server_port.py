"""A service's port is its own: a second server cannot bind it (gRPC would share it by default)."""

from __future__ import annotations

import socket

import pytest

from runtime.server import grpc_server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_second_server_on_a_services_port_fails_to_bind() -> None:
    port = _free_port()
    first, second = grpc_server(), grpc_server()
    assert first.add_insecure_port(f"127.0.0.1:{port}") == port
    await first.start()
    try:
        with pytest.raises(RuntimeError):
            second.add_insecure_port(f"127.0.0.1:{port}")
    finally:
        await first.stop(None)
