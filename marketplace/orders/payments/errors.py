"""The payment package's own exceptions.

Every backend raises these and only these: callers never see a ``stripe`` exception or an HTTP error. The orders
service turns them into domain errors (for example :class:`PaymentProviderUnavailable` into "try again in a
minute", :class:`SignatureInvalid` into a 400 for the webhook endpoint).
"""

from __future__ import annotations

from enum import StrEnum


class PaymentError(Exception):
    """Base class of every error raised by the payments package.

    ``code`` is the provider's machine-readable error code when there is one (Stripe's ``error.code``, such as
    ``"card_declined"`` or ``"resource_missing"``), ``http_status`` the provider's HTTP status, and
    ``request_id`` the provider's request id (safe to log; useful when talking to Stripe support).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message


class PaymentConfigError(PaymentError):
    """The payment settings are missing or inconsistent (raised at start-up, not per request)."""


class InvalidPaymentRequest(PaymentError, ValueError):
    """The caller asked for something the interface refuses before talking to any provider.

    Examples: no lines, lines in two currencies, a negative amount, a fee outside 0–10,000 basis points, a
    success URL without the ``{CHECKOUT_SESSION_ID}`` placeholder, the same connected account twice in one
    batch of transfers. It is a programming or validation error, never a provider outage.
    """


class PaymentProviderUnavailable(PaymentError):
    """The provider could not be reached or is overloaded (connection error, timeout, rate limit, 5xx).

    Retrying later with the same idempotency key is safe and is the right reaction.
    """


class PaymentObjectNotFound(PaymentError):
    """The provider has no such object (unknown checkout session, payment intent, transfer or account)."""


class IdempotencyConflict(PaymentError):
    """An idempotency key was reused with different parameters.

    The first request under a key wins for about 24 hours at Stripe; a changed order needs a new key
    (for example ``checkout:<order id>:2``).
    """


class SignatureFailure(StrEnum):
    """Why a webhook signature was refused; the value is stable and safe to log."""

    MALFORMED_HEADER = "malformed_header"
    """No ``Stripe-Signature`` header, no ``t=`` timestamp, or no ``v1=`` signature in it."""
    BAD_SIGNATURE = "bad_signature"
    """No ``v1`` signature matches the body: forged, signed with another secret, or the body was altered."""
    STALE_TIMESTAMP = "stale_timestamp"
    """Correctly signed, but older than the tolerance: possibly a replayed request."""
    FUTURE_TIMESTAMP = "future_timestamp"
    """Correctly signed, but dated further in the future than the tolerance allows (clock skew or forgery)."""


class SignatureInvalid(PaymentError):
    """A webhook request failed verification; nothing in it may be trusted or acted upon."""

    def __init__(self, reason: SignatureFailure, message: str) -> None:
        super().__init__(message, code=reason.value)
        self.reason = reason


class InvalidEvent(PaymentError):
    """A correctly signed webhook body is not a Stripe event (not JSON, or missing ``id``/``type``/``data``)."""
