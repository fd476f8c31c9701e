"""Where an endpoint may point: http(s) URLs to public addresses (SSRF care).

A URL must be ``http`` or ``https`` with a host, no user:password, at most 2,000 characters.
Its host must resolve, and unless ``WEBHOOK_ALLOW_PRIVATE=1`` every address it resolves to must
be public: loopback, private (RFC 1918, fc00::/7), link-local (the cloud metadata service at
169.254.169.254), shared, multicast and reserved addresses are refused — at registration and
again at every try, and the call then goes to the very address checked (no second lookup a
changed DNS answer could redirect). Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from app.services.errors import ServiceError

MAX_URL = 2000


class BadAddress(ServiceError):
    """The URL is not one an endpoint may call (422)."""

    status = 422
    code = "bad_url"


@dataclass(frozen=True)
class Target:
    """A checked URL: its parts and the address a call connects to."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str


def parse(url: str) -> SplitResult:
    """The URL's parts, or BadAddress saying what is wrong with it."""
    url = (url or "").strip()
    if not url:
        raise BadAddress("a URL is required")
    if len(url) > MAX_URL:
        raise BadAddress(f"the URL is longer than {MAX_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise BadAddress("the URL contains spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BadAddress(f"only http and https URLs are allowed, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise BadAddress("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise BadAddress("the URL must not carry a user name or password")
    try:
        parts.port  # noqa: B018 (raises on a port outside 0..65535)
    except ValueError:
        raise BadAddress("the URL's port is not a number between 1 and 65535") from None
    if parts.fragment:
        raise BadAddress("the URL must not have a #fragment")
    return parts


def is_public(address: str) -> bool:
    """True for a globally routable unicast address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(url: str, *, allow_private: bool) -> Target:
    """Check ``url`` and pick the address to call; BadAddress when it may not be called."""
    parts = parse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise BadAddress(f"the host {host!r} does not resolve ({e})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise BadAddress(f"the host {host!r} does not resolve")
    if not allow_private:
        private = [a for a in addresses if not is_public(a)]
        if private:
            raise BadAddress(
                f"the host {host!r} resolves to a non-public address ({private[0]}); "
                "set WEBHOOK_ALLOW_PRIVATE=1 to allow receivers on private networks",
                code="private_address",
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url.strip(), parts.scheme, host, port, path, addresses[0])
