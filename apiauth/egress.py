"""Requests to URLs that people typed (webhooks): HTTP(S) only, public addresses only unless
allowed by name, no redirects, and nothing of the answer kept but its status and reason.

The name is resolved once and the connection goes to the address that was checked, so a
name that answers differently the second time (DNS rebinding) cannot reach inside.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

SCHEMES = {"http": 80, "https": 443}


class RefusedTarget(Exception):
    """The URL may not be requested; the message says why, in a sentence."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _allowed() -> tuple[set[str], list]:
    """TOLLGATE_WEBHOOK_ALLOWED_HOSTS: host names, addresses and networks (CIDR) that may be
    internal, for receivers inside the company network."""
    names, networks = set(), []
    for entry in getattr(settings, "TOLLGATE_WEBHOOK_ALLOWED_HOSTS", []):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    return names, networks


# IPv6 ranges that carry an IPv4 address in their last 32 bits (RFC 4291 compatible and
# mapped, RFC 6052 and 8215 NAT64, RFC 2765 SIIT): the IPv4 address is the one reached.
_EMBEDDING_IPV4 = [
    ipaddress.ip_network(net)
    for net in ("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")
]


def _embedded_ipv4(address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if any(address in net for net in _EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address) -> bool:
    """True for a global unicast address; an IPv6 address that wraps an IPv4 one (mapped,
    compatible, 6to4, Teredo, NAT64) is judged by the IPv4 address it reaches."""
    if address.version == 6:
        inner = _embedded_ipv4(address)
        if inner is not None:
            address = inner
    return address.is_global and not address.is_multicast


def resolve(url: str) -> Target:
    """Check `url` and resolve its host; raise RefusedTarget when it may not be requested."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedTarget(f"The URL cannot be read ({exc}).") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise RefusedTarget("Only http:// and https:// URLs can receive webhooks.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise RefusedTarget("The URL names no host.")
    if parts.username or parts.password:
        raise RefusedTarget("Put no user name or password in the URL; the secret signs deliveries.")
    port = port or SCHEMES[scheme]
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedTarget(f"The host {host} cannot be resolved.") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    names, networks = _allowed()
    if host not in names:
        for address in addresses:
            if not _is_public(address) and not any(address in net for net in networks):
                raise RefusedTarget(
                    f"{host} is an internal address ({address}). Add it to "
                    "TOLLGATE_WEBHOOK_ALLOWED_HOSTS to deliver inside your network."
                )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme, host, port, path, str(addresses[0]))


def validate_public_url(url: str) -> None:
    """A field validator: the same check as at delivery, as a ValidationError."""
    try:
        resolve(url)
    except RefusedTarget as exc:
        raise ValidationError(str(exc), code="refused_target") from exc


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> tuple[int, str]:
    """POST `body` to `url`; (status, reason). Redirects are answers, never followed; the
    body of the answer is not read. Raises RefusedTarget, OSError or http.client errors."""
    target = resolve(url)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, (response.reason or "")[:100]
    finally:
        connection.close()
