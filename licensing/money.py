"""Money as an integer number of minor units in an ISO 4217 currency.

There are no floats anywhere: ``Money(125000, "EUR")`` is €1,250.00 and ``Money(500, "JPY")`` is ¥500
(the yen has no minor unit). Currency codes and their minor-unit exponents come from an embedded
ISO 4217 table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ._iso import CURRENCIES
from .errors import MoneyError

#: Display symbols for the currencies that have an unambiguous one in English text. Other
#: currencies are shown with their code, e.g. ``CHF 1,250.00``.
SYMBOLS: dict[str, str] = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "ILS": "₪",
    "NGN": "₦",
    "PHP": "₱",
    "VND": "₫",
    "UAH": "₴",
    "TRY": "₺",
    "CNY": "CN¥",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "HKD": "HK$",
    "MXN": "MX$",
    "BRL": "R$",
    "TWD": "NT$",
}

_DECIMAL = re.compile(r"^(\d{1,18})(?:\.(\d+))?$")


def currency_exponent(currency: str) -> int:
    """Return the number of minor-unit digits of an ISO 4217 currency (2 for EUR, 0 for JPY, 3 for KWD).

    Raises :class:`MoneyError` for a code that is not in the embedded ISO 4217 table.
    """
    entry = CURRENCIES.get(currency)
    if entry is None:
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code", "currency")
    return entry[0]


def is_currency(code: str) -> bool:
    """Return True when ``code`` is an ISO 4217 currency code usable for prices."""
    return code in CURRENCIES


@dataclass(frozen=True, order=False)
class Money:
    """An amount of money: a non-negative integer of minor units and an ISO 4217 currency code.

    Construction validates both: ``amount`` must be an ``int`` (not a float, not a bool) and at least
    zero; ``currency`` must be an upper-case ISO 4217 code from the embedded table.
    """

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError(
                f"amount must be an integer number of minor units, not {type(self.amount).__name__}",
                "amount",
            )
        if self.amount < 0:
            raise MoneyError("amount must not be negative", "amount")
        if not isinstance(self.currency, str):
            raise MoneyError("currency must be a string", "currency")
        currency_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Return zero in ``currency``."""
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Parse a plain decimal string such as ``"1250.00"`` or ``"500"`` into Money without floats.

        Raises :class:`MoneyError` when the text is not a plain non-negative decimal or has more
        fractional digits than the currency allows (``"1.005"`` in EUR).
        """
        exponent = currency_exponent(currency)
        match = _DECIMAL.match(text.strip())
        if match is None:
            raise MoneyError(f"{text!r} is not a plain decimal amount", "amount")
        whole, fraction = match.group(1), match.group(2) or ""
        fraction = fraction.rstrip("0") if len(fraction) > exponent else fraction
        if len(fraction) > exponent:
            raise MoneyError(f"{currency} has {exponent} decimal places; {text!r} has more", "amount")
        return cls(int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or "0"), currency)

    @property
    def exponent(self) -> int:
        """Number of minor-unit digits of this currency."""
        return currency_exponent(self.currency)

    @property
    def is_zero(self) -> bool:
        """True when the amount is zero."""
        return self.amount == 0

    def decimal_string(self) -> str:
        """Return the amount as a plain decimal string with the currency's minor digits, e.g. ``"1250.00"``."""
        exponent = self.exponent
        if exponent == 0:
            return str(self.amount)
        whole, minor = divmod(self.amount, 10**exponent)
        return f"{whole}.{minor:0{exponent}d}"

    def format(self) -> str:
        """Return the amount for display in English: ``"€1,250.00"``, ``"¥500"``, ``"CHF 12.50"``."""
        exponent = self.exponent
        whole, minor = divmod(self.amount, 10**exponent)
        text = f"{whole:,}" + (f".{minor:0{exponent}d}" if exponent else "")
        symbol = SYMBOLS.get(self.currency)
        return f"{symbol}{text}" if symbol else f"{self.currency} {text}"

    def __str__(self) -> str:
        return self.format()

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}", "currency")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form ``{"amount": int, "currency": str}``."""
        return {"amount": self.amount, "currency": self.currency}

    @classmethod
    def from_dict(cls, data: Any) -> Money:
        """Build Money from ``{"amount": int, "currency": str}``; raises :class:`MoneyError` otherwise."""
        if not isinstance(data, dict) or set(data) != {"amount", "currency"}:
            raise MoneyError("money must be an object with exactly 'amount' and 'currency'")
        return cls(data["amount"], data["currency"])
