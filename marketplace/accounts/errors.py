"""The error codes the accounts domain raises (see :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class AccountErrorCode(StrEnum):
    EMAIL_NOT_VERIFIED = "email_not_verified"  # right password, but the address was never confirmed (login: 403)
    EMAIL_TAKEN = "email_taken"  # the new address belongs to another account by the time the change is confirmed
    ALREADY_MEMBER = "already_member"  # accepting an invitation to an organisation one already belongs to
    LAST_OWNER = "last_owner"  # removing or demoting the organisation's only owner
