"""Money: ISO 4217 validation, integer minor units, display formatting."""

from __future__ import annotations

import pytest

from licensing import Money, MoneyError
from licensing.money import currency_exponent, is_currency


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(125000, "EUR"), "€1,250.00"),
        (Money(500, "JPY"), "¥500"),
        (Money(1, "USD"), "$0.01"),
        (Money(0, "GBP"), "£0.00"),
        (Money(1234, "KWD"), "KWD 1.234"),
        (Money(99, "CHF"), "CHF 0.99"),
        (Money(123456789, "INR"), "₹1,234,567.89"),
        (Money(1000000, "KRW"), "₩1,000,000"),
        (Money(10000, "CLF"), "CLF 1.0000"),
    ],
)
def test_format(money: Money, text: str) -> None:
    assert money.format() == text
    assert str(money) == text


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        (12.5, "EUR", "amount"),
        (True, "EUR", "amount"),
        ("100", "EUR", "amount"),
        (-1, "EUR", "amount"),
        (100, "eur", "currency"),
        (100, "XXX", "currency"),
        (100, "XAU", "currency"),
        (100, "ABC", "currency"),
        (100, None, "currency"),
    ],
)
def test_invalid_money_names_the_field(amount: object, currency: object, field: str) -> None:
    with pytest.raises(MoneyError) as info:
        Money(amount, currency)  # type: ignore[arg-type]
    assert info.value.fields == (field,)


def test_exponents_and_lookup() -> None:
    assert currency_exponent("EUR") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("BHD") == 3
    assert is_currency("USD") and not is_currency("usd")
    assert Money(5, "EUR").exponent == 2


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("1250.00", "EUR", 125000),
        ("1250", "EUR", 125000),
        ("12.5", "EUR", 1250),
        ("1.500", "EUR", 150),
        ("500", "JPY", 500),
        ("0.001", "KWD", 1),
        (" 7.10 ", "USD", 710),
    ],
)
def test_parse(text: str, currency: str, amount: int) -> None:
    assert Money.parse(text, currency) == Money(amount, currency)


@pytest.mark.parametrize(
    ("text", "currency"), [("1.005", "EUR"), ("12.5", "JPY"), ("-1", "EUR"), ("1e3", "EUR"), ("", "EUR")]
)
def test_parse_rejects(text: str, currency: str) -> None:
    with pytest.raises(MoneyError):
        Money.parse(text, currency)


def test_decimal_string_arithmetic_and_dicts() -> None:
    assert Money(125000, "EUR").decimal_string() == "1250.00"
    assert Money(5, "EUR").decimal_string() == "0.05"
    assert Money(500, "JPY").decimal_string() == "500"
    assert Money(1, "EUR") + Money(2, "EUR") == Money(3, "EUR")
    assert Money(1, "EUR") < Money(2, "EUR") <= Money(2, "EUR")
    assert Money.zero("USD").is_zero
    with pytest.raises(MoneyError):
        Money(1, "EUR") + Money(1, "USD")
    with pytest.raises(MoneyError):
        _ = Money(1, "EUR") < Money(1, "USD")
    assert Money.from_dict(Money(7, "GBP").to_dict()) == Money(7, "GBP")
    for bad in ({"amount": 1}, [1, "EUR"], {"amount": 1, "currency": "EUR", "x": 1}):
        with pytest.raises(MoneyError):
            Money.from_dict(bad)
