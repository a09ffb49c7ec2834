"""The client's exceptions: one hierarchy, rooted at :class:`MarketplaceError`.

An error the API answered with (its body is ``{"error": {"code", "message", "details"}}``) is an :class:`ApiError`
subclass chosen by HTTP status, carrying the API's ``code``, ``message``, the first offending ``field`` and every
``details`` entry, and the ``status``. Problems found on this side (a file whose SHA-256 does not match its
manifest, a certificate that does not verify, the network) have classes of their own.
"""

from __future__ import annotations

from typing import Any


class MarketplaceError(Exception):
    """Every exception the client raises on purpose."""


class TransportError(MarketplaceError):
    """The server could not be reached, or the connection broke, after every retry."""


class ApiError(MarketplaceError):
    """The API answered with an error: ``status`` (HTTP), ``code`` (stable, machine-readable), ``message``,
    ``field`` (the first field ``details`` names, or None) and ``details`` (every ``{"field", "message"}``)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details or [])
        first = next((d.get("field") for d in self.details if isinstance(d, dict) and d.get("field")), None)
        self.field: str | None = str(first) if first is not None else None
        self.method = method
        self.path = path
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.method} {self.path} failed " if self.method else ""
        lines = "".join(f"\n  {d.get('field')}: {d.get('message')}" for d in self.details if isinstance(d, dict))
        return f"{where}({self.status} {self.code}): {self.message}{lines}"


class BadRequest(ApiError):
    """400: malformed request (bad JSON, a bad cursor or search parameter)."""


class AuthenticationError(ApiError):
    """401: no credential, or an unknown, revoked or expired one."""


class PermissionDenied(ApiError):
    """403: the credential lacks the scope, or its user may not do this."""


class NotFound(ApiError):
    """404: no such resource, or not visible to this credential."""


class Conflict(ApiError):
    """409: the resource's state forbids it, or an Idempotency-Key was reused for another request."""


class ValidationError(ApiError):
    """422: invalid input; ``field`` and ``details`` name each offending field."""


class RateLimited(ApiError):
    """429: too many requests, still refused after every retry; ``retry_after`` says how long to wait."""


class ServiceUnavailable(ApiError):
    """503: the service is temporarily unavailable, still after every retry."""


class ServerError(ApiError):
    """Any other 5xx."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: ValidationError,
    429: RateLimited,
    503: ServiceUnavailable,
}


def error_for_status(status: int) -> type[ApiError]:
    """The :class:`ApiError` subclass of an HTTP status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else ApiError


class IntegrityError(MarketplaceError):
    """A downloaded file does not match the manifest: ``path``, ``expected`` and ``actual`` SHA-256 (or size)."""

    def __init__(self, path: str, expected: str, actual: str, *, what: str = "SHA-256") -> None:
        self.path, self.expected, self.actual = path, expected, actual
        super().__init__(f"{path}: {what} does not match the manifest (expected {expected}, got {actual})")


class CertificateInvalid(MarketplaceError):
    """A license certificate failed offline verification; ``reason`` is one of ``malformed``, ``unknown_key``,
    ``bad_signature``, ``not_yet_valid`` and ``expired``."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason, self.message = reason, message
        super().__init__(f"certificate {reason}: {message}")
