"""The error codes the JSON API itself raises, beyond the domains' (see :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class ApiErrorCode(StrEnum):
    INVALID_AUTHORIZATION_HEADER = "invalid_authorization_header"  # not "Bearer <secret>"
    AUTHENTICATION_REQUIRED = "authentication_required"  # no credential on an endpoint that needs one
    JSON_TOO_DEEP = "json_too_deep"  # the body nests deeper than boundedjson allows
    JSON_TOO_LARGE = "json_too_large"  # the body has more values or longer strings than boundedjson allows
    INVALID_JSON = "invalid_json"
    INVALID_CURSOR = "invalid_cursor"  # a pagination cursor this listing did not sign
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"  # the Idempotency-Key came with a different request before
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"  # the first request with this key has not finished yet
    NO_CERTIFICATE = "no_certificate"  # the license is not active, so it has no signed certificate
    UNKNOWN_LICENSE = "unknown_license"  # verifying a license id nobody issued
