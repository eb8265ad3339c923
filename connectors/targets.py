"""Where outbound webhooks may POST: public addresses only, unless the operator allows more.

A webhook URL is chosen by whoever holds an admin key, and the server POSTs to it from inside
the operator's network: without a check, a webhook could reach the loopback interface, the
cloud's metadata service (`169.254.169.254`) or any private host, and read how it answered in
the delivery's `last_error`. So every address a webhook would reach must be public
(`ipaddress`'s `is_global`), or inside a network the operator allows
(`ASSISTANT_WEBHOOK_ALLOW_NETWORKS=10.0.0.0/8,127.0.0.1/32`, or `*` for any).

It is checked twice: when the webhook is registered (IP literals in every spelling that
`inet_aton` reads, such as `0x7f000001`, `2130706433` or `127.1`, and names that resolve), and
at every delivery, after DNS resolution: `GuardedTransport` resolves the host, checks every
address, and connects to the checked address (the `Host` header and TLS name stay the
host's), so a name that changes its answer between the check and the connection (DNS
rebinding) cannot slip through.

    >>> policy = TargetPolicy.parse("10.1.0.0/16")
    >>> policy.problem("10.1.2.3") is None, policy.problem("8.8.8.8") is None
    (True, True)
    >>> policy.problem("169.254.169.254")
    'is a link-local address (169.254.169.254)'
    >>> literal_address("0x7f000001"), literal_address("[::1]"), literal_address("example.org")
    ('127.0.0.1', '::1', None)
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

__all__ = ["GuardedTransport", "TargetPolicy", "TargetRefused", "literal_address"]

_IPv4ISH = re.compile(r"^[0-9a-fx.]+$", re.IGNORECASE)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(Exception):
    """A webhook target this server must not reach; the message says why."""


def literal_address(host: str) -> str | None:
    """The address an IP literal host stands for, in any spelling the resolver reads; None for
    a name."""
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if _IPv4ISH.match(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Which addresses webhooks may reach: public ones, plus `allowed` networks (`anything`:
    no check at all)."""

    allowed: tuple[Network, ...] = ()
    anything: bool = False
    resolve_timeout_s: float = 5.0
    _kinds: tuple[tuple[str, str], ...] = field(
        default=(
            ("is_loopback", "loopback"),
            ("is_link_local", "link-local"),
            ("is_private", "private"),
            ("is_multicast", "multicast"),
            ("is_unspecified", "unspecified"),
            ("is_reserved", "reserved"),
        ),
        repr=False,
    )

    @classmethod
    def parse(cls, value: str) -> TargetPolicy:
        """From `ASSISTANT_WEBHOOK_ALLOW_NETWORKS`: comma-separated networks, or `*`."""
        items = [v.strip() for v in value.split(",") if v.strip()]
        if "*" in items:
            return cls(anything=True)
        try:
            return cls(allowed=tuple(ipaddress.ip_network(v, strict=False) for v in items))
        except ValueError as e:
            raise ValueError(f"ASSISTANT_WEBHOOK_ALLOW_NETWORKS: {e}") from e

    def problem(self, address: str) -> str | None:
        """Why `address` may not be reached, or None when it may."""
        if self.anything:
            return None
        ip: Address = ipaddress.ip_address(address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip in network for network in self.allowed):
            return None
        if ip.is_global:
            return None
        kind = next((name for attr, name in self._kinds if getattr(ip, attr)), "non-public")
        return f"is a {kind} address ({ip})"

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses `host` stands for, every one of them allowed; `TargetRefused` when
        one is not, or when the name does not resolve."""
        literal = literal_address(host)
        if literal is not None:
            found = [literal]
        else:
            loop = asyncio.get_running_loop()
            try:
                infos = await asyncio.wait_for(
                    loop.getaddrinfo(host, port, type=socket.SOCK_STREAM),
                    self.resolve_timeout_s,
                )
            except (OSError, TimeoutError) as e:
                raise TargetRefused(f"{host} does not resolve ({e})") from e
            found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in found:
            problem = self.problem(address)
            if problem is not None:
                raise TargetRefused(
                    f"{host} {problem}; allow its network with ASSISTANT_WEBHOOK_ALLOW_NETWORKS"
                )
        return found

    async def check_url(self, url: str) -> None:
        """At registration: `TargetRefused` for a URL whose host is, or resolves to, an address
        that may not be reached. A name that does not resolve now is let through: every
        delivery checks again."""
        if self.anything:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            await self.addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
        except TargetRefused:
            if literal_address(host) is None and not await self._resolves(host):
                return
            raise

    async def _resolves(self, host: str) -> bool:
        try:
            await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, None), self.resolve_timeout_s
            )
        except (OSError, TimeoutError):
            return False
        return True


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that resolves each request's host itself, refuses it by `policy`
    (`TargetRefused`), and sends the request to the checked address: the `Host` header and the
    TLS server name stay the host's, so certificates are checked as usual.

        client = httpx.AsyncClient(transport=GuardedTransport(policy))
    """

    def __init__(self, policy: TargetPolicy, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.policy.anything:
            return await self.inner.handle_async_request(request)
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        address = (await self.policy.addresses(host, port))[0]
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        request.url = request.url.copy_with(host=address)  # Host: stays in the headers
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
