"""Stripe's webhook signature scheme, both ways, and the same scheme for the marketplace's own webhooks.

Stripe sends ``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` where each ``v1`` is
``HMAC-SHA256(endpoint secret, f"{t}.{raw body}")``. Several ``v1`` values appear while an endpoint secret is
being rolled; one matching value is enough. Incoming signatures are checked by the ``stripe`` library's own
verifier (``stripe.WebhookSignature.verify_header``); around it this module adds what the library does not do:
a strict header check (one ``t=``, digits only, bounded length), a window checked against the backend's own clock
in both directions (the library uses the wall clock and accepts timestamps from the future), several secrets,
and a failure that says why (:class:`~marketplace.orders.payments.errors.SignatureFailure`).

:func:`compute_signature` is the one HMAC the marketplace writes by hand: the sandbox signs its events with it and
``marketplace.webhooks.signing`` signs outbound deliveries with it (the library only offers a one-secret test
helper over text, not bytes).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import stripe

from .errors import SignatureFailure, SignatureInvalid

__all__ = ["DEFAULT_TOLERANCE", "compute_signature", "parse_signature_header", "sign_payload", "verify_signature"]

#: Seconds a signed request stays acceptable, as in Stripe's libraries.
DEFAULT_TOLERANCE = 300

#: Longer headers are refused unread: a real one is ``t=`` plus a few 64-character signatures.
_MAX_HEADER_LENGTH = 4096

_SCHEME = "v1"


def compute_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The hex ``v1`` signature of ``payload`` signed at ``timestamp`` with ``secret``."""
    signed = str(timestamp).encode("ascii") + b"." + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value Stripe would send for ``payload`` at ``timestamp``."""
    return f"t={timestamp},{_SCHEME}={compute_signature(payload, secret, timestamp)}"


def parse_signature_header(header: str | None) -> tuple[int, list[str]]:
    """Split a ``Stripe-Signature`` header into its timestamp and its ``v1`` signatures.

    Unknown schemes (``v0`` test signatures, future ones) are ignored, as Stripe's libraries do. Raises
    :class:`SignatureInvalid` (``malformed_header``) when there is no usable timestamp or no ``v1`` value.
    """
    if not header or not header.strip():
        raise SignatureInvalid(SignatureFailure.MALFORMED_HEADER, "The Stripe-Signature header is missing.")
    if len(header) > _MAX_HEADER_LENGTH:
        raise SignatureInvalid(SignatureFailure.MALFORMED_HEADER, "The Stripe-Signature header is too long.")
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        name, equals, value = item.strip().partition("=")
        if not equals:
            continue
        if name == "t":
            timestamps.append(value.strip())
        elif name == _SCHEME:
            signatures.append(value.strip())
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit():
        raise SignatureInvalid(
            SignatureFailure.MALFORMED_HEADER, "The Stripe-Signature header has no single valid t= timestamp."
        )
    if not signatures:
        raise SignatureInvalid(
            SignatureFailure.MALFORMED_HEADER, f"The Stripe-Signature header has no {_SCHEME}= signature."
        )
    return int(timestamps[0]), signatures


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int,
    now: float,
) -> int:
    """Check that ``payload`` was signed by the holder of one of ``secrets`` within ``tolerance`` seconds of ``now``.

    Returns the signed timestamp. The signature is checked before the timestamp (as Stripe's libraries do), so
    a forged request learns nothing about the clock. Raises :class:`SignatureInvalid` with the reason.
    """
    timestamp, _ = parse_signature_header(header)
    assert header is not None
    if not any(_stripe_verifies(payload, header, secret) for secret in secrets if secret):
        raise SignatureInvalid(
            SignatureFailure.BAD_SIGNATURE, "No signature in the Stripe-Signature header matches the payload."
        )
    if timestamp < now - tolerance:
        raise SignatureInvalid(
            SignatureFailure.STALE_TIMESTAMP,
            f"The signature is older than the {tolerance} s tolerance (possibly a replayed request).",
        )
    if timestamp > now + tolerance:
        raise SignatureInvalid(
            SignatureFailure.FUTURE_TIMESTAMP, f"The signature is dated more than {tolerance} s in the future."
        )
    return timestamp


def _stripe_verifies(payload: bytes, header: str, secret: str) -> bool:
    """Whether the ``stripe`` library finds a ``v1`` in ``header`` made with ``secret`` over ``payload``.

    No tolerance is passed: the window is checked by :func:`verify_signature` against the backend's clock.
    """
    try:
        # The library verifies the text form of the body; a body that is not UTF-8 cannot be Stripe's.
        payload.decode("utf-8")
        return bool(stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None))
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        return False
