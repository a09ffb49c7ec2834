"""The error codes the Delta Sharing domain raises (see :mod:`marketplace.errors`), and the protocol's own codes.

Services raise the marketplace's domain errors with a :class:`SharingErrorCode`; the protocol endpoints answer
every error as the protocol asks, ``{"errorCode": ..., "message": ...}``, with a :class:`ProtocolErrorCode`
chosen from the HTTP status (:func:`protocol_code`).
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class SharingErrorCode(StrEnum):
    NOT_TABULAR = "not_tabular"  # the license covers no CSV, JSON Lines or Parquet file to share
    TOKEN_MISSING = "sharing_token_missing"  # noqa: S105  # no ``Authorization: Bearer`` header
    TOKEN_UNKNOWN = "sharing_token_unknown"  # noqa: S105  # a bearer token no profile was minted with
    PROFILE_REVOKED = "sharing_profile_revoked"  # the recipient profile was revoked by the licensee
    BAD_PAGE_TOKEN = "bad_page_token"  # noqa: S105  # a ``pageToken`` this server did not issue for this listing
    BAD_PARAMETER = "bad_parameter"  # ``maxResults`` or the query body is not what the protocol allows


@unique
class ProtocolErrorCode(StrEnum):
    """The Delta Sharing protocol's ``errorCode`` values."""

    INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


_BY_STATUS = {
    400: ProtocolErrorCode.INVALID_PARAMETER_VALUE,
    401: ProtocolErrorCode.UNAUTHENTICATED,
    403: ProtocolErrorCode.PERMISSION_DENIED,
    404: ProtocolErrorCode.RESOURCE_DOES_NOT_EXIST,
    422: ProtocolErrorCode.INVALID_PARAMETER_VALUE,
    429: ProtocolErrorCode.RESOURCE_EXHAUSTED,
}


def protocol_code(status: int) -> ProtocolErrorCode:
    """The protocol's ``errorCode`` for an HTTP status (``INTERNAL_ERROR`` for anything unexpected)."""
    return _BY_STATUS.get(status, ProtocolErrorCode.INTERNAL_ERROR)
