"""The shared money parser, the field and state label tables, and the structured terms' round trip."""

from __future__ import annotations

import pytest

import licensing
from licensing.grants import GrantStatus
from marketplace.labels import field_label, state_label
from marketplace.licenses import term_form
from marketplace.money import MoneyInputError, format_amount, input_value, parse_amount
from marketplace.orders.models import OrderStatus


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("499", "EUR", 49900),
        ("499.00", "EUR", 49900),
        ("1,299.50", "EUR", 129950),
        ("1,299.5", "EUR", 129950),
        (" €1,299.50 ", "EUR", 129950),
        ("12.50 EUR", "EUR", 1250),
        ("0", "USD", 0),
        ("1300", "JPY", 1300),
        ("1,300", "JPY", 1300),
        ("¥1,300", "JPY", 1300),
        ("1.250", "KWD", 1250),
        ("1,234,567.89", "EUR", 123456789),
    ],
)
def test_amounts_typed_in_major_units_are_read_as_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency, "Price") == minor


@pytest.mark.parametrize(
    ("text", "currency", "words"),
    [
        ("12.5", "JPY", "JPY has no decimals"),
        ("1.005", "EUR", "EUR has 2 decimal places"),
        ("-3", "EUR", "must not be negative"),
        ("abc", "EUR", "is not an amount"),
        ("1,29.50", "EUR", "is not an amount"),
        ("12,5", "EUR", "is not an amount"),
        ("", "EUR", "please give an amount"),
        ("99999999999", "EUR", "must not be above"),
    ],
)
def test_bad_amounts_are_refused_naming_the_field(text: str, currency: str, words: str) -> None:
    with pytest.raises(MoneyInputError) as caught:
        parse_amount(text, currency, "Price")
    assert words in caught.value.reason and caught.value.message.startswith("Price: ")


def test_an_unknown_currency_is_named_as_the_currency_field() -> None:
    with pytest.raises(MoneyInputError) as caught:
        parse_amount("10", "XYZ", "Price")
    assert caught.value.label == "Currency"


def test_amounts_are_shown_with_the_currency_symbol_and_written_back_in_major_units() -> None:
    assert format_amount(125000, "EUR") == "€1,250.00"
    assert format_amount(1300, "JPY") == "¥1,300"
    assert input_value(125000, "EUR") == "1250.00" and input_value(1300, "JPY") == "1300"
    assert input_value(None, "EUR") == ""


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("ai_act.design_choices", "Design choices"),
        ("milestones.2.amount", "Milestone 3: amount"),
        ("overrides.seats", "Seats"),
        ("modality_details.audio.hours", "Audio: hours"),
        ("ai_act.preparation.cleaning", "Preparation: cleaning"),
        ("service_price_min", "Lowest price"),
        ("unknown_field_name", "Unknown field name"),
    ],
)
def test_field_paths_are_named_in_words(path: str, label: str) -> None:
    assert field_label(path) == label
    assert "_" not in field_label(path) and "." not in field_label(path)


def test_states_are_words() -> None:
    assert state_label(OrderStatus.PENDING_PAYMENT) == "Awaiting payment"
    assert state_label("paid", "order") == "Paid"
    assert state_label(GrantStatus.PENDING_APPROVAL) == "Awaiting approval"
    assert state_label("transfer_failed", "payout") == "Payout failed (retrying)"
    for member in [*OrderStatus, *GrantStatus]:
        assert "_" not in state_label(member)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"territory": ["DE", "FR"], "seats": 5},
        {"term": "P1Y6M", "exclusivity": "field", "download_limit": 0},
        {"attribution": {"required": True, "text": "Data by Example Co"}, "governing_law": "US-NY"},
        {
            "liability_cap": {"amount": 1000000, "currency": "EUR"},
            "pii": {"no_reidentification": True, "dpa_required": True},
        },
    ],
)
def test_structured_terms_round_trip(overrides: dict[str, object]) -> None:
    template = licensing.get_template("LicenseRef-standard-commercial-1.0").terms
    effective = template.with_overrides(overrides)
    values = term_form.form_values(effective)
    assert not any(isinstance(v, str) and v.lstrip().startswith("{") for v in values.values())

    def getlist(name: str) -> list[str]:
        value = values.get(name)
        return list(value) if isinstance(value, list) else []

    read = term_form.overrides_from_form(values, getlist, template)
    assert template.with_overrides(read) == effective


def test_a_term_typed_wrongly_is_named_in_words() -> None:
    template = licensing.get_template("LicenseRef-standard-commercial-1.0").terms
    values = {**term_form.form_values(template), "terms.seats": "many", "terms.term": "forever-ish"}
    with pytest.raises(term_form.TermInputError) as caught:
        term_form.overrides_from_form(values, lambda name: list(values.get(name) or []), template)
    assert str(caught.value).startswith(("Seats:", "Term:"))
