"""The outbound policy of user-given URLs: which destinations are refused, however they are
written; the check when a URL is given; and the client that checks every connection and
connects to the very address it checked (DNS rebinding gets nowhere)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import pytest

from runtime import outbound
from runtime.settings import OUTBOUND_ALLOW_CIDRS, networks

LOOPBACK = networks("127.0.0.0/8")


@pytest.mark.parametrize("url, reason", [
    # Global destinations, by name or address.
    ("https://crm.example.com/hooks", None),
    ("http://93.184.216.34:8080/x", None),
    ("http://[2606:4700:4700::1111]/", None),
    ("http://[::ffff:8.8.8.8]/", None),  # IPv4-mapped: judged as the IPv4 address
    # Not absolute http(s) URLs.
    ("ftp://example.com/", "not an absolute http(s) URL"),
    ("http:///path", "not an absolute http(s) URL"),
    ("example.com/hooks", "not an absolute http(s) URL"),
    # IPv4 ranges.
    ("http://127.0.0.1:9901/stats", "127.0.0.1 is a loopback address"),
    ("http://10.1.2.3/", "10.1.2.3 is a private address"),
    ("http://172.16.0.1/", "172.16.0.1 is a private address"),
    ("http://192.168.1.1/", "192.168.1.1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://100.64.0.1/", "100.64.0.1 is a shared (100.64.0.0/10) address"),
    ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
    ("http://0.0.0.0:6379/", "0.0.0.0 is an unspecified address"),
    ("http://240.0.0.1/", "240.0.0.1 is a private address"),
    ("http://255.255.255.255/", "255.255.255.255 is a private address"),
    ("http://198.18.0.1/", "198.18.0.1 is a private address"),
    # The numeric forms the C resolver takes.
    ("http://127.1/", "127.0.0.1 is a loopback address"),
    ("http://2130706433/", "127.0.0.1 is a loopback address"),
    ("http://0x7f000001/", "127.0.0.1 is a loopback address"),
    ("http://0177.0.0.1/", "not a valid URL (Invalid IPv4 address: '0177.0.0.1')"),  # httpx's
    ("http://0x7f.1/", "127.0.0.1 is a loopback address"),
    ("http://167772161/", "10.0.0.1 is a private address"),
    # IPv6, and IPv4 inside it.
    ("http://[::1]:51061/", "::1 is a loopback address"),
    ("http://[::]/", ":: is an unspecified address"),
    ("http://[fe80::1]/", "fe80::1 is a link-local address"),
    ("http://[fe80::1%25eth0]/", "fe80::1%eth0 is a link-local address"),
    ("http://[fd00::1]/", "fd00::1 is a private address"),
    ("http://[ff02::1]/", "ff02::1 is a multicast address"),
    ("http://[2001:db8::1]/", "2001:db8::1 is a private address"),
    ("http://[::ffff:127.0.0.1]/", "127.0.0.1 is a loopback address"),
    ("http://[::ffff:10.0.0.1]/", "10.0.0.1 is a private address"),
    ("http://[::ffff:7f00:1]/", "127.0.0.1 is a loopback address"),
    ("http://[::127.0.0.1]/", "::7f00:1 is a reserved address"),  # IPv4-compatible
    ("http://[64:ff9b::a00:1]/", "64:ff9b::a00:1 is a reserved address"),  # NAT64
    ("http://[2002:a00:1::1]/", "10.0.0.1 is a private address"),  # 6to4
    # Credentials and ports do not hide the host.
    ("http://user:secret@10.0.0.1:8080/", "10.0.0.1 is a private address"),
])
def test_check_url(url: str, reason: str | None) -> None:
    if reason is None:
        outbound.check_url(url)
        return
    with pytest.raises(outbound.Refused) as refused:
        outbound.check_url(url)
    assert str(refused.value) == reason


@pytest.mark.parametrize("host, address", [
    ("0177.0.0.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("10.1", "10.0.0.1"),
    ("::ffff:127.0.0.1", "::ffff:7f00:1"), ("crm.example.com", None), ("deadbeef", None),
])
def test_literal_addresses(host: str, address: str | None) -> None:
    found = outbound.literal_address(host)
    assert (str(found) if found else None) == address


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:18097/hooks", "http://127.1/", "http://2130706433/",
    "http://[::ffff:127.0.0.1]/",
])
def test_the_allow_list_lets_an_operator_reach_its_networks(url: str) -> None:
    outbound.check_url(url, LOOPBACK)
    with pytest.raises(outbound.Refused):
        outbound.check_url(url.replace("127.", "10.").replace("2130706433", "167772161"),
                           LOOPBACK)


def test_allowed_networks_are_read_from_the_setting() -> None:
    assert networks("") == ()
    assert networks(" 10.0.0.0/8, fd00::/8 ,192.168.1.5") == (
        ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"),
        ipaddress.ip_network("192.168.1.5/32"))
    with pytest.raises(ValueError, match="PARLEY_OUTBOUND_ALLOW_CIDRS: 10.1.2.3/8 has host bits"):
        OUTBOUND_ALLOW_CIDRS.read({"PARLEY_OUTBOUND_ALLOW_CIDRS": "10.1.2.3/8"})
    with pytest.raises(ValueError, match="PARLEY_OUTBOUND_ALLOW_CIDRS"):
        OUTBOUND_ALLOW_CIDRS.read({"PARLEY_OUTBOUND_ALLOW_CIDRS": "intranet"})


def _resolver(*answers: list[str]) -> tuple[outbound.Resolver, list[str]]:
    """A resolver answering each call with the next list of addresses (the last one again when
    they run out; an empty list: the name does not resolve), and the hosts it was asked."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[outbound.Address]:
        answer = answers[min(len(asked), len(answers) - 1)]
        asked.append(host)
        if not answer:
            raise OSError("Name or service not known")
        return [ipaddress.ip_address(a) for a in answer]

    return resolve, asked


@pytest.mark.parametrize("addresses, reason", [
    (["93.184.216.34"], None),
    (["93.184.216.34", "2606:2800:220:1::1"], None),
    ([], None),  # not resolvable now: checked again on connecting
    (["10.0.0.7"], "hooks.example.com resolves to an address outbound calls may not reach: "
                   "10.0.0.7 is a private address"),
    # Every address counts, not only the first.
    (["93.184.216.34", "169.254.169.254"], "169.254.169.254 is a link-local address"),
    (["2606:2800:220:1::1", "::ffff:127.0.0.1"], "127.0.0.1 is a loopback address"),
])
async def test_a_name_is_checked_by_every_address_it_resolves_to(
        addresses: list[str], reason: str | None) -> None:
    resolver, asked = _resolver(addresses)
    check = outbound.check_destination("https://hooks.example.com/in", resolver=resolver)
    if reason is None:
        await check
    else:
        with pytest.raises(outbound.Refused, match=reason.replace(".", r"\.")):
            await check
    assert asked == ["hooks.example.com"]


async def test_an_address_is_not_resolved() -> None:
    resolver, asked = _resolver(["93.184.216.34"])
    with pytest.raises(outbound.Refused, match="10.0.0.1 is a private address"):
        await outbound.check_destination("http://[::ffff:10.0.0.1]/", resolver=resolver)
    assert asked == []


class _Receiver:
    """A one-answer-per-connection HTTP server on loopback that records the requests' heads."""

    def __init__(self) -> None:
        self.heads: list[str] = []
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.heads.append((await reader.readuntil(b"\r\n\r\n")).decode())
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[_Receiver]:
    found = _Receiver()
    server = await asyncio.start_server(found._serve, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    async with server:
        yield found


async def test_the_client_connects_to_the_checked_address_keeping_the_host(
        receiver: _Receiver) -> None:
    resolver, asked = _resolver(["127.0.0.1"])
    async with outbound.client(LOOPBACK, resolver) as http:
        reply = await http.get(f"http://receiver.test:{receiver.port}/hooks")
    assert (reply.status_code, reply.text) == (200, "ok")
    assert asked == ["receiver.test"]
    assert receiver.heads[0].startswith("GET /hooks HTTP/1.1\r\n")
    assert f"\r\nHost: receiver.test:{receiver.port}\r\n" in receiver.heads[0]


async def test_the_client_refuses_a_name_that_resolves_elsewhere_by_then(
        receiver: _Receiver) -> None:
    """DNS rebinding: a global address when the URL is given, loopback when connecting."""
    resolver, asked = _resolver(["93.184.216.34"], ["127.0.0.1"])
    url = f"http://rebind.test:{receiver.port}/hooks"
    await outbound.check_destination(url, resolver=resolver)
    async with outbound.client((), resolver) as http:
        with pytest.raises(outbound.Refused, match="rebind.test resolves to an address outbound "
                                                   "calls may not reach: 127.0.0.1 is a loopback"):
            await http.post(url, content=b"{}")
    assert asked == ["rebind.test", "rebind.test"]
    assert receiver.heads == []  # nothing reached it


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1", "2130706433", "[::ffff:127.0.0.1]"])
async def test_the_client_refuses_addresses_however_written(receiver: _Receiver,
                                                            host: str) -> None:
    resolver, asked = _resolver(["93.184.216.34"])
    async with outbound.client((), resolver) as http:
        with pytest.raises(outbound.Refused, match="127.0.0.1 is a loopback address"):
            await http.get(f"http://{host}:{receiver.port}/")
    assert asked == [] and receiver.heads == []


async def test_the_client_refuses_when_any_address_is_refused(receiver: _Receiver) -> None:
    resolver, _ = _resolver(["127.0.0.1", "10.9.8.7"])
    async with outbound.client(LOOPBACK, resolver) as http:
        with pytest.raises(outbound.Refused, match="10.9.8.7 is a private address"):
            await http.get(f"http://mixed.test:{receiver.port}/")
    assert receiver.heads == []
