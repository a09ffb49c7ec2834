"""Verify, then decode, a webhook request: the one path every backend's ``parse_webhook`` takes."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .base import PaymentEvent
from .errors import InvalidEvent
from .signing import verify_signature

__all__ = ["parse_event"]

#: Stripe events are at most a few hundred kilobytes; anything far bigger is refused before hashing.
MAX_PAYLOAD_BYTES = 1024 * 1024


def parse_event(
    payload: bytes, signature_header: str | None, secrets: Sequence[str], *, tolerance: int, now: float
) -> PaymentEvent:
    """The :class:`PaymentEvent` in ``payload`` once its signature has been verified against ``secrets``.

    Nothing in the body is read before the signature over the raw bytes checks out. Raises
    :class:`~marketplace.orders.payments.errors.SignatureInvalid` or :class:`InvalidEvent`.
    """
    if not isinstance(payload, bytes | bytearray):
        raise TypeError("payload must be the raw request body as bytes")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InvalidEvent("The webhook body is too large.")
    verify_signature(bytes(payload), signature_header, secrets, tolerance=tolerance, now=now)
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise InvalidEvent("The webhook body is not JSON.") from None
    return PaymentEvent.from_json(data)
