"""Calls from the portal to addresses its users give (webhooks): only to the public internet.

A URL an ERP administrator types must not make the portal a way into its own network (the
database, Redis, the cloud's metadata service at 169.254.169.254) nor into anyone's. So:

- ``check_url`` reads the URL (http or https, no user name or password, a host written as a
  name or a plain address — not ``2130706433``, ``0x7f000001``, ``017700000001`` or ``127.1``);
- ``resolve`` looks the host up with getaddrinfo and refuses when ANY address it has is not a
  public unicast one (loopback, private, link-local, CGNAT, reserved, documentation,
  multicast, unspecified, IPv4-mapped/compatible IPv6, 6to4, Teredo and NAT64 addresses
  embedding one of those...);
- ``post`` connects to an address ``resolve`` returned — the one that was checked, never a
  second lookup that a DNS server could answer differently (rebinding) — while the request
  carries the URL's host in ``Host`` and TLS checks the certificate against that name (SNI).
  Redirects are never followed.

Loopback may be allowed for local development (``allow_loopback``; the webhook setting
``WEBHOOK_ALLOW_LOOPBACK``); nothing else ever is. No Flask here: plain values in and out.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from app.services.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 500

#: Names that only mean something inside a network (RFC 6761, 6762, 8375 and the clouds').
PRIVATE_NAME_SUFFIXES = (
    "localhost",
    ".localhost",
    ".local",
    ".internal",
    ".intranet",
    ".home.arpa",
    ".lan",
    ".corp",
    ".onion",
    ".test",
    ".invalid",
    ".example",
    ".arpa",
)

# What ``is_global`` calls global but IANA's special-purpose registries do not (Python 3.11:
# part of 192.0.0.0/24, the 6to4 relay, IPv4-compatible IPv6, local NAT64, 6to4, IPv6
# documentation, SRv6 and site-local). Every other range is ``is_global``'s own answer, and
# multicast is ``is_multicast``'s; tests/services/test_webhooks.py walks the whole registry.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(network)
    for network in (
        "192.0.0.0/24",
        "192.88.99.0/24",
        "::/96",  # unspecified, loopback and IPv4-compatible
        "64:ff9b:1::/48",
        "2002::/16",
        "3fff::/20",
        "5f00::/16",
        "fec0::/10",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")


class UnsafeAddress(DomainError):
    """The portal will not call this address; ``message`` says why (field ``url``)."""

    def __init__(self, message: Any) -> None:
        super().__init__(message, field="url")


@dataclass(frozen=True)
class Target:
    """A URL the portal may call, taken apart."""

    scheme: str
    host: str  # lower-case, ASCII (IDNA), without brackets or a trailing dot
    port: int
    path: str  # with the query, never empty


def check_url(url: str) -> Target:
    """Take an http(s) URL apart, or raise UnsafeAddress saying what is wrong with it."""
    if not url or len(url) > MAX_URL_LENGTH or re.search(r"[\s\x00-\x1f\x7f\\]", url):
        raise UnsafeAddress(_l("Give an http:// or https:// address of at most 500 characters."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeAddress(_l("The address's port is not a number from 1 to 65535.")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress(_l("Give an http:// or https:// address of at most 500 characters."))
    if "@" in parts.netloc:
        raise UnsafeAddress(_l("Leave any user name or password out of the address."))
    if port == 0:
        raise UnsafeAddress(_l("The address's port is not a number from 1 to 65535."))
    host = parts.hostname.rstrip(".")
    if _literal(host) is None:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise UnsafeAddress(_l("The address's host name is not valid.")) from None
        if not _HOST_NAME.fullmatch(host):
            raise UnsafeAddress(_l("The address's host name is not valid."))
        if re.fullmatch(r"(0x[0-9a-f]*|[0-9]+)", host.rsplit(".", 1)[-1]):
            # 2130706433, 0x7f000001, 017700000001, 127.1: IPv4 in forms resolvers differ on.
            raise UnsafeAddress(
                _l("Write an IPv4 address as four decimal numbers (such as 203.0.113.10).")
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _literal(host: str) -> IPAddress | None:
    """Return the address a host is written as, or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_public(address: IPAddress, *, allow_loopback: bool = False) -> bool:
    """Tell whether the portal may connect to address (a public unicast one)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = address.ipv4_mapped
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return allow_loopback
    if any(address in network for network in _NOT_PUBLIC if network.version == address.version):
        return False
    return address.is_global and not address.is_multicast


def resolve(target: Target, *, allow_loopback: bool = False) -> list[IPAddress]:
    """Return the host's addresses, all of them public, or raise UnsafeAddress.

    One address that is not public refuses the host: a resolver may hand any of them out.
    """
    name = target.host
    if _literal(name) is None and (name.endswith(PRIVATE_NAME_SUFFIXES) or "." not in name):
        if not (allow_loopback and name in ("localhost", "localhost.localdomain")):
            raise UnsafeAddress(
                _l(
                    "%(host)s is a name of a private network: give an address on the "
                    "public internet.",
                    host=name,
                )
            )
    try:
        infos = socket.getaddrinfo(name, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeAddress(_l("%(host)s could not be found.", host=name)) from None
    addresses: list[IPAddress] = []
    for info in infos:
        text = str(info[4][0])
        address = _literal(text.split("%")[0])
        if address is None or "%" in text or not is_public(address, allow_loopback=allow_loopback):
            raise UnsafeAddress(
                _l(
                    "%(host)s leads to %(address)s, a private, loopback or reserved address: "
                    "the portal only calls addresses on the public internet.",
                    host=name,
                    address=text,
                )
            )
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeAddress(_l("%(host)s could not be found.", host=name))
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a checked address, with the URL's host in the Host header."""

    def __init__(self, target: Target, address: IPAddress, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; SNI and the certificate check use the URL's host name."""

    def __init__(self, target: Target, address: IPAddress, timeout: float) -> None:
        context = _tls_context(_ca_bundle())
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self.address = address
        self.tls = context

    def connect(self) -> None:
        raw = socket.create_connection((str(self.address), self.port), self.timeout)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


@functools.lru_cache(maxsize=4)
def _tls_context(cafile: str | None) -> ssl.SSLContext:
    """Return the client TLS settings trusting cafile, built once (loading the CAs is slow)."""
    return ssl.create_default_context(cafile=cafile)


def _ca_bundle() -> str | None:
    try:
        import certifi
    except ImportError:  # the system's store
        return None
    return certifi.where()


def post(
    target: Target,
    addresses: list[IPAddress],
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> int:
    """POST body to target at the first of the checked addresses that answers; return the
    status (a redirect is a status like any other: never followed). Raises OSError or
    http.client.HTTPException when none answers."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    problem: Exception | None = None
    for address in addresses:
        connection = connection_class(target, address, timeout)
        try:
            connection.connect()
        except OSError as error:  # the next address, as a browser would
            connection.close()
            problem = error
            continue
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            return connection.getresponse().status  # the answer's body is never read
        finally:
            connection.close()
    raise problem or OSError("no address to connect to")
