"""The ``Marketplace-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``.

One ``v1`` per valid secret (two while a rotated-out secret is still within its grace window), so a receiver that
has not switched to the new secret yet keeps accepting deliveries. The timestamp is signed too, so a receiver can
refuse old deliveries replayed later. See the README's "Receiving webhooks" section for the receiving side.
"""

from __future__ import annotations

from collections.abc import Sequence

from marketplace.orders.payments.signing import compute_signature

SIGNATURE_HEADER = "Marketplace-Signature"
EVENT_HEADER = "Marketplace-Event"
DELIVERY_HEADER = "Marketplace-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex ``v1`` of ``body`` sent at ``timestamp`` under ``secret`` (Stripe's scheme, so one helper signs both)."""
    return compute_signature(body, secret, timestamp)


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """The header value for ``body``: the timestamp and one ``v1`` per secret, newest secret first."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)])
