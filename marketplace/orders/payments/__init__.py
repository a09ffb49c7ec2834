"""Payments for orders: one interface (:class:`PaymentBackend`), a Stripe backend and an embedded sandbox.

This package is plain typed Python plus the ``stripe`` SDK: it imports nothing from Flask, SQLModel or
SQLAlchemy and knows nothing about the database. How the orders domain uses it:

1. Build the backend once at start-up: ``payment_backend_from_settings(app.config)`` (see
   :data:`PAYMENT_SETTINGS`); refuse to start in production when ``backend.is_sandbox``.
2. Checkout: build a :class:`CheckoutRequest` from the pending order (``platform_fee_bps`` from
   :func:`platform_fee_bps_from_settings`), call ``create_checkout`` (outside the database transaction, or after
   commit), store ``session.id`` and the :class:`Settlement` (``request.settlement``) on the order, and redirect
   to ``session.url``.
3. Webhook: ``event = backend.parse_webhook(request.get_data(), request.headers.get("Stripe-Signature"))``
   (raw bytes; :class:`SignatureInvalid` → 400), deduplicate on ``event.id``, then act on ``event.type``
   (:class:`EventType`). On ``checkout.session.completed`` with ``payment_status == "paid"`` (or
   ``async_payment_succeeded``): record ``payment_intent_id``; for ``separate_transfers`` orders call
   ``retrieve_checkout`` for ``charge_id`` and then ``create_transfers`` with the settlement's payouts.
4. Refund: destination charge → ``refund(..., reverse_transfer=True, refund_application_fee=True)``; separate
   transfers → ``refund(..., False, False)`` plus ``reverse_transfer`` per transfer. The license is revoked when
   ``charge.refunded`` arrives, so both backends go through the same webhook path.
5. Errors: :class:`PaymentProviderUnavailable` is worth a retry with the same key; the others are not.
"""

from __future__ import annotations

from .base import (
    SESSION_ID_PLACEHOLDER,
    ChargeKind,
    CheckoutLine,
    CheckoutOutcome,
    CheckoutRequest,
    CheckoutSession,
    ConnectAccount,
    EventType,
    PaymentBackend,
    PaymentEvent,
    Payout,
    Refund,
    RefundReason,
    Settlement,
    Transfer,
    TransferReversal,
    plan_settlement,
    platform_fee,
    split_fee,
    transfer_group_for,
)
from .errors import (
    IdempotencyConflict,
    InvalidEvent,
    InvalidPaymentRequest,
    PaymentConfigError,
    PaymentError,
    PaymentObjectNotFound,
    PaymentProviderUnavailable,
    SignatureFailure,
    SignatureInvalid,
)
from .factory import PAYMENT_SETTINGS, payment_backend_from_settings, platform_fee_bps_from_settings
from .sandbox import SandboxBackend, SignedEvent
from .signing import sign_payload
from .stripe_backend import StripeBackend

__all__ = [
    "PAYMENT_SETTINGS",
    "SESSION_ID_PLACEHOLDER",
    "ChargeKind",
    "CheckoutLine",
    "CheckoutOutcome",
    "CheckoutRequest",
    "CheckoutSession",
    "ConnectAccount",
    "EventType",
    "IdempotencyConflict",
    "InvalidEvent",
    "InvalidPaymentRequest",
    "PaymentBackend",
    "PaymentConfigError",
    "PaymentError",
    "PaymentEvent",
    "PaymentObjectNotFound",
    "PaymentProviderUnavailable",
    "Payout",
    "Refund",
    "RefundReason",
    "SandboxBackend",
    "Settlement",
    "SignatureFailure",
    "SignatureInvalid",
    "SignedEvent",
    "StripeBackend",
    "Transfer",
    "TransferReversal",
    "payment_backend_from_settings",
    "plan_settlement",
    "platform_fee",
    "platform_fee_bps_from_settings",
    "sign_payload",
    "split_fee",
    "transfer_group_for",
]
