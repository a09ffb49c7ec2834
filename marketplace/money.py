"""The one place money is read from what a person typed and written back for them.

People type amounts in the currency's major unit ("499", "499.00", "1,299.50"; "¥1,300" has no decimals) and
read them with the currency symbol ("€1,299.50"); the database keeps integer minor units. Promises:

* :func:`parse_amount` accepts digits with an optional decimal point, thousands separated by commas in groups of
  three, surrounding spaces and a leading currency symbol or code of the same currency. It refuses anything else
  (letters, negative numbers, more decimals than the currency has, amounts above :data:`MAX_AMOUNT` minor units)
  with a :class:`MoneyInputError` whose message names the field in words. No floats are involved.
* :func:`format_amount` writes minor units for display (``€1,299.50``, ``¥1,300``, ``CHF 12.50``);
  :func:`input_value` writes them back into a form input in major units without symbol ("1299.50").
"""

from __future__ import annotations

import re

from licensing.money import SYMBOLS, Money, currency_exponent, is_currency

__all__ = ["MAX_AMOUNT", "MoneyInputError", "format_amount", "input_value", "parse_amount"]

#: The largest amount (minor units) anyone may type: anything above is a typo.
MAX_AMOUNT = 10**12

_PLAIN = re.compile(r"^(\d+)(?:\.(\d*))?$")
_GROUPED = re.compile(r"^(\d{1,3}(?:,\d{3})+)(?:\.(\d*))?$")


class MoneyInputError(ValueError):
    """What a person typed is not an amount of the currency.

    ``reason`` is what is wrong, to show next to the input ("must not be negative"); ``message`` is the same
    naming the field ("Price: must not be negative"), for a message shown away from the input.
    """

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"{label}: {reason}")
        self.label = label
        self.reason = reason
        self.message = f"{label}: {reason}"


def _strip_currency(text: str, currency: str) -> str:
    text = text.strip()
    for mark in (currency, SYMBOLS.get(currency, "")):
        if mark and text.upper().startswith(mark.upper()):
            return text[len(mark) :].strip()
        if mark and text.upper().endswith(mark.upper()):
            return text[: -len(mark)].strip()
    return text


def parse_amount(text: str, currency: str, label: str = "The amount") -> int:
    """``text`` typed in major units of ``currency`` as integer minor units (see the module docstring)."""
    code = (currency or "").strip().upper()
    if not is_currency(code):
        raise MoneyInputError("Currency", f"{currency or 'nothing'!r} is not a currency code (e.g. EUR, USD, JPY)")
    exponent = currency_exponent(code)
    example = "1,300" if exponent == 0 else "1,299." + "5".ljust(exponent, "0")
    bare = _strip_currency(str(text), code).replace(" ", "")
    if not bare:
        raise MoneyInputError(label, f"please give an amount, e.g. {example}")
    if bare.startswith("-"):
        raise MoneyInputError(label, "must not be negative")
    match = _PLAIN.match(bare) or _GROUPED.match(bare)
    if match is None:
        raise MoneyInputError(label, f"{text.strip()!r} is not an amount; write it like {example}")
    whole, fraction = match.group(1).replace(",", ""), (match.group(2) or "")
    fraction = fraction.rstrip("0") if len(fraction) > exponent else fraction
    if len(fraction) > exponent:
        places = "no decimals" if exponent == 0 else f"{exponent} decimal places"
        raise MoneyInputError(label, f"{code} has {places}; write it like {example}")
    amount: int = int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
    if amount > MAX_AMOUNT:
        raise MoneyInputError(label, f"must not be above {format_amount(MAX_AMOUNT, code)}")
    return amount


def format_amount(amount: int, currency: str) -> str:
    """Integer minor units for display with the currency symbol: ``€1,299.50``, ``¥1,300``, ``CHF 12.50``."""
    return Money(int(amount), str(currency).upper()).format()


def input_value(amount: int | None, currency: str | None) -> str:
    """Minor units as a form input's value in major units ("1299.50"); "" when there is no amount."""
    if amount is None:
        return ""
    code = (currency or "").strip().upper()
    if not is_currency(code):
        return str(amount)
    return Money(int(amount), code).decimal_string()
