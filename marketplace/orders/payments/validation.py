"""Checks of the values that cross the payment interface, and the platform fee's arithmetic.

Money is an integer number of minor units (never a float, never a bool); currencies are lower-case ISO 4217 codes.
Each check raises :class:`~marketplace.orders.payments.errors.InvalidPaymentRequest` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .errors import InvalidPaymentRequest

__all__ = [
    "check_amount",
    "check_bps",
    "check_text",
    "country_code",
    "normalise_currency",
    "platform_fee",
    "positive_amount",
    "require_text",
    "split_fee",
]

_CURRENCY = re.compile(r"[a-z]{3}")
_BASIS_POINTS = 10_000


def normalise_currency(currency: str) -> str:
    """``currency`` as Stripe wants it (lower-case ISO 4217 letters); raises :class:`InvalidPaymentRequest`."""
    value = currency.strip().lower() if isinstance(currency, str) else ""
    if not _CURRENCY.fullmatch(value):
        raise InvalidPaymentRequest(f"currency: {currency!r} is not a three-letter ISO 4217 code.")
    return value


def check_amount(name: str, amount: object, *, positive: bool = False) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise InvalidPaymentRequest(f"{name}: must be an integer number of minor units, not {type(amount).__name__}.")
    if amount < 0 or (positive and amount == 0):
        raise InvalidPaymentRequest(f"{name}: must be {'positive' if positive else 'zero or more'}, not {amount}.")
    return amount


def check_text(name: str, value: object, *, max_length: int = 5000) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidPaymentRequest(f"{name}: must be a non-empty string.")
    if len(value) > max_length:
        raise InvalidPaymentRequest(f"{name}: must be at most {max_length} characters.")
    return value


def check_bps(bps: object) -> int:
    if not isinstance(bps, int) or isinstance(bps, bool) or not 0 <= bps <= _BASIS_POINTS:
        raise InvalidPaymentRequest(f"platform_fee_bps: must be an integer from 0 to 10000, not {bps!r}.")
    return bps


def platform_fee(total: int, bps: int) -> int:
    """The platform's fee on ``total`` minor units at ``bps`` basis points (1 bps = 0.01 %), rounded half up.

    Integer arithmetic only: ``platform_fee(1005, 1000) == 101`` (100.5 rounds up), ``platform_fee(1004, 1000)
    == 100``. Never more than ``total``.
    """
    check_amount("total", total)
    check_bps(bps)
    return (total * bps + _BASIS_POINTS // 2) // _BASIS_POINTS


def split_fee(subtotals: Sequence[int], bps: int) -> list[int]:
    """Share ``platform_fee(sum(subtotals), bps)`` among ``subtotals`` so that the shares add up to it exactly.

    Each share is its subtotal's exact fee rounded down, then the cents left over go one each to the largest
    remainders (earlier entries first on a tie): the largest-remainder method. No share exceeds its subtotal.
    """
    for index, amount in enumerate(subtotals):
        check_amount(f"subtotals[{index}]", amount)
    total_fee = platform_fee(sum(subtotals), bps)
    shares = [amount * bps // _BASIS_POINTS for amount in subtotals]
    remainders = [amount * bps % _BASIS_POINTS for amount in subtotals]
    leftover = total_fee - sum(shares)
    for index in sorted(range(len(subtotals)), key=lambda i: (-remainders[i], i))[:leftover]:
        shares[index] += 1
    return shares


def require_text(name: str, value: object) -> str:
    """``value`` if it is a non-empty string; raises :class:`InvalidPaymentRequest` naming ``name``."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidPaymentRequest(f"{name}: must be a non-empty string.")
    return value


def positive_amount(name: str, value: object) -> int:
    """``value`` if it is a positive int (not a bool, never a float)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidPaymentRequest(f"{name}: must be a positive integer number of minor units, not {value!r}.")
    return value


def country_code(value: str) -> str:
    """``value`` as an upper-case ISO 3166-1 alpha-2 code."""
    country = value.strip().upper() if isinstance(value, str) else ""
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        raise InvalidPaymentRequest(f"country: {value!r} is not an ISO 3166-1 alpha-2 code.")
    return country
