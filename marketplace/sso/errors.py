"""The error codes the single sign-on domain raises (see :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class SsoErrorCode(StrEnum):
    SSO_REFUSED = "sso_refused"  # the provider signed someone in whom the marketplace will not (unverified, domain)
    SSO_FAILED = "sso_failed"  # the sign-in could not complete (stale state, bad token, provider error)
