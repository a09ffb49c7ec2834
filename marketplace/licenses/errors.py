"""The error codes the licenses domain raises (see :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class LicenseErrorCode(StrEnum):
    DATASET_UNAVAILABLE = "dataset_unavailable"  # the dataset is not published (shared with OrderErrorCode)
    OFFER_RETIRED = "offer_retired"  # the offer is no longer on sale (shared with OrderErrorCode)
    OFFER_EXPIRED = "offer_expired"  # a private offer past its expiry (shared with OrderErrorCode)
    VERSION_UNAVAILABLE = "version_unavailable"  # the offer's version, or any version, is not published
    ILLEGAL_TRANSITION = "illegal_transition"  # a status change the license state machine does not allow
    PAYMENT_REQUIRED = "payment_required"  # claiming a priced offer without checkout
