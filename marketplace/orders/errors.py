"""The error codes the orders domain raises (see :mod:`marketplace.errors`).

The payment backends' own codes (``resource_missing``, ``amount_too_large``, ...) mirror Stripe's API and stay in
:mod:`marketplace.orders.payments`; a refusal reaching a buyer is :attr:`OrderErrorCode.PAYMENT_REFUSED`.
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class OrderErrorCode(StrEnum):
    DATASET_UNAVAILABLE = "dataset_unavailable"  # the dataset is not published (shared with LicenseErrorCode)
    OFFER_RETIRED = "offer_retired"  # the offer is no longer on sale (shared with LicenseErrorCode)
    OFFER_EXPIRED = "offer_expired"  # a private offer past its expiry (shared with LicenseErrorCode)
    FREE_OFFER = "free_offer"  # a free offer is claimed from the dataset page, not bought
    NOT_PAYABLE = "not_payable"  # the order is past the point where it can be paid
    NOT_REFUNDABLE = "not_refundable"  # the order is not paid, or has no payment to refund
    PAYMENT_UNAVAILABLE = "payment_unavailable"  # the payment provider cannot be reached; retrying may help
    PAYMENT_REFUSED = "payment_refused"  # the payment provider refused the call
    WEBHOOK_REJECTED = "webhook_rejected"  # a payment webhook that failed verification
    SESSION_MISMATCH = "session_mismatch"  # a paid checkout session that belongs to another order
    AMOUNT_MISMATCH = "amount_mismatch"  # the amount paid is not the order's total
