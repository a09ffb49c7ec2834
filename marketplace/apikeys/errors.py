"""The error codes the API-key domain raises (see :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class ApiKeyErrorCode(StrEnum):
    INVALID_CREDENTIAL = "invalid_credential"  # malformed or unknown secret (shared with OAuthErrorCode)
    CREDENTIAL_INACTIVE = "credential_inactive"  # the account it acts as is gone, or left the organisation
    CREDENTIAL_REVOKED = "credential_revoked"
    CREDENTIAL_EXPIRED = "credential_expired"
    TEST_CREDENTIAL_REFUSED = "test_credential_refused"  # a test-mode key while payments are live
    INSUFFICIENT_SCOPE = "insufficient_scope"  # the credential lacks the scope the endpoint needs
