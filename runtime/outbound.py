"""Outbound calls to URLs that API callers give (webhooks, custom sources' action endpoints):
they never reach this machine or the private network around it.

A destination is refused when an address its host names or resolves to is loopback, private,
link-local, shared (100.64.0.0/10), multicast, unspecified, reserved or otherwise not global,
IPv4 or IPv6 (an IPv4-mapped IPv6 address is judged as the IPv4 address it is, a 6to4 one by the
IPv4 address it embeds too), unless an operator allowed its network (`PARLEY_OUTBOUND_ALLOW_CIDRS`,
`Settings.outbound_allow`, for on-premise receivers). Hosts are read the way the HTTP client
reads them, and numeric IPv4 forms the C resolver takes (`127.1`, `2130706433`, `0x7f000001`)
are addresses too.

The check runs when a URL is given (`check_destination`) and again on every connection
(`client`): the client resolves the host itself, checks every address and connects to a checked
one, keeping the URL's host for the Host header and TLS (SNI, certificate), so a name that
resolves elsewhere by then (DNS rebinding) gets nowhere. The sources' own API URLs are the
operator's (`PARLEY_<SOURCE>_API_URL`) and do not go through this.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Awaitable, Callable, Iterable, Sequence
from urllib.parse import unquote

import httpcore
import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Every address a host name resolves to (OSError when it resolves to none).
Resolver = Callable[[str, int], Awaitable[list[Address]]]

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
#: What makes an address unreachable from outbound calls, checked in this order (the first one
#: that applies names the reason: "<address> is <kind> address").
_FORBIDDEN: tuple[tuple[str, Callable[[Address], bool]], ...] = (
    ("a loopback", lambda a: a.is_loopback),
    ("an unspecified", lambda a: a.is_unspecified),
    ("a link-local", lambda a: a.is_link_local),
    ("a multicast", lambda a: a.is_multicast),
    ("a shared (100.64.0.0/10)", lambda a: a in _SHARED),
    ("a private", lambda a: a.is_private),
    ("a reserved", lambda a: a.is_reserved),
    ("a non-global", lambda a: not a.is_global),
)
#: How long resolving a URL's host may take when the URL is given.
RESOLVE_TIMEOUT_S = 5.0


class Refused(Exception):
    """A destination outbound calls may not reach; the message says why."""


def check_address(address: Address, allow: Sequence[Network] = ()) -> None:
    """Nothing when outbound calls may reach `address`; Refused saying why otherwise."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # an IPv4 destination, however it is written
    if any(address in network for network in allow):
        return
    for kind, applies in _FORBIDDEN:
        if applies(address):
            raise Refused(f"{address} is {kind} address")
    if isinstance(address, ipaddress.IPv6Address) and address.sixtofour is not None:
        check_address(address.sixtofour, allow)  # 6to4 relays it to this IPv4 address


def literal_address(host: str) -> Address | None:
    """The address `host` is written as: an IP address, or IPv4 in a numeric form the C resolver
    takes too (`127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`); None for a name."""
    try:
        return ipaddress.ip_address(unquote(host))  # unquote: a zone is written "%25eth0"
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_url(url: str, allow: Sequence[Network] = ()) -> httpx.URL:
    """`url` parsed, when it is an absolute http(s) URL whose host, if written as an address, may
    be reached; Refused otherwise. A host name is resolved by `check_destination`."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise Refused(f"not a valid URL ({exc})") from exc
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        raise Refused("not an absolute http(s) URL")
    address = literal_address(parsed.raw_host.decode("ascii"))
    if address is not None:
        check_address(address, allow)
    return parsed


async def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to, in the resolver's order (OSError when none)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))


def _check_resolved(host: str, addresses: Iterable[Address], allow: Sequence[Network]) -> None:
    for address in addresses:
        try:
            check_address(address, allow)
        except Refused as exc:
            raise Refused(f"{host} resolves to an address outbound calls may not reach: "
                          f"{exc}") from exc


async def check_destination(url: str, allow: Sequence[Network] = (),
                            resolver: Resolver = resolve) -> None:
    """Nothing when outbound calls may reach `url` now; Refused saying why otherwise.

    A host that does not resolve (yet) is not refused: nothing can be reached through it now,
    and every connection checks it again."""
    parsed = check_url(url, allow)
    host = parsed.raw_host.decode("ascii")
    if literal_address(host) is not None:
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            addresses = await resolver(host, port)
    except (OSError, TimeoutError):
        return
    _check_resolved(host, addresses, allow)


class _CheckingBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself, checks every address it resolves to, and connects to a checked
    one (httpcore then speaks TLS with the URL's host, as without it)."""

    def __init__(self, allow: Sequence[Network], resolver: Resolver) -> None:
        self.allow = tuple(allow)
        self.resolver = resolver
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await self._checked_addresses(host, port, timeout)
        failure: Exception = httpcore.ConnectError(f"{host} resolves to no address")
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout=timeout,
                                                    local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address, as a resolver's list is meant to be tried
        raise failure

    async def _checked_addresses(self, host: str, port: int,
                                 timeout: float | None) -> list[Address]:
        literal = literal_address(host)
        if literal is not None:
            check_address(literal, self.allow)
            return [literal]
        try:
            async with asyncio.timeout(timeout):
                addresses = await self.resolver(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took too long") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve") from exc
        _check_resolved(host, addresses, self.allow)
        return addresses

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def client(allow: Sequence[Network] = (), resolver: Resolver = resolve) -> httpx.AsyncClient:
    """An HTTP client for user-given URLs: every connection goes to an address `check_address`
    allows, else the request raises Refused (before anything is sent).

    Environment proxies are ignored: a proxy would make the connections this check cannot see."""
    transport = httpx.AsyncHTTPTransport()
    # httpx takes no network backend: its pool is replaced by one with httpx's default limits
    # and TLS context that connects through the checking backend.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(), max_connections=100,
        max_keepalive_connections=20, keepalive_expiry=5.0,
        network_backend=_CheckingBackend(allow, resolver))
    return httpx.AsyncClient(transport=transport, trust_env=False)
