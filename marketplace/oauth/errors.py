"""The error codes the OAuth domain raises (see :mod:`marketplace.errors`).

The token endpoint's own errors (``invalid_client``, ``invalid_grant``, ...) are RFC 6749's, written by Authlib in
the protocol's shape, and are not listed here.
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class OAuthErrorCode(StrEnum):
    INVALID_CREDENTIAL = "invalid_credential"  # malformed or unknown access token (shared with ApiKeyErrorCode)
