"""The one URL validator: every URL a user gives, and every request and redirect yt-dlp makes
for it, passes :func:`validate_url`.

* http and https only; no user:password@ part;
* the host of the URL a user gives must be on the allowlist (YouTube by default, plus
  ``UrlPolicy.extra_hosts``; subdomains included);
* the host must not be, or resolve to, a loopback, private, link-local, shared, reserved,
  multicast or unspecified address (IPv4-mapped IPv6 included).

DNS rebinding (a host that resolves to a public address when checked and a private one when
connecting) is closed where the connection is made: yt-dlp's connections resolve through
:func:`public_addresses` and connect to the address that was checked
(:mod:`pipeline.sources.fetch`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.errors import UrlError

YOUTUBE_HOSTS = ("youtube.com", "youtu.be", "youtube-nocookie.com")

#: ``resolve(host, port)`` -> the IP addresses a connection could use.
Resolver = Callable[[str, int], list[str]]


def system_resolve(host: str, port: int) -> list[str]:
    """All addresses ``socket.getaddrinfo`` gives (looked up at call time, so tests can patch it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]).split("%", 1)[0] for info in infos]


@dataclass(frozen=True)
class UrlPolicy:
    """``trusted_private_hosts``: exact host strings exempt from the private-address rule,
    for tests (``"127.0.0.1"``) or a trusted LAN server; empty in production."""

    allowed_hosts: tuple[str, ...] = YOUTUBE_HOSTS
    extra_hosts: tuple[str, ...] = ()
    trusted_private_hosts: tuple[str, ...] = ()

    def on_allowlist(self, host: str) -> bool:
        return any(host == h or host.endswith("." + h) for h in (*self.allowed_hosts, *self.extra_hosts))


#: Non-public ranges that older Python ``ipaddress`` tables (before the CVE-2024-4032 fix,
#: e.g. 3.11.7) call global: IETF protocol assignments, 6to4 and NAT64 prefixes.
_NOT_PUBLIC = tuple(ipaddress.ip_network(n) for n in ("192.0.0.0/24", "2002::/16", "64:ff9b::/96", "64:ff9b:1::/48"))


def address_problem(address: str) -> str | None:
    """Why a connection to this IP address is refused, or None when it is public."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in _NOT_PUBLIC):
        return f"{address} is not a public address"
    for label in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{label}"):
            return f"{address} is a {label.replace('_', '-')} address"
    if not ip.is_global:
        return f"{address} is not a public address"
    return None


def _host_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlError(code="url.scheme", url=url, scheme=scheme or "no")
    if parts.username is not None or parts.password is not None:
        raise UrlError(code="url.credentials", url=url)
    try:
        host, port = (parts.hostname or "").rstrip("."), parts.port or (443 if scheme == "https" else 80)
    except ValueError as err:
        raise UrlError(code="url.bad_port", url=url, reason=str(err)) from err
    if not host:
        raise UrlError(code="url.no_host", url=url)
    return scheme, host.lower(), port


def public_addresses(host: str, port: int, policy: UrlPolicy = UrlPolicy(), resolve: Resolver | None = None,
                     what: str | None = None) -> list[str]:
    """The addresses ``host`` resolves to, if every one is public (or the host is trusted);
    else :class:`UrlError`, naming ``what`` (the URL, by default the host)."""
    what = what or host
    host = host.strip("[]").rstrip(".").lower()
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = (resolve or system_resolve)(host, port)
        except OSError as err:
            raise UrlError(code="url.unresolvable", url=what, host=host, reason=str(err)) from err
    if not addresses:
        raise UrlError(code="url.no_address", url=what, host=host)
    if host in policy.trusted_private_hosts:
        return addresses
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise UrlError(code="url.not_public", url=what, host=host, problem=problem)
    return addresses


def validate_url(url: str, policy: UrlPolicy = UrlPolicy(), *, allowlist: bool = True,
                 resolve: Resolver | None = None) -> str:
    """Return the stripped URL, or raise :class:`UrlError` saying why it is refused."""
    _, host, port = _host_of(url)
    if allowlist and not policy.on_allowlist(host):
        allowed = ", ".join((*policy.allowed_hosts, *policy.extra_hosts))
        raise UrlError(code="url.not_allowed", url=url, host=host, allowed=allowed)
    if host in policy.trusted_private_hosts:
        return url.strip()
    public_addresses(host, port, policy, resolve, what=url)
    return url.strip()


def host_of(url: str) -> str:
    """The URL's host, lower-case, without a trailing dot (UrlError for a URL that is not http(s))."""
    return _host_of(url)[1]


def looks_like_url(source: str | Path) -> bool:
    return isinstance(source, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source.strip()) is not None
