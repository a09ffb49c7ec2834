"""Domain errors and the one table that maps them to HTTP.

Services raise subclasses of :class:`DomainError`; they never know about HTTP. :data:`HTTP_STATUS` is the only
place where an error class becomes a status code, and :func:`error_body` the only JSON shape an API error has:
``{"error": {"code": "...", "message": "...", "details": [...]}}``.

Codes are enum members, never free strings: :class:`ErrorCode` holds the generic ones the base classes carry, and
each domain's ``errors`` module a ``<Domain>ErrorCode`` with the codes that domain raises (``tests/unit/
test_error_codes.py`` keeps it that way). They are :class:`~enum.StrEnum` members, so ``code`` is still the plain
string clients see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum, unique
from typing import Any

from sqlalchemy import exc as sa_exc


@unique
class ErrorCode(StrEnum):
    """The generic error codes: the base classes' defaults, and the handlers' own for errors no service raised."""

    ERROR = "error"  # a DomainError that names nothing more specific
    VALIDATION_FAILED = "validation_failed"
    BAD_REQUEST = "bad_request"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    THROTTLED = "throttled"
    # An e-mailed link (verification, reset, invitation) that does not hold.
    INVALID_TOKEN = "invalid_token"  # noqa: S105 - an error code, not a secret
    SERVICE_UNAVAILABLE = "service_unavailable"  # also the database being down: clients need not tell them apart
    STATEMENT_TIMEOUT = "statement_timeout"  # the database cancelled a statement that ran past the time limit
    CSRF_FAILED = "csrf_failed"  # a form's CSRF token was missing or stale
    INTERNAL_ERROR = "internal_error"  # an unexpected exception, logged; the response shows no detail


@dataclass
class FieldProblem:
    """One problem with one input field, for the ``details`` list of an error."""

    field: str
    message: str
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.location is not None:
            out["location"] = self.location
        return out


@dataclass
class DomainError(Exception):
    """Base class of every error a service raises on purpose; ``code`` is stable and machine-readable."""

    message: str = "The request could not be completed."
    details: list[FieldProblem] = field(default_factory=list)
    code: str = ErrorCode.ERROR

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass
class ValidationFailed(DomainError):
    """Input did not pass validation; ``details`` names each field and what is wrong with it."""

    code: str = ErrorCode.VALIDATION_FAILED

    @classmethod
    def for_field(cls, field_name: str, message: str) -> ValidationFailed:
        return cls(message=f"{field_name}: {message}", details=[FieldProblem(field_name, message)])

    def field_messages(self) -> dict[str, str]:
        return {problem.field: problem.message for problem in self.details}


@dataclass
class BadRequest(DomainError):
    code: str = ErrorCode.BAD_REQUEST


@dataclass
class NotAuthenticated(DomainError):
    message: str = "You need to log in first."
    code: str = ErrorCode.NOT_AUTHENTICATED


@dataclass
class PermissionDenied(DomainError):
    message: str = "You are not allowed to do that."
    code: str = ErrorCode.PERMISSION_DENIED


@dataclass
class NotFound(DomainError):
    message: str = "Not found."
    code: str = ErrorCode.NOT_FOUND


@dataclass
class Conflict(DomainError):
    code: str = ErrorCode.CONFLICT


@dataclass
class Throttled(DomainError):
    """Too many attempts; ``retry_after`` is how many seconds to wait."""

    message: str = "Too many attempts. Please wait and try again."
    code: str = ErrorCode.THROTTLED
    retry_after: int = 60


@dataclass
class InvalidToken(DomainError):
    message: str = "This link is invalid, has expired or has already been used."
    code: str = ErrorCode.INVALID_TOKEN


@dataclass
class ServiceUnavailable(DomainError):
    """A backend the request needs (object storage, ...) cannot be reached right now; retrying may help.

    ``retry_after`` is how many seconds a client should wait before trying again (sent as ``Retry-After``).
    """

    message: str = "A service this page depends on is unavailable. Please try again in a moment."
    code: str = ErrorCode.SERVICE_UNAVAILABLE
    retry_after: int = 30


@dataclass
class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached (stopped, restarting, network cut, every pooled connection busy).

    No service raises it: :func:`translate` turns the driver's connection errors into it, so views and services
    never catch database exceptions. Its page is rendered without touching the database.
    """

    message: str = "The site cannot reach its database right now. Please try again in a moment."
    retry_after: int = 10


@dataclass
class StatementTimedOut(ServiceUnavailable):
    """The database cancelled a statement of the request that ran past ``DATABASE_STATEMENT_TIMEOUT_MS``.

    No service raises it: :func:`translate` turns the server's cancellation (SQLSTATE 57014) into it. The
    database itself is fine, so the page is rendered as usual once the failed transaction is rolled back.
    """

    message: str = (
        "The search took too long to answer and was stopped. Please try again in a moment, or narrow it down."
    )
    code: str = ErrorCode.STATEMENT_TIMEOUT
    retry_after: int = 5


HTTP_STATUS: dict[type[DomainError], int] = {
    ValidationFailed: 422,
    BadRequest: 400,
    InvalidToken: 400,
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    Throttled: 429,
    ServiceUnavailable: 503,
    DomainError: 400,
}


def status_for(error: DomainError) -> int:
    """The HTTP status of ``error``: the nearest class in :data:`HTTP_STATUS` along its MRO."""
    for klass in type(error).__mro__:
        if klass in HTTP_STATUS:
            return HTTP_STATUS[klass]
    return 400


def _always(_error: BaseException) -> bool:
    return True


#: SQLSTATE ``query_canceled``: PostgreSQL cancelled the statement (its ``statement_timeout``, or an operator).
QUERY_CANCELED = "57014"


def _statement_timed_out(error: BaseException) -> bool:
    original = getattr(error, "orig", None)
    return getattr(original, "sqlstate", None) == QUERY_CANCELED or getattr(original, "pgcode", None) == QUERY_CANCELED


def _connection_lost(error: BaseException) -> bool:
    return isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated


# Exceptions of the libraries below the services that stand for a domain error, with the condition under which they
# do. OperationalError is the DBAPI's class for "the database did not do it, through no fault of the statement":
# refused or dropped connections, server shutdown, SQLite's locked or missing file; a statement cancelled by its time
# limit is told apart (the database is up, the statement was too slow).
TRANSLATED: tuple[tuple[type[BaseException], Callable[[BaseException], bool], Callable[[], DomainError]], ...] = (
    (sa_exc.DBAPIError, _statement_timed_out, StatementTimedOut),  # before OperationalError, its DBAPI class
    (sa_exc.OperationalError, _always, DatabaseUnavailable),
    (sa_exc.InterfaceError, _always, DatabaseUnavailable),  # e.g. "connection already closed"
    (sa_exc.DBAPIError, _connection_lost, DatabaseUnavailable),
    (sa_exc.TimeoutError, _always, DatabaseUnavailable),  # the connection pool stayed exhausted
)


def translate(error: BaseException) -> DomainError | None:
    """The domain error that ``error``, raised by a library below the services, stands for; None if none does."""
    for klass, applies, make in TRANSLATED:
        if isinstance(error, klass) and applies(error):
            return make()
    return None


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The one JSON shape of every API error."""
    return {"error": {"code": code, "message": message, "details": details or []}}
