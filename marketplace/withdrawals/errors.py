"""The error codes withdrawals raise (mapped to HTTP by their base classes in :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class WithdrawalErrorCode(StrEnum):
    ILLEGAL_TRANSITION = "illegal_transition"  # a move the withdrawal or notice state machine forbids
    VERSION_NOT_PUBLISHED = "version_not_published"  # only a published version can be withdrawn
    ALREADY_WITHDRAWN = "version_already_withdrawn"  # the version already has a withdrawal
    PATCH_NOT_READY = "patched_version_not_ready"  # the patched draft has no file yet
