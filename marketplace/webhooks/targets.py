"""Which URLs the marketplace may send requests to on an organisation's behalf (server-side request forgery).

An endpoint URL (or an SSO issuer) is typed by a customer, and the server then connects to it: without a check, a
customer could make the server POST to its own admin ports, to a cloud metadata service (169.254.169.254) or to
anything else on the private network. In production only ``https`` URLs whose host resolves exclusively to public
addresses are accepted, and the host is resolved again at each delivery and the connection pinned to the checked
address, so a DNS answer that changes between the check and the connection (DNS rebinding) does not get through.
Development accepts ``http`` and loopback/private addresses, so a receiver on the developer's machine (or a test's
loopback server) works.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from marketplace.errors import ValidationFailed

MAX_URL_LENGTH = 2048

Resolver = Callable[..., list[tuple[Any, ...]]]


@dataclass(frozen=True)
class TargetPolicy:
    """What a deployment allows: ``https_only`` and ``public_only`` are both on in production."""

    https_only: bool
    public_only: bool

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> TargetPolicy:
        production = settings.get("MARKETPLACE_ENV") == "production"
        allow_private = bool(settings.get("WEBHOOK_ALLOW_PRIVATE_TARGETS", False))
        return cls(https_only=production, public_only=production and not allow_private)


class UnsafeTarget(ValueError):
    """The URL may not be connected to; the message says why (safe to show to the endpoint's owner)."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def check_syntax(url: str, policy: TargetPolicy, *, field: str = "url") -> str:
    """Return ``url`` stripped, or raise :class:`ValidationFailed` naming ``field`` (scheme, host, credentials)."""
    url = url.strip()
    if not url:
        raise ValidationFailed.for_field(field, "is required")
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed.for_field(field, f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValidationFailed.for_field(field, f"is not a valid URL ({error})") from error
    allowed = ("https",) if policy.https_only else ("http", "https")
    if parts.scheme not in allowed:
        raise ValidationFailed.for_field(field, "must start with " + " or ".join(f"{s}://" for s in allowed))
    if not parts.hostname:
        raise ValidationFailed.for_field(field, "needs a host name")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed.for_field(field, "must not contain a user name or password")
    if parts.fragment:
        raise ValidationFailed.for_field(field, "must not contain a #fragment")
    if port == 0:
        raise ValidationFailed.for_field(field, "has an invalid port")
    return url


def resolve(url: str, policy: TargetPolicy, resolver: Resolver | None = None) -> list[str]:
    """The addresses to connect to for ``url``; raise :class:`UnsafeTarget` when the policy forbids any of them.

    Every address the name resolves to must be public (not only the first): an attacker controlling the DNS
    could otherwise mix a public and a private answer.
    """
    resolver = resolver or socket.getaddrinfo
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeTarget(f"the host {host!r} cannot be resolved") from error
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeTarget(f"the host {host!r} has no address")
    if policy.public_only:
        private = [a for a in addresses if not _is_public(a)]
        if private:
            raise UnsafeTarget(
                f"the host {host!r} resolves to a private, loopback or link-local address ({private[0]})"
            )
    return addresses


def check_target(url: str, policy: TargetPolicy, *, field: str = "url", resolver: Resolver | None = None) -> str:
    """Validate ``url`` for saving: syntax always; in production also that its host resolves to public addresses.

    Development does not resolve the name (a receiver may not be running yet, or the machine may be offline).
    """
    url = check_syntax(url, policy, field=field)
    if policy.public_only:
        try:
            resolve(url, policy, resolver)
        except UnsafeTarget as error:
            raise ValidationFailed.for_field(field, str(error)) from error
    return url
